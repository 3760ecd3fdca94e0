//! Zendesk Support API: delivers a [`Ticket`] as a new ticket, or as a
//! comment on an existing one (`[ticket.zendesk] ticket = N`), the files uploaded first and
//! referenced by their tokens. The HTTP client, credential and error mapping are
//! `super::http`.
//!
//! Requests (<https://developer.zendesk.com/api-reference/ticketing/introduction/>):
//! - Auth: `Authorization: Basic base64(<email>/token:<api token>)` (API token auth).
//! - Search before create: `GET /api/v2/tickets?external_id=<key>` (List Tickets by
//!   external id); 200 `{"tickets": [{"id"}]}`.
//! - Upload: `POST /api/v2/uploads?filename=<name>`, the raw bytes as the body with the
//!   file's `Content-Type`; 201 `{"upload": {"token"}}`
//!   (<https://developer.zendesk.com/api-reference/ticketing/tickets/ticket-attachments/>).
//! - Create: `POST /api/v2/tickets` with `Idempotency-Key: <key>`, JSON `{"ticket":
//!   {"subject", "external_id", "comment": {"body", "uploads": [tokens]}}}`; 201
//!   `{"ticket": {"id"}}`.
//! - Update: `PUT /api/v2/tickets/{id}`, JSON `{"ticket": {"comment": {"body",
//!   "uploads"}}}`; 200.
//!
//! Idempotency: Zendesk honours an `Idempotency-Key` header on ticket creation (a retry
//! with the same key and body within its window gets the first answer). Since a retry
//! uploads again and so sends other upload tokens, the key alone could be refused as a
//! mismatch; so the ticket also carries `external_id = <key>` and the search by external id
//! runs before anything is uploaded: a ticket found is the receipt. An update of an
//! existing ticket is not deduplicated.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::config::{TicketSettings, TicketSystem, ZendeskSettings};

use super::http::{self, Auth, Http};
use super::{DeliveryError, Receipt, Step, Ticket};

/// Delivers `ticket` with these settings: a comment on `settings.ticket` when set, else a
/// new ticket (unless one with the key as external id exists already).
pub async fn deliver(
    common: &TicketSettings,
    settings: &ZendeskSettings,
    ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    let secret = http::read_secret(TicketSystem::Zendesk, &settings.secret())?;
    let auth = Auth::Basic { user: format!("{}/token", settings.email), secret };
    let client = Http::new(common, TicketSystem::Zendesk, &settings.url, auth)?;
    let sendable = http::sendable(common, ticket);
    let key = http::safe_key(&ticket.key);

    if settings.ticket.is_none()
        && let Some(existing) = find(&client, &key).await?
    {
        tracing::info!(ticket = %existing, "Zendesk: a ticket with this key exists; not creating another");
        return Ok(Receipt { system: TicketSystem::Zendesk, reference: existing });
    }

    let mut tokens = Vec::new();
    for a in &sendable.attachments {
        let url = client.url(&["api", "v2", "uploads"], &[("filename", &a.name)]);
        let request = client.request(Method::POST, url)?.header(CONTENT_TYPE, &a.content_type).body(a.bytes.clone());
        let reply = client.send(Step::Upload, request).await?;
        let answer: Value = reply.json()?;
        let token = answer
            .pointer("/upload/token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| reply.unexpected("no upload.token in the answer"))?;
        tokens.push(token.to_string());
    }
    let comment = json!({ "body": sendable.body(&ticket.body_text), "uploads": tokens });

    let (step, request) = match settings.ticket {
        Some(id) => {
            let url = client.url(&["api", "v2", "tickets", &id.to_string()], &[]);
            let body = json!({ "ticket": { "comment": comment } });
            (Step::Update, client.request(Method::PUT, url)?.json(&body))
        }
        None => {
            let url = client.url(&["api", "v2", "tickets"], &[]);
            let body = json!({ "ticket": { "subject": ticket.subject, "external_id": key, "comment": comment } });
            (Step::Create, client.request(Method::POST, url)?.header("Idempotency-Key", &key).json(&body))
        }
    };
    let reply = client.send(step, request).await?;
    let answer: Value = reply.json()?;
    let id = answer
        .pointer("/ticket/id")
        .and_then(Value::as_u64)
        .ok_or_else(|| reply.unexpected("no ticket.id in the answer"))?;
    tracing::info!(ticket = id, "Zendesk: ticket {}", if step == Step::Create { "created" } else { "updated" });
    Ok(Receipt { system: TicketSystem::Zendesk, reference: id.to_string() })
}

/// The id of a ticket whose external id is `key`, if any.
async fn find(client: &Http, key: &str) -> Result<Option<String>, DeliveryError> {
    let url = client.url(&["api", "v2", "tickets"], &[("external_id", key)]);
    let reply = client.send(Step::Create, client.request(Method::GET, url)?).await?;
    let answer: Value = reply.json()?;
    let tickets = answer
        .get("tickets")
        .and_then(Value::as_array)
        .ok_or_else(|| reply.unexpected("no tickets list in the search answer"))?;
    Ok(tickets.first().and_then(|t| t.get("id")).and_then(Value::as_u64).map(|id| id.to_string()))
}
