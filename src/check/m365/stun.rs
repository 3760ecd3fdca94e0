//! STUN (RFC 5389) as far as the `m365` profile's media probe needs it: the 20-byte
//! Binding Request ([`binding_request`]) and the decoder of the answer's header and the
//! attributes a technician reads ([`decode_response`]: XOR-MAPPED-ADDRESS, MAPPED-ADDRESS,
//! ERROR-CODE, SOFTWARE).
//!
//! Hand-written on purpose: the request is a constant header with a random transaction id,
//! and the answer needs a bounded, allocation-light header check plus three attributes; the
//! STUN crates on crates.io (stun_codec, stun-rs, webrtc-stun) carry full TURN/ICE codecs,
//! their own byte-buffer and error stacks and newer MSRVs than this crate's. Bytes come from
//! the network, so the decoder never panics, reads at most [`MAX_ATTRIBUTES`] attributes
//! and is fuzzed (`fuzz/fuzz_targets/stun_response.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// The magic cookie of every RFC 5389 message (section 6).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// The STUN header's length.
pub const HEADER_LEN: usize = 20;
/// Attributes read from one answer at most (the rest are ignored).
pub const MAX_ATTRIBUTES: usize = 32;
/// Characters of SOFTWARE kept.
pub const MAX_SOFTWARE_CHARS: usize = 64;

const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const BINDING_ERROR: u16 = 0x0111;
const ATTR_MAPPED_ADDRESS: u16 = 0x0001;
const ATTR_ERROR_CODE: u16 = 0x0009;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ATTR_SOFTWARE: u16 = 0x8022;

/// A STUN transaction id (96 bits, RFC 5389 section 6).
pub type TransactionId = [u8; 12];

/// A Binding Request with no attributes: type 0x0001, length 0, the magic cookie and
/// `id`.
pub fn binding_request(id: &TransactionId) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0..2].copy_from_slice(&BINDING_REQUEST.to_be_bytes());
    out[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out[8..20].copy_from_slice(id);
    out
}

/// The class of a Binding answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StunClass {
    /// Binding success response (0x0101).
    Success,
    /// Binding error response (0x0111): still proof the relay got the request.
    Error,
}

/// What a Binding answer says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StunResponse {
    /// Success or error.
    pub class: StunClass,
    /// The address and port the relay saw the request come from (XOR-MAPPED-ADDRESS, else
    /// MAPPED-ADDRESS): this machine's public side of the NAT.
    #[serde(default)]
    pub mapped: Option<SocketAddr>,
    /// ERROR-CODE (class × 100 + number, 300 to 699), for an error response.
    #[serde(default)]
    pub error_code: Option<u16>,
    /// SOFTWARE, the relay's own description (at most [`MAX_SOFTWARE_CHARS`] characters).
    #[serde(default)]
    pub software: Option<String>,
}

/// Why bytes are not the answer to our request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    /// Shorter than the 20-byte header, or than the length the header gives.
    #[error("truncated STUN message")]
    Truncated,
    /// Not a STUN message (the top two bits, the cookie, or a length that is not a
    /// multiple of 4).
    #[error("not a STUN message")]
    NotStun,
    /// A STUN message, but not a Binding response.
    #[error("STUN message type {0:#06x} is not a Binding response")]
    NotBindingResponse(u16),
    /// An answer to another transaction.
    #[error("answer to another transaction")]
    OtherTransaction,
}

/// Decodes the answer to the Binding Request `id` (pure; never panics).
pub fn decode_response(bytes: &[u8], id: &TransactionId) -> Result<StunResponse, StunError> {
    let header = bytes.get(..HEADER_LEN).ok_or(StunError::Truncated)?;
    let kind = u16::from_be_bytes([header[0], header[1]]);
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let cookie = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if kind & 0xC000 != 0 || cookie != MAGIC_COOKIE || length % 4 != 0 {
        return Err(StunError::NotStun);
    }
    let class = match kind {
        BINDING_SUCCESS => StunClass::Success,
        BINDING_ERROR => StunClass::Error,
        other => return Err(StunError::NotBindingResponse(other)),
    };
    if header[8..20] != id[..] {
        return Err(StunError::OtherTransaction);
    }
    let body = bytes.get(HEADER_LEN..HEADER_LEN + length).ok_or(StunError::Truncated)?;
    let mut response = StunResponse { class, mapped: None, error_code: None, software: None };
    let mut plain_mapped = None;
    let mut rest = body;
    for _ in 0..MAX_ATTRIBUTES {
        let Some(head) = rest.get(..4) else { break };
        let attr = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let Some(value) = rest.get(4..4 + len) else { break };
        match attr {
            ATTR_XOR_MAPPED_ADDRESS => response.mapped = response.mapped.or(address(value, Some(id))),
            ATTR_MAPPED_ADDRESS => plain_mapped = plain_mapped.or(address(value, None)),
            ATTR_ERROR_CODE if value.len() >= 4 => {
                // Class 3 to 6 and a number under 100 (section 15.6); anything else is not
                // an error code.
                let class = u16::from(value[2] & 0x07);
                let number = u16::from(value[3]);
                if (3..=6).contains(&class) && number < 100 {
                    response.error_code = Some(class * 100 + number);
                }
            }
            ATTR_SOFTWARE => {
                let text = String::from_utf8_lossy(value);
                response.software = Some(text.chars().filter(|c| !c.is_control()).take(MAX_SOFTWARE_CHARS).collect());
            }
            _ => {}
        }
        // Values are padded to a multiple of 4 (section 15).
        let padded = (4 + len).div_ceil(4) * 4;
        rest = rest.get(padded..).unwrap_or_default();
    }
    response.mapped = response.mapped.or(plain_mapped);
    Ok(response)
}

