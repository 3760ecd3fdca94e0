//! Email-to-ticket over SMTP (lettre on tokio, rustls with ring): delivers a
//! [`Ticket`] as one multipart/mixed message, the plain-language body first
//! and every attachment after it (base64, so each arrives byte for byte).
//!
//! STARTTLS is required unless `starttls = false` (a lab, a local relay); the server's
//! certificate is checked against the system's trust store plus `ca_file`. With a
//! `username`, the password is read through [`super::read_secret`] and sent with AUTH
//! PLAIN or LOGIN, only inside TLS. The Message-ID is derived from the ticket's key, so a
//! ticket system that deduplicates on it keeps one ticket however often a ticket is
//! retried. Every step is bounded by `timeout_ms`. Failures become
//! [`DeliveryError`]s naming `host:port` and the [`Step`]: an SMTP
//! 4xx reply is transient, 5xx permanent.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpSettings, TicketSettings, TicketSystem};

use super::{DeliveryError, Receipt, Step, Ticket};

/// The submission port with STARTTLS (RFC 6409).
pub const SUBMISSION_PORT: u16 = 587;
/// The plain SMTP port, used when `starttls = false` and no port is given.
pub const SMTP_PORT: u16 = 25;

/// The longest server reply text kept in an error.
const MAX_REPLY_TEXT: usize = 200;

/// Delivers `ticket` as an email with these settings; the receipt's reference is the
/// Message-ID.
pub async fn deliver(
    common: &TicketSettings,
    settings: &SmtpSettings,
    ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    let port = settings.port.unwrap_or(if settings.starttls { SUBMISSION_PORT } else { SMTP_PORT });
    let endpoint = format!("{}:{port}", settings.server);
    let message_id = message_id(&ticket.key, &settings.from);
    let message = build_message(settings, ticket, &message_id)?;
    let timeout = Duration::from_millis(common.timeout_ms.max(1));

    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.server.as_str())
        .port(port)
        .timeout(Some(timeout));
    builder = builder.tls(if settings.starttls { Tls::Required(tls_parameters(settings)?) } else { Tls::None });
    if common.redact {
        // The greeting would otherwise carry the hostname that the redacted report hides.
        builder = builder.hello_name(ClientId::Domain("nettriage.invalid".into()));
    }
    if let Some(user) = &settings.username {
        let Some(password) = super::read_secret(TicketSystem::Smtp, &settings.secret())? else {
            return Err(config("`username` is set but neither secret_env nor secret_file names the password".into()));
        };
        builder = builder
            .credentials(Credentials::new(user.clone(), password))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    let transport = builder.build();
    // lettre bounds each socket operation; this bounds the whole conversation (connect,
    // STARTTLS, AUTH, DATA) by twice that, so a server that trickles cannot hold it.
    let sent = tokio::time::timeout(timeout * 2, transport.send(message)).await;
    match sent {
        Err(_) => Err(DeliveryError::Transport {
            endpoint,
            step: Step::Send,
            message: format!("no answer within {} ms", timeout.as_millis() * 2),
        }),
        Ok(Err(e)) => Err(map_error(&endpoint, &e)),
        Ok(Ok(_)) => {
            tracing::info!(%endpoint, key = %ticket.key, "ticket sent by email");
            Ok(Receipt { system: TicketSystem::Smtp, reference: message_id })
        }
    }
}

/// A configuration error of the SMTP system.
fn config(message: String) -> DeliveryError {
    DeliveryError::Config { system: TicketSystem::Smtp.name(), message }
}

/// `<nettriage.KEY@DOMAIN>` with the domain of the sender's address (`localhost` if it has
/// none): the same for every retry of one ticket.
pub fn message_id(key: &str, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or("localhost");
    format!("<nettriage.{key}@{domain}>")
}

/// The message: From, To, Subject, Message-ID, and a multipart/mixed body of the text and
/// every attachment (base64).
pub fn build_message(settings: &SmtpSettings, ticket: &Ticket, message_id: &str) -> Result<Message, DeliveryError> {
    let from: Mailbox =
        settings.from.parse().map_err(|e| config(format!("`from` = {:?} is not an address: {e}", settings.from)))?;
    if settings.to.is_empty() {
        return Err(config("`to` names no address".into()));
    }
    let mut builder =
        Message::builder().from(from).subject(ticket.subject.clone()).message_id(Some(message_id.to_string()));
    for to in &settings.to {
        let mailbox: Mailbox = to.parse().map_err(|e| config(format!("`to` address {to:?} is not an address: {e}")))?;
        builder = builder.to(mailbox);
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(ticket.body_text.clone()));
    for a in &ticket.attachments {
        let content_type = ContentType::parse(&a.content_type)
            .or_else(|_| ContentType::parse("application/octet-stream"))
            .map_err(|e| config(format!("attachment {}: content type: {e}", a.name)))?;
        let body = Body::new_with_encoding(a.bytes.clone(), ContentTransferEncoding::Base64)
            .map_err(|_| config(format!("attachment {} cannot be encoded", a.name)))?;
        parts = parts.singlepart(lettre::message::Attachment::new(a.name.clone()).body(body, content_type));
    }
    builder.multipart(parts).map_err(|e| config(format!("the message cannot be built: {e}")))
}

