//! The small piece of ASN.1 the `ad` profile needs: a DER encoder for its two requests
//! (an LDAP rootDSE search, a Kerberos AS-REQ), a bounded walker over BER replies built on
//! `asn1-rs` (the crate `x509-parser` already brings in), and GeneralizedTime.
//!
//! Neighbours: [`super::ldap`] and [`super::kerberos`] build on it. The requests are a few
//! fixed fields, so they are written here by hand rather than with a full codec (`ldap3`
//! and `rasn-kerberos` would pull two more ASN.1 stacks into the build for two messages);
//! decoding goes through `asn1-rs`' `Any`, which checks every length against the input.

use asn1_rs::{Any, Class, FromBer};

/// Most elements read from one constructed value: bounds the work a hostile reply causes.
pub const MAX_CHILDREN: usize = 512;

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid BER/DER.
    #[error("invalid BER in {context}")]
    Ber {
        /// The element being read.
        context: &'static str,
    },
    /// A valid element of the wrong kind, or a required field missing.
    #[error("unexpected content in {context}")]
    Unexpected {
        /// The element being read.
        context: &'static str,
    },
    /// More elements than [`MAX_CHILDREN`].
    #[error("too many elements in {context}")]
    TooMany {
        /// The element being read.
        context: &'static str,
    },
}

/// One element: class, tag number, constructed, contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// Its class.
    pub class: Class,
    /// Its tag number.
    pub tag: u32,
    /// Whether it is constructed.
    pub constructed: bool,
    /// Its contents (for an indefinite length, without the end-of-contents octets).
    pub data: &'a [u8],
}

impl Element<'_> {
    /// Whether it is `[APPLICATION tag]`.
    pub fn is_application(&self, tag: u32) -> bool {
        self.class == Class::Application && self.tag == tag
    }

    /// Whether it is the context-specific `[tag]`.
    pub fn is_context(&self, tag: u32) -> bool {
        self.class == Class::ContextSpecific && self.tag == tag
    }

    /// Whether it is the universal type `tag`.
    pub fn is_universal(&self, tag: u32) -> bool {
        self.class == Class::Universal && self.tag == tag
    }
}

/// Reads one element from the start of `bytes`, returning it and the rest.
pub fn element<'a>(bytes: &'a [u8], context: &'static str) -> Result<(Element<'a>, &'a [u8]), DecodeError> {
    let (rest, any): (&[u8], Any<'a>) = Any::from_ber(bytes).map_err(|_| DecodeError::Ber { context })?;
    Ok((
        Element {
            class: any.header.class(),
            tag: any.header.tag().0,
            constructed: any.header.is_constructed(),
            data: any.data,
        },
        rest,
    ))
}

/// Reads the whole of `bytes` as exactly one element.
pub fn only<'a>(bytes: &'a [u8], context: &'static str) -> Result<Element<'a>, DecodeError> {
    let (e, rest) = element(bytes, context)?;
    if rest.is_empty() { Ok(e) } else { Err(DecodeError::Unexpected { context }) }
}

/// The elements inside a constructed element's contents.
pub fn children<'a>(data: &'a [u8], context: &'static str) -> Result<Vec<Element<'a>>, DecodeError> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if out.len() >= MAX_CHILDREN {
            return Err(DecodeError::TooMany { context });
        }
        let (e, r) = element(rest, context)?;
        out.push(e);
        rest = r;
    }
    Ok(out)
}

/// The single element inside an explicitly tagged element.
pub fn explicit<'a>(e: &Element<'a>, context: &'static str) -> Result<Element<'a>, DecodeError> {
    if !e.constructed {
        return Err(DecodeError::Unexpected { context });
    }
    only(e.data, context)
}

/// An INTEGER's value (at most 8 content octets, two's complement).
pub fn integer(e: &Element<'_>, context: &'static str) -> Result<i64, DecodeError> {
    // ENUMERATED (10) is read the same way.
    if e.constructed || e.data.is_empty() || e.data.len() > 8 {
        return Err(DecodeError::Unexpected { context });
    }
    let mut v: i64 = if e.data[0] & 0x80 != 0 { -1 } else { 0 };
    for &b in e.data {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// A string's text (octet or character string), invalid UTF-8 replaced.
pub fn text(e: &Element<'_>, context: &'static str) -> Result<String, DecodeError> {
    if e.constructed {
        return Err(DecodeError::Unexpected { context });
    }
    Ok(String::from_utf8_lossy(e.data).into_owned())
}

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// One DER element with a single-octet identifier (`0x30` SEQUENCE, `0xa0 | n`
/// context-specific constructed `[n]`, `0x60 | n` application constructed, ...).
pub fn tlv(identifier: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(identifier);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER.
pub fn der_integer(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    tlv(0x02, &bytes[start..])
}

/// The Unix time in milliseconds of a GeneralizedTime in UTC (`YYYYMMDDHHMMSS[.fff]Z`, as
/// LDAP's `currentTime` and Kerberos' `KerberosTime` write it); `None` for anything else.
pub fn generalized_time_ms(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (whole, frac) = match s.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<i64>().ok();
    let (year, month, day) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hour, minute, second) = (n(8..10)?, n(10..12)?, n(12..14)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: String = f.chars().chain("000".chars()).take(3).collect();
            digits.parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1_000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_is_unix_milliseconds() {
        assert_eq!(generalized_time_ms("19700101000000Z"), Some(0));
        assert_eq!(generalized_time_ms("20261130154513.0Z"), Some(1_796_053_513_000));
        assert_eq!(generalized_time_ms("20000229120000.25Z"), Some(951_825_600_250));
        for bad in ["", "2026113015451Z", "20261130154513", "20261330154513Z", "2026113015451xZ", "20261130154513.Z"] {
            assert_eq!(generalized_time_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn der_integers_are_minimal_and_round_trip() {
        for v in [0i64, 5, 127, 128, 255, 256, -1, -128, -129, 0x7fff_ffff, i64::from(u32::MAX)] {
            let enc = der_integer(v);
            let e = only(&enc, "test").unwrap();
            assert_eq!(integer(&e, "test").unwrap(), v);
        }
        assert_eq!(der_integer(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(-1), [0x02, 0x01, 0xff]);
    }

    #[test]
    fn long_lengths_and_truncation() {
        let big = tlv(0x04, &[7u8; 300]);
        assert_eq!(&big[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(only(&big, "test").unwrap().data.len(), 300);
        assert!(matches!(element(&big[..100], "test"), Err(DecodeError::Ber { .. })));
        assert!(only(&[0x30, 0x00, 0x00], "test").is_err());
    }
}
