//! Jira REST API (Cloud and Data Center, v2): delivers a [`Ticket`] as a new
//! issue, or as a comment on an existing one (`[ticket.jira] issue = "PROJ-123"`), then
//! attaches the files. The HTTP client, credential and error mapping are `super::http`.
//!
//! Requests (<https://developer.atlassian.com/cloud/jira/platform/rest/v2/>, the same paths
//! on Data Center <https://docs.atlassian.com/software/jira/docs/api/REST/latest/>):
//! - Auth: `Authorization: Basic base64(email:api-token)` on Cloud (`user` set), `Bearer
//!   <personal access token>` on Data Center (`user` unset).
//! - Search before create: `GET /rest/api/2/search/jql?jql=...&fields=key` on Cloud (the
//!   old `/search` is gone there, Atlassian CHANGE-2046), `GET /rest/api/2/search?jql=...`
//!   on Data Center; both answer `{"issues": [{"key": ...}]}`.
//! - Create: `POST /rest/api/2/issue`, JSON `{"fields": {"project": {"key"}, "summary",
//!   "description", "issuetype": {"name"}, "labels"}}`; 201 `{"id", "key", "self"}`.
//! - Comment: `POST /rest/api/2/issue/{key}/comment`, JSON `{"body"}`; 201.
//! - Attachments present: `GET /rest/api/2/issue/{key}?fields=attachment`.
//! - Attach: `POST /rest/api/2/issue/{key}/attachments`, `X-Atlassian-Token: no-check`
//!   (else Jira's XSRF check blocks it), `multipart/form-data` with the file in a part named
//!   `file`; 200 with the attachments' list. One request per file.
//!
//! Idempotency: Jira has no idempotency header. New issues carry the label
//! `nettriage-<key>`, and a JQL search `labels = "nettriage-<key>"` runs first: an issue
//! found is the receipt, and only its missing attachments (by file name) are uploaded, so a
//! delivery cut between the create and the uploads completes on retry without a second
//! issue. A comment on an existing issue is not deduplicated.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::config::{JiraSettings, TicketSettings, TicketSystem};

use super::http::{self, Auth, Http};
use super::{DeliveryError, Receipt, Step, Ticket};

/// Jira's bound on `summary`.
const SUMMARY_MAX: usize = 255;

/// Delivers `ticket` with these settings: a comment and attachments on `settings.issue`
/// when set, else a new issue in `settings.project` (unless one labelled with the key
/// exists already).
pub async fn deliver(
    common: &TicketSettings,
    settings: &JiraSettings,
    ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    let config = |message: &str| DeliveryError::Config { system: TicketSystem::Jira.name(), message: message.into() };
    if settings.issue.is_none() && settings.project.is_none() {
        return Err(config("[ticket.jira] needs project (new issues) or issue (comment on one)"));
    }
    let secret = http::read_secret(TicketSystem::Jira, &settings.secret())?;
    let cloud = settings.user.is_some();
    let auth = match &settings.user {
        Some(user) => Auth::Basic { user: user.clone(), secret },
        None => Auth::Bearer(secret),
    };
    let client = Http::new(common, TicketSystem::Jira, &settings.url, auth)?;
    let sendable = http::sendable(common, ticket);
    let text = sendable.body(&ticket.body_text);

    // `resumed`: an issue from an earlier, interrupted delivery; upload only what it lacks.
    let (key, resumed) = if let Some(issue) = &settings.issue {
        let url = client.url(&["rest", "api", "2", "issue", issue, "comment"], &[]);
        let body = json!({ "body": format!("{}\n\n{text}", ticket.subject) });
        client.send(Step::Update, client.request(Method::POST, url)?.json(&body)).await?;
        tracing::info!(issue = %issue, "Jira: comment added");
        (issue.clone(), false)
    } else {
        let label = format!("nettriage-{}", http::safe_key(&ticket.key));
        match find(&client, cloud, &label).await? {
            Some(found) => {
                tracing::info!(issue = %found, "Jira: an issue with this key exists; not creating another");
                (found, true)
            }
            None => (create(&client, settings, ticket, &text, &label).await?, false),
        }
    };

    let present = if resumed { attachment_names(&client, &key).await? } else { Vec::new() };
    for a in sendable.attachments.iter().filter(|a| !present.contains(&a.name)) {
        let url = client.url(&["rest", "api", "2", "issue", &key, "attachments"], &[]);
        let part = Part::bytes(a.bytes.clone())
            .file_name(a.name.clone())
            .mime_str(&a.content_type)
            .map_err(|_| config(&format!("attachment {}: bad content type {:?}", a.name, a.content_type)))?;
        let request = client
            .request(Method::POST, url)?
            .header("X-Atlassian-Token", "no-check")
            .multipart(Form::new().part("file", part));
        client.send(Step::Upload, request).await?;
    }
    Ok(Receipt { system: TicketSystem::Jira, reference: key })
}

/// The key of an issue labelled `label`, if any.
async fn find(client: &Http, cloud: bool, label: &str) -> Result<Option<String>, DeliveryError> {
    let jql = format!("labels = \"{label}\"");
    let query = [("jql", jql.as_str()), ("fields", "key"), ("maxResults", "1")];
    let url = if cloud {
        client.url(&["rest", "api", "2", "search", "jql"], &query)
    } else {
        client.url(&["rest", "api", "2", "search"], &query)
    };
    let reply = client.send(Step::Create, client.request(Method::GET, url)?).await?;
    let answer: Value = reply.json()?;
    let issues = answer
        .get("issues")
        .and_then(Value::as_array)
        .ok_or_else(|| reply.unexpected("no issues in the search answer"))?;
    Ok(issues.first().and_then(|i| i.get("key")).and_then(Value::as_str).map(str::to_string))
}

/// Creates the issue; its key.
async fn create(
    client: &Http,
    settings: &JiraSettings,
    ticket: &Ticket,
    text: &str,
    label: &str,
) -> Result<String, DeliveryError> {
    let project = settings.project.as_deref().unwrap_or_default();
    let body = json!({
        "fields": {
            "project": { "key": project },
            "summary": http::truncate_chars(&ticket.subject, SUMMARY_MAX),
            "description": text,
            "issuetype": { "name": settings.issue_type },
            "labels": [label],
        }
    });
    let url = client.url(&["rest", "api", "2", "issue"], &[]);
    let reply = client.send(Step::Create, client.request(Method::POST, url)?.json(&body)).await?;
    let answer: Value = reply.json()?;
    let key = answer
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| reply.unexpected("no issue key in the answer"))?;
    tracing::info!(issue = %key, "Jira: issue created");
    Ok(key.to_string())
}

/// File names of the attachments issue `key` has.
async fn attachment_names(client: &Http, key: &str) -> Result<Vec<String>, DeliveryError> {
    let url = client.url(&["rest", "api", "2", "issue", key], &[("fields", "attachment")]);
    let reply = client.send(Step::Upload, client.request(Method::GET, url)?).await?;
    let answer: Value = reply.json()?;
    Ok(answer
        .pointer("/fields/attachment")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|a| a.get("filename").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default())
}
