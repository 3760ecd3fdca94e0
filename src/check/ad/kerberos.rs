//! The Kerberos probe of the `ad` profile (RFC 4120): an AS-REQ for a principal that does
//! not exist, and a decoder for the KDC's reply (pure).
//!
//! Neighbours: [`super::asn1`] encodes and walks the DER; the live half of
//! `src/check/ad.rs` sends [`as_req`] over UDP 88 and TCP 88 ([`tcp_frame`], RFC 4120
//! §7.2.2) and reads the answer with [`decode_reply`]. A KDC answers an unknown client with
//! a KRB-ERROR (`KDC_ERR_C_PRINCIPAL_UNKNOWN`, 6): that proves the KDC alive without an
//! account, and the error carries the KDC's clock (`stime`, `susec`, §5.9.1), which is
//! the clock Kerberos itself compares with ours.

use serde::{Deserialize, Serialize};

use super::asn1::{self, DecodeError, children, der_integer, explicit, integer, text, tlv};

/// Longest Kerberos reply read over TCP.
pub const MAX_REPLY: usize = 64 * 1024;

/// `KDC_ERR_C_PRINCIPAL_UNKNOWN`: the client is not in the database (the expected answer).
pub const KDC_ERR_C_PRINCIPAL_UNKNOWN: i64 = 6;
/// `KDC_ERR_PREAUTH_REQUIRED`.
pub const KDC_ERR_PREAUTH_REQUIRED: i64 = 25;
/// `KRB_AP_ERR_SKEW`: the KDC finds our clock too far off (only with a timestamp sent).
pub const KRB_AP_ERR_SKEW: i64 = 37;
/// `KRB_ERR_RESPONSE_TOO_BIG`: the KDC wants TCP.
pub const KRB_ERR_RESPONSE_TOO_BIG: i64 = 52;
/// `KDC_ERR_WRONG_REALM`.
pub const KDC_ERR_WRONG_REALM: i64 = 68;

/// What a KDC answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KdcReply {
    /// A KRB-ERROR.
    Error {
        /// `error-code`.
        error_code: i64,
        /// `stime` + `susec` as Unix milliseconds, when readable.
        stime_unix_ms: Option<i64>,
        /// `realm`.
        realm: String,
    },
    /// An AS-REP (the random principal exists without pre-authentication: unlikely,
    /// but the KDC answered all the same).
    AsRep,
}

/// An AS-REQ (`[APPLICATION 10]`) for `principal@realm` asking for `krbtgt/realm`.
pub fn as_req(realm: &str, principal: &str, nonce: u32) -> Vec<u8> {
    let general_string = |s: &str| tlv(0x1b, s.as_bytes());
    let principal_name = |name_type: i64, parts: &[&str]| {
        let names: Vec<u8> = parts.iter().flat_map(|p| general_string(p)).collect();
        tlv(0x30, &[tlv(0xa0, &der_integer(name_type)), tlv(0xa1, &tlv(0x30, &names))].concat())
    };
    let etypes: Vec<u8> = [18i64, 17, 23].iter().flat_map(|e| der_integer(*e)).collect();
    let body = [
        tlv(0xa0, &tlv(0x03, &[0x00, 0x40, 0x00, 0x00, 0x10])), // kdc-options: forwardable, renewable-ok
        tlv(0xa1, &principal_name(1, &[principal])),            // cname: NT-PRINCIPAL
        tlv(0xa2, &general_string(realm)),
        tlv(0xa3, &principal_name(2, &["krbtgt", realm])), // sname: NT-SRV-INST
        tlv(0xa5, &tlv(0x18, b"20370913024805Z")),         // till
        tlv(0xa7, &der_integer(i64::from(nonce & 0x7fff_ffff))),
        tlv(0xa8, &tlv(0x30, &etypes)),
    ]
    .concat();
    let req = [tlv(0xa1, &der_integer(5)), tlv(0xa2, &der_integer(10)), tlv(0xa4, &tlv(0x30, &body))].concat();
    tlv(0x6a, &tlv(0x30, &req))
}

/// A message framed for TCP: a four-octet big-endian length first (RFC 4120 §7.2.2).
pub fn tcp_frame(msg: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    out
}

/// The length a TCP reply announces, once its four octets are in; an error when it is
/// larger than [`MAX_REPLY`] (or has the reserved high bit set).
pub fn tcp_len(prefix: [u8; 4]) -> Result<usize, DecodeError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len == 0 || len > MAX_REPLY {
        return Err(DecodeError::TooMany { context: "Kerberos TCP length" });
    }
    Ok(len)
}