/// A (XOR-)MAPPED-ADDRESS value: family 1 (IPv4) or 2 (IPv6), port, address; XORed with
/// the cookie (and the transaction id for IPv6) when `xor` carries the id (section 15.2).
fn address(value: &[u8], xor: Option<&TransactionId>) -> Option<SocketAddr> {
    let family = *value.get(1)?;
    let port = u16::from_be_bytes([*value.get(2)?, *value.get(3)?]);
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = if xor.is_some() { port ^ u16::from_be_bytes([cookie[0], cookie[1]]) } else { port };
    let ip = match family {
        1 => {
            let mut a: [u8; 4] = value.get(4..8)?.try_into().ok()?;
            if xor.is_some() {
                a.iter_mut().zip(cookie).for_each(|(b, k)| *b ^= k);
            }
            IpAddr::V4(Ipv4Addr::from(a))
        }
        2 => {
            let mut a: [u8; 16] = value.get(4..20)?.try_into().ok()?;
            if let Some(id) = xor {
                let key = cookie.iter().chain(id.iter());
                a.iter_mut().zip(key).for_each(|(b, k)| *b ^= k);
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: TransactionId = [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae];

    /// RFC 5769 section 2.2: the sample IPv4 response (SOFTWARE "test vector",
    /// XOR-MAPPED-ADDRESS 192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT).
    const RFC5769_V4: &str = "0101003c2112a442b7e7a701bc34d686fa87dfae\
        8022000b7465737420766563746f7220\
        00200008 0001a147e112a643\
        000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7\
        80280004c07d4c96";

    /// RFC 5769 section 2.3: the sample IPv6 response (2001:db8:1234:5678:11:2233:4455:6677
    /// port 32853).
    const RFC5769_V6: &str = "010100482112a442b7e7a701bc34d686fa87dfae\
        8022000b7465737420766563746f7220\
        002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9\
        00080014a382954e4be67bf11784c97c8292c275bfe3ed41\
        80280004c8fb0b4c";

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn the_rfc_5769_vectors_decode() {
        let v4 = decode_response(&hex(RFC5769_V4), &ID).unwrap();
        assert_eq!(v4.class, StunClass::Success);
        assert_eq!(v4.mapped, Some("192.0.2.1:32853".parse().unwrap()));
        assert_eq!(v4.software.as_deref(), Some("test vector"));
        let v6 = decode_response(&hex(RFC5769_V6), &ID).unwrap();
        assert_eq!(v6.mapped, Some("[2001:db8:1234:5678:11:2233:4455:6677]:32853".parse().unwrap()));
    }

    #[test]
    fn the_request_is_a_bare_binding_request() {
        let r = binding_request(&ID);
        assert_eq!(&r[..8], &[0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]);
        assert_eq!(&r[8..], &ID);
    }

    #[test]
    fn an_error_response_carries_its_code() {
        let mut m = hex("011100082112a442");
        m.extend_from_slice(&ID);
        m.extend_from_slice(&hex("0009 0004 0000 0401"));
        let r = decode_response(&m, &ID).unwrap();
        assert_eq!((r.class, r.error_code, r.mapped), (StunClass::Error, Some(401), None));
        // Class 7 is not an error class: no code rather than a made-up one.
        let n = m.len();
        m[n - 2] = 0x07;
        assert_eq!(decode_response(&m, &ID).unwrap().error_code, None);
    }

    #[test]
    fn other_messages_and_transactions_are_refused() {
        let good = hex(RFC5769_V4);
        assert_eq!(decode_response(&good[..19], &ID), Err(StunError::Truncated));
        assert_eq!(decode_response(&good[..40], &ID), Err(StunError::Truncated));
        assert_eq!(decode_response(&good, &[0; 12]), Err(StunError::OtherTransaction));
        let mut request = good.clone();
        request[1] = 0x01;
        request[0] = 0x00;
        assert_eq!(decode_response(&request, &ID), Err(StunError::NotBindingResponse(0x0001)));
        let mut cookie = good.clone();
        cookie[4] = 0;
        assert_eq!(decode_response(&cookie, &ID), Err(StunError::NotStun));
        let mut odd = good;
        odd[3] = 0x3d;
        assert_eq!(decode_response(&odd, &ID), Err(StunError::NotStun));
    }

    #[test]
    fn a_truncated_attribute_stops_the_walk_without_a_panic() {
        let mut m = hex("010100082112a442");
        m.extend_from_slice(&ID);
        // XOR-MAPPED-ADDRESS claiming 200 bytes inside an 8-byte body.
        m.extend_from_slice(&hex("0020 00c8 0001 a147"));
        let r = decode_response(&m, &ID).unwrap();
        assert_eq!(r.mapped, None);
    }
}