/// STARTTLS parameters: the system's trust store, plus the certificates of `ca_file`.
fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, DeliveryError> {
    let mut builder = TlsParameters::builder(settings.server.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|e| config(format!("cannot read ca_file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| config(format!("ca_file {} holds no usable PEM certificate: {e}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| config(format!("TLS settings: {e}")))
}

/// A lettre error as a [`DeliveryError`]: reply codes by class and step, TLS, timeouts
/// and the connection by what failed.
fn map_error(endpoint: &str, e: &lettre::transport::smtp::Error) -> DeliveryError {
    let endpoint = endpoint.to_string();
    let text = chain(e);
    if let Some(code) = e.status() {
        let code = u16::from(code);
        // 530/534/535/538 (RFC 4954) and 454 answer AUTH.
        let step = if matches!(code, 454 | 530 | 534 | 535 | 538) { Step::Authenticate } else { Step::Send };
        return DeliveryError::Refused { endpoint, step, code, message: text.chars().take(MAX_REPLY_TEXT).collect() };
    }
    if e.is_tls() {
        return DeliveryError::Transport { endpoint, step: Step::Tls, message: text };
    }
    if e.is_timeout() {
        return DeliveryError::Transport { endpoint, step: Step::Connect, message: format!("timed out: {text}") };
    }
    if e.is_client() {
        // Nothing the network will change: no common AUTH mechanism, a refused address.
        return config(format!("{endpoint}: {text}"));
    }
    DeliveryError::Transport { endpoint, step: Step::Connect, message: text }
}

/// An error and its sources, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::Attachment;

    fn settings() -> SmtpSettings {
        SmtpSettings {
            server: "mail.example.org".into(),
            port: None,
            starttls: true,
            from: "nettriage@example.org".into(),
            to: vec!["help@example.org".into()],
            ca_file: None,
            username: None,
            secret_env: None,
            secret_file: None,
        }
    }

    fn ticket() -> Ticket {
        Ticket {
            key: "0123abcd".into(),
            subject: "nettriage: broken dns.timeout on desk/eth0".into(),
            body_text: "Your computer is connected, but names do not resolve.\n".into(),
            body_markdown: "**broken**".into(),
            attachments: vec![Attachment {
                name: "r.html".into(),
                content_type: "text/html; charset=utf-8".into(),
                bytes: b"<html>\r\n\n=x\n</html>".to_vec(),
            }],
        }
    }

    #[test]
    fn message_id_is_derived_from_the_key_and_the_senders_domain() {
        assert_eq!(message_id("k1", "nettriage@example.org"), "<nettriage.k1@example.org>");
        assert_eq!(message_id("k1", "NT <nt@help.example.org>"), "<nettriage.k1@help.example.org>");
        assert_eq!(message_id("k1", "nobody"), "<nettriage.k1@localhost>");
        assert_eq!(message_id("k1", "x@bad domain"), "<nettriage.k1@localhost>");
    }

    #[test]
    fn message_is_multipart_mixed_with_the_key_as_message_id() {
        let id = message_id("0123abcd", "nettriage@example.org");
        let formatted = String::from_utf8(build_message(&settings(), &ticket(), &id).unwrap().formatted()).unwrap();
        assert!(formatted.contains("Message-ID: <nettriage.0123abcd@example.org>"));
        assert!(formatted.contains("multipart/mixed"));
        assert!(formatted.contains("Content-Transfer-Encoding: base64"));
        assert!(formatted.contains("filename=\"r.html\""));
    }

    #[test]
    fn bad_addresses_are_configuration_errors() {
        let id = message_id("k", "x@example.org");
        let bad_from = SmtpSettings { from: "not an address".into(), ..settings() };
        assert!(build_message(&bad_from, &ticket(), &id).unwrap_err().is_config());
        let no_to = SmtpSettings { to: vec![], ..settings() };
        assert!(build_message(&no_to, &ticket(), &id).unwrap_err().is_config());
        let bad_to = SmtpSettings { to: vec!["@@".into()], ..settings() };
        assert!(build_message(&bad_to, &ticket(), &id).unwrap_err().is_config());
    }

    #[tokio::test]
    async fn username_without_a_secret_is_a_configuration_error() {
        let s = SmtpSettings { username: Some("nt".into()), ..settings() };
        let e = deliver(&TicketSettings::default(), &s, &ticket()).await.unwrap_err();
        assert!(e.is_config());
    }

    #[tokio::test]
    async fn a_missing_ca_file_is_a_configuration_error() {
        let s = SmtpSettings { ca_file: Some("/nonexistent/ca.pem".into()), ..settings() };
        let e = deliver(&TicketSettings::default(), &s, &ticket()).await.unwrap_err();
        assert!(e.is_config());
    }
}
