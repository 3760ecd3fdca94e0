//! Email-to-ticket over SMTP: delivers a [`Ticket`](super::Ticket). Not implemented yet: it refuses with
//! [`DeliveryError::Unsupported`](super::DeliveryError::Unsupported), so a configured
//! system never reports a delivery that did not happen.

use crate::config::{SmtpSettings, TicketSettings, TicketSystem};

use super::{DeliveryError, Receipt, Ticket};

/// Delivers `ticket` with these settings.
pub async fn deliver(
    _common: &TicketSettings,
    _settings: &SmtpSettings,
    _ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    Err(DeliveryError::Unsupported { system: TicketSystem::Smtp.name() })
}
