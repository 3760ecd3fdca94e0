//! Newtypes and units for protocol quantities shared across layers.
//!
//! A leaf: `platform`, `check`, `analyze` and the report model use these; it imports
//! nothing from the crate.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// The IP address family of a probe: `ipv4` or `ipv6` in reports and metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl IpFamily {
    /// The family of `ip`.
    pub fn of(ip: std::net::IpAddr) -> IpFamily {
        if ip.is_ipv4() { IpFamily::Ipv4 } else { IpFamily::Ipv6 }
    }

    /// The family as it appears in reports and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::Ipv4 => "ipv4",
            IpFamily::Ipv6 => "ipv6",
        }
    }

    /// The family as people write it (`IPv4`, `IPv6`), for messages.
    pub fn name(self) -> &'static str {
        match self {
            IpFamily::Ipv4 => "IPv4",
            IpFamily::Ipv6 => "IPv6",
        }
    }
}

impl std::fmt::Display for IpFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Milliseconds as a float with microsecond precision, for RTTs and latencies in evidence.
pub fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

impl std::str::FromStr for MacAddr {
    type Err = MacParseError;

    /// Reads `aa:bb:cc:dd:ee:ff` (either case; `-` also separates).
    fn from_str(text: &str) -> Result<MacAddr, MacParseError> {
        let mut bytes = [0u8; 6];
        let mut parts = text.split([':', '-']);
        for byte in &mut bytes {
            let part = parts
                .next()
                .filter(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| MacParseError(text.into()))?;
            *byte = u8::from_str_radix(part, 16).map_err(|_| MacParseError(text.into()))?;
        }
        match parts.next() {
            None => Ok(MacAddr(bytes)),
            Some(_) => Err(MacParseError(text.into())),
        }
    }
}

/// A string that is not an `aa:bb:cc:dd:ee:ff` MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a MAC address: {0:?}")]
pub struct MacParseError(pub String);

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A moment in UTC, written as RFC 3339 with milliseconds (`2026-11-24T07:00:00.000Z`), as
/// reports carry their start time. Reading accepts any RFC 3339 UTC form (with or without
/// fractions of a second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub std::time::SystemTime);

impl Timestamp {
    /// Now.
    pub fn now() -> Timestamp {
        Timestamp(std::time::SystemTime::now())
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_rfc3339_millis(self.0))
    }
}

/// A string that is not an RFC 3339 UTC time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 UTC time: {0:?}")]
pub struct TimestampParseError(pub String);

impl std::str::FromStr for Timestamp {
    type Err = TimestampParseError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampParseError> {
        humantime::parse_rfc3339_weak(text).map(Timestamp).map_err(|_| TimestampParseError(text.to_string()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_write_rfc3339_millis_and_read_any_utc_form() {
        let t: Timestamp = "2026-11-24T07:00:00Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-24T07:00:00.000Z");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2026-11-24T07:00:00.000Z\"");
        let back: Timestamp = serde_json::from_str("\"2026-11-24T07:00:00.123Z\"").unwrap();
        assert!(back > t);
        assert!("24.11.2026 06:48".parse::<Timestamp>().is_err());
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn formats_lowercase_colon_separated() {
        let mac = MacAddr::from_slice(&[0xde, 0xad, 0xc0, 0xde, 0xca, 0xfe]).unwrap();
        assert_eq!(mac.to_string(), "de:ad:c0:de:ca:fe");
        assert_eq!(serde_json::to_string(&mac).unwrap(), "\"de:ad:c0:de:ca:fe\"");
        assert!(MacAddr::from_slice(&[1, 2, 3]).is_none());
    }

    #[test]
    fn parses_what_it_prints_and_rejects_the_rest() {
        let mac: MacAddr = serde_json::from_str("\"de:ad:c0:de:ca:fe\"").unwrap();
        assert_eq!(mac, MacAddr([0xde, 0xad, 0xc0, 0xde, 0xca, 0xfe]));
        assert_eq!("DE-AD-C0-DE-CA-FE".parse::<MacAddr>(), Ok(mac));
        for bad in
            ["", "de:ad:c0:de:ca", "de:ad:c0:de:ca:fe:00", "de:ad:c0:de:ca:f", "xx:ad:c0:de:ca:fe", "+e:ad:c0:de:ca:fe"]
        {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
