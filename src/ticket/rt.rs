//! Request Tracker REST2: delivers a [`Ticket`] as a new RT ticket, or as a
//! comment on an existing one (`[ticket.rt] ticket = N`), with the attachments inline.
//! The HTTP client, credential and error mapping are `super::http`.
//!
//! Requests (RT 5 REST2, <https://docs.bestpractical.com/rt/5.0.3/RT/REST2.html>, also
//! the POD of `RT::REST2` shipped in request-tracker5; checked against a real RT 5.0.3 in
//! `tests/lab_rt.rs`):
//! - `Authorization: token <auth token>` on every request (RT's auth tokens).
//! - `GET /REST/2.0/tickets?query=<TicketSQL>&fields=id`: the search before a create.
//! - `POST /REST/2.0/ticket`, JSON `{"Queue", "Subject", "Content", "ContentType":
//!   "text/plain", "Attachments": [{"FileName", "FileType", "FileContent": base64}]}`;
//!   201 `{"id": "N", "type": "ticket", "_url": ...}`.
//! - `POST /REST/2.0/ticket/N/comment`, JSON `{"Subject", "Content", "ContentType",
//!   "Attachments"}`; 201 with a list of messages.
//!
//! Idempotency: RT has no idempotency header, and a custom field would need set-up on the
//! RT side; so the subject carries the key (`... [nettriage <key>]`, unless it already
//! holds it) and a TicketSQL search `Subject LIKE '<key>'` (all queues, all statuses) runs
//! before every create: a ticket found is the receipt, nothing is created twice. A comment
//! on an existing ticket is not deduplicated (a comment retried after a lost answer is
//! added again).

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::config::{RtSettings, TicketSettings, TicketSystem};

use super::http::{self, Auth, Http};
use super::{DeliveryError, Receipt, Step, Ticket};

/// Delivers `ticket` with these settings: a comment on `settings.ticket` when set, else a
/// new ticket in `settings.queue` (unless one carrying the key exists already).
pub async fn deliver(
    common: &TicketSettings,
    settings: &RtSettings,
    ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    let secret = http::read_secret(TicketSystem::Rt, &settings.secret())?;
    let client = Http::new(common, TicketSystem::Rt, &settings.url, Auth::Token(secret))?;
    let sendable = http::sendable(common, ticket);
    let attachments: Vec<Value> = sendable
        .attachments
        .iter()
        .map(|a| {
            json!({
                "FileName": a.name,
                "FileType": a.content_type,
                "FileContent": base64::engine::general_purpose::STANDARD.encode(&a.bytes),
            })
        })
        .collect();
    let content = sendable.body(&ticket.body_text);

    if let Some(number) = settings.ticket {
        let url = client.url(&["REST", "2.0", "ticket", &number.to_string(), "comment"], &[]);
        let body = json!({
            "Subject": ticket.subject,
            "Content": content,
            "ContentType": "text/plain",
            "Attachments": attachments,
        });
        client.send(Step::Update, client.request(Method::POST, url)?.json(&body)).await?;
        tracing::info!(ticket = number, "RT: comment added");
        return Ok(Receipt { system: TicketSystem::Rt, reference: number.to_string() });
    }

    let key = http::safe_key(&ticket.key);
    if let Some(existing) = find(&client, &key).await? {
        tracing::info!(ticket = %existing, "RT: a ticket with this key exists; not creating another");
        return Ok(Receipt { system: TicketSystem::Rt, reference: existing });
    }
    let subject = subject_with_key(&ticket.subject, &key);
    let body = json!({
        "Queue": settings.queue,
        "Subject": subject,
        "Content": content,
        "ContentType": "text/plain",
        "Attachments": attachments,
    });
    let url = client.url(&["REST", "2.0", "ticket"], &[]);
    let reply = client.send(Step::Create, client.request(Method::POST, url)?.json(&body)).await?;
    let answer: Value = reply.json()?;
    let id = id_of(&answer).ok_or_else(|| reply.unexpected("no ticket id in the answer"))?;
    tracing::info!(ticket = %id, "RT: ticket created");
    Ok(Receipt { system: client.system(), reference: id })
}

/// The subject RT gets: the ticket's, with `[nettriage <key>]` appended unless it holds
/// the key already.
fn subject_with_key(subject: &str, key: &str) -> String {
    if subject.contains(key) { subject.to_string() } else { format!("{subject} [nettriage {key}]") }
}

/// The id of a ticket whose subject holds `key`, if any.
async fn find(client: &Http, key: &str) -> Result<Option<String>, DeliveryError> {
    // `key` is `[A-Za-z0-9._-]` only (safe_key), so it needs no TicketSQL escaping.
    let query = format!("Subject LIKE '{key}'");
    let url = client.url(&["REST", "2.0", "tickets"], &[("query", &query), ("fields", "id"), ("per_page", "1")]);
    let reply = client.send(Step::Create, client.request(Method::GET, url)?).await?;
    let answer: Value = reply.json()?;
    let items = answer
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| reply.unexpected("no items in the search answer"))?;
    Ok(items.first().and_then(id_of))
}

/// `id` of a REST2 object: RT answers it as a string or a number.
fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_carries_the_key_once() {
        assert_eq!(subject_with_key("dns.fail", "r1"), "dns.fail [nettriage r1]");
        assert_eq!(subject_with_key("dns.fail (report r1)", "r1"), "dns.fail (report r1)");
    }

    #[test]
    fn ids_as_strings_or_numbers() {
        assert_eq!(id_of(&json!({"id": "12"})).as_deref(), Some("12"));
        assert_eq!(id_of(&json!({"id": 12})).as_deref(), Some("12"));
        assert_eq!(id_of(&json!({"id": ""})), None);
        assert_eq!(id_of(&json!({"id": null})), None);
        assert_eq!(id_of(&json!([])), None);
    }
}
