//! Jira REST API: delivers a [`Ticket`](super::Ticket). Not implemented yet: it refuses with
//! [`DeliveryError::Unsupported`](super::DeliveryError::Unsupported), so a configured
//! system never reports a delivery that did not happen.

use crate::config::{JiraSettings, TicketSettings, TicketSystem};

use super::{DeliveryError, Receipt, Ticket};

/// Delivers `ticket` with these settings.
pub async fn deliver(
    _common: &TicketSettings,
    _settings: &JiraSettings,
    _ticket: &Ticket,
) -> Result<Receipt, DeliveryError> {
    Err(DeliveryError::Unsupported { system: TicketSystem::Jira.name() })
}
