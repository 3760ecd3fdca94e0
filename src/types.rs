//! Newtypes and units for protocol quantities shared across layers.
//!
//! A leaf: `platform`, `check`, `analyze` and the report model use these; it imports
//! nothing from the crate.

use serde::{Serialize, Serializer};

/// An Ethernet (EUI-48) address, shown as `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Reads six bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
    }

    /// The all-zero address some virtual links report.
    pub fn is_zero(self) -> bool {
        self.0 == [0; 6]
    }
}

impl std::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Milliseconds as a float with microsecond precision, for RTTs and latencies in evidence.
pub fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_lowercase_colon_separated() {
        let mac = MacAddr::from_slice(&[0xde, 0xad, 0xc0, 0xde, 0xca, 0xfe]).unwrap();
        assert_eq!(mac.to_string(), "de:ad:c0:de:ca:fe");
        assert_eq!(serde_json::to_string(&mac).unwrap(), "\"de:ad:c0:de:ca:fe\"");
        assert!(MacAddr::from_slice(&[1, 2, 3]).is_none());
    }
}