/// Reads a KDC's reply to an AS-REQ.
pub fn decode_reply(bytes: &[u8]) -> Result<KdcReply, DecodeError> {
    let outer = asn1::only(bytes, "Kerberos reply")?;
    if outer.is_application(11) {
        return Ok(KdcReply::AsRep);
    }
    if !outer.is_application(30) {
        return Err(DecodeError::Unexpected { context: "Kerberos reply" });
    }
    let seq = explicit(&outer, "KRB-ERROR")?;
    if !seq.is_universal(16) {
        return Err(DecodeError::Unexpected { context: "KRB-ERROR" });
    }
    let (mut error_code, mut stime, mut susec, mut realm) = (None, None, None, None);
    for field in children(seq.data, "KRB-ERROR")? {
        if field.class != asn1_rs::Class::ContextSpecific {
            return Err(DecodeError::Unexpected { context: "KRB-ERROR" });
        }
        match field.tag {
            4 => stime = Some(text(&explicit(&field, "stime")?, "stime")?),
            5 => susec = Some(integer(&explicit(&field, "susec")?, "susec")?),
            6 => error_code = Some(integer(&explicit(&field, "error-code")?, "error-code")?),
            9 => realm = Some(text(&explicit(&field, "realm")?, "realm")?),
            _ => {}
        }
    }
    let error_code = error_code.ok_or(DecodeError::Unexpected { context: "KRB-ERROR error-code" })?;
    let stime_unix_ms = stime
        .as_deref()
        .and_then(asn1::generalized_time_ms)
        .map(|ms| ms + susec.filter(|u| (0..1_000_000).contains(u)).unwrap_or(0) / 1_000);
    Ok(KdcReply::Error { error_code, stime_unix_ms, realm: realm.unwrap_or_default().chars().take(256).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krb_error(code: i64, stime: &str, susec: i64) -> Vec<u8> {
        let fields = [
            tlv(0xa0, &der_integer(5)),
            tlv(0xa1, &der_integer(30)),
            tlv(0xa4, &tlv(0x18, stime.as_bytes())),
            tlv(0xa5, &der_integer(susec)),
            tlv(0xa6, &der_integer(code)),
            tlv(0xa9, &tlv(0x1b, b"CORP.LAB")),
            tlv(0xaa, &tlv(0x30, &[tlv(0xa0, &der_integer(2)), tlv(0xa1, &tlv(0x30, &tlv(0x1b, b"krbtgt")))].concat())),
        ]
        .concat();
        tlv(0x7e, &tlv(0x30, &fields))
    }

    #[test]
    fn the_request_is_an_as_req_of_pvno_5() {
        let req = as_req("CORP.LAB", "nettriage-abc", 42);
        let outer = asn1::only(&req, "t").unwrap();
        assert!(outer.is_application(10));
        let fields = children(explicit(&outer, "t").unwrap().data, "t").unwrap();
        assert!(fields[0].is_context(1));
        assert_eq!(integer(&explicit(&fields[0], "t").unwrap(), "t").unwrap(), 5);
        assert_eq!(integer(&explicit(&fields[1], "t").unwrap(), "t").unwrap(), 10);
        assert_eq!(&tcp_frame(&req)[..4], &(req.len() as u32).to_be_bytes());
    }

    #[test]
    fn krb_error_gives_the_code_and_the_kdc_clock() {
        let reply = decode_reply(&krb_error(6, "20261130154513Z", 250_000)).unwrap();
        assert_eq!(
            reply,
            KdcReply::Error {
                error_code: KDC_ERR_C_PRINCIPAL_UNKNOWN,
                stime_unix_ms: Some(1_796_053_513_250),
                realm: "CORP.LAB".into()
            }
        );
        let bad_time = decode_reply(&krb_error(6, "yesterday", 0)).unwrap();
        assert!(matches!(bad_time, KdcReply::Error { stime_unix_ms: None, .. }));
    }

    /// Samba 4.17's KDC, recorded in the lab (captures/ad/): the same KRB-ERROR over UDP
    /// and, length-prefixed, over TCP.
    #[test]
    fn samba_krb_errors_are_read() {
        let udp = decode_reply(include_bytes!("../../../captures/ad/samba_krb_error_udp.der")).unwrap();
        assert_eq!(
            udp,
            KdcReply::Error {
                error_code: KDC_ERR_C_PRINCIPAL_UNKNOWN,
                stime_unix_ms: Some(1_796_054_507_609),
                realm: "CORP.LAB".into()
            }
        );
        let tcp: &[u8] = include_bytes!("../../../captures/ad/samba_krb_error_tcp.bin");
        let len = tcp_len(tcp[..4].try_into().unwrap()).unwrap();
        assert_eq!(len, tcp.len() - 4);
        let KdcReply::Error { error_code, realm, .. } = decode_reply(&tcp[4..]).unwrap() else { panic!() };
        assert_eq!((error_code, realm.as_str()), (KDC_ERR_C_PRINCIPAL_UNKNOWN, "CORP.LAB"));
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let good = krb_error(6, "20261130154513Z", 0);
        for n in 0..good.len() {
            assert!(decode_reply(&good[..n]).is_err(), "{n}");
        }
        assert!(decode_reply(b"\x7e\x02\x30\x00").is_err()); // no error-code
        assert!(decode_reply(b"SSH-2.0-OpenSSH").is_err());
        assert!(tcp_len([0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(tcp_len([0, 0, 0, 0]).is_err());
        assert_eq!(tcp_len([0, 0, 1, 0]).unwrap(), 256);
    }
}
