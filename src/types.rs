//! Newtypes for protocol quantities shared across layers.

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
