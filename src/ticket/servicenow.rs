//! ServiceNow Table and Attachment APIs: delivers a [`Ticket`] as a new
//! incident, then attaches the files one request each. The HTTP client, credential and
//! error mapping are `super::http`.
//!
//! Requests (ServiceNow REST API reference: Table API
//! <https://docs.servicenow.com/bundle/utah-api-reference/page/integrate/inbound-rest/concept/c_TableAPI.html>,
//! Attachment API `POST /now/attachment/file`
//! <https://docs.servicenow.com/bundle/utah-api-reference/page/integrate/inbound-rest/concept/c_AttachmentAPI.html>):
//! - Auth: `Authorization: Basic base64(user:password)`; `Accept: application/json`.
//! - Search before create: `GET /api/now/table/incident?sysparm_query=correlation_id=<key>
//!   &sysparm_fields=sys_id,number&sysparm_limit=1`; 200 `{"result": [...]}`.
//! - Create: `POST /api/now/table/incident`, JSON `{"short_description", "description",
//!   "correlation_id", "correlation_display", "assignment_group"?}`; 201 `{"result":
//!   {"sys_id", "number", ...}}`.
//! - Attachments present: `GET /api/now/attachment?sysparm_query=table_name=incident^
//!   table_sys_id=<id>&sysparm_fields=file_name`.
//! - Attach: `POST /api/now/attachment/file?table_name=incident&table_sys_id=<id>
//!   &file_name=<name>`, the raw bytes as the body with the file's `Content-Type` (the
//!   header is mandatory); 201.
//!
//! Idempotency: ServiceNow has no idempotency header; the incident's `correlation_id` (the
//! field meant for an external system's identifier) carries the key, `correlation_display`
//! says `nettriage`, and the search runs before a create: an incident found is the receipt
//! and only its missing attachments (by file name) are uploaded.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::config::{ServiceNowSettings, TicketSettings, TicketSystem};

use super::http::{self, Auth, Http};
use super::{DeliveryError, Receipt, Step, Ticket};

/// ServiceNow's default bound on an incident's `short_description`.
const SHORT_DESCRIPTION_MAX: usize = 160;

/// Delivers `ticket` with these settings: a new incident (unless one correlated with the
/// key exists already), then its attachments.
pub async fn deliver(
    common: &TicketSettings,
    settings: &ServiceNowSettings,
    ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    let secret = http::read_secret(TicketSystem::Servicenow, &settings.secret())?;
    let auth = Auth::Basic { user: settings.user.clone(), secret };
    let client = Http::new(common, TicketSystem::Servicenow, &settings.url, auth)?;
    let sendable = http::sendable(common, ticket);
    let key = http::safe_key(&ticket.key);

    let (incident, resumed) = match find(&client, &key).await? {
        Some(found) => {
            tracing::info!(incident = %found.number, "ServiceNow: an incident with this key exists; not creating another");
            (found, true)
        }
        None => {
            let mut record = json!({
                "short_description": http::truncate_chars(&ticket.subject, SHORT_DESCRIPTION_MAX),
                "description": sendable.body(&format!("{}\n\n{}", ticket.subject, ticket.body_text)),
                "correlation_id": key,
                "correlation_display": "nettriage",
            });
            if let Some(group) = &settings.assignment_group {
                record["assignment_group"] = json!(group);
            }
            let url = client.url(&["api", "now", "table", "incident"], &[]);
            let reply = client.send(Step::Create, client.request(Method::POST, url)?.json(&record)).await?;
            let answer: Value = reply.json()?;
            let incident = Incident::from(answer.get("result").unwrap_or(&Value::Null))
                .ok_or_else(|| reply.unexpected("no result.sys_id or result.number in the answer"))?;
            tracing::info!(incident = %incident.number, "ServiceNow: incident created");
            (incident, false)
        }
    };

    let present = if resumed { attachment_names(&client, &incident.sys_id).await? } else { Vec::new() };
    for a in sendable.attachments.iter().filter(|a| !present.contains(&a.name)) {
        let url = client.url(
            &["api", "now", "attachment", "file"],
            &[("table_name", "incident"), ("table_sys_id", &incident.sys_id), ("file_name", &a.name)],
        );
        let request = client.request(Method::POST, url)?.header(CONTENT_TYPE, &a.content_type).body(a.bytes.clone());
        client.send(Step::Upload, request).await?;
    }
    Ok(Receipt { system: TicketSystem::Servicenow, reference: incident.number })
}

/// An incident's identifiers.
struct Incident {
    sys_id: String,
    number: String,
}

impl Incident {
    fn from(v: &Value) -> Option<Incident> {
        let field = |name: &str| v.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        Some(Incident { sys_id: field("sys_id")?, number: field("number")? })
    }
}

/// The incident correlated with `key`, if any.
async fn find(client: &Http, key: &str) -> Result<Option<Incident>, DeliveryError> {
    // `key` is `[A-Za-z0-9._-]` only (safe_key): no `^` or `=` to break the encoded query.
    let query = format!("correlation_id={key}");
    let url = client.url(
        &["api", "now", "table", "incident"],
        &[("sysparm_query", &query), ("sysparm_fields", "sys_id,number"), ("sysparm_limit", "1")],
    );
    let reply = client.send(Step::Create, client.request(Method::GET, url)?).await?;
    let answer: Value = reply.json()?;
    let list = answer
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| reply.unexpected("no result list in the search answer"))?;
    Ok(list.first().and_then(Incident::from))
}

/// File names of the attachments incident `sys_id` has.
async fn attachment_names(client: &Http, sys_id: &str) -> Result<Vec<String>, DeliveryError> {
    let query = format!("table_name=incident^table_sys_id={sys_id}");
    let url = client.url(&["api", "now", "attachment"], &[("sysparm_query", &query), ("sysparm_fields", "file_name")]);
    let reply = client.send(Step::Upload, client.request(Method::GET, url)?).await?;
    let answer: Value = reply.json()?;
    Ok(answer
        .get("result")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter().filter_map(|a| a.get("file_name").and_then(Value::as_str).map(str::to_string)).collect()
        })
        .unwrap_or_default())
}
