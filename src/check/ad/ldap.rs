//! The anonymous LDAP rootDSE read of the `ad` profile (RFC 4511 §4.5, RFC 4512 §5.1):
//! the request's bytes and a decoder for the replies (pure).
//!
//! Neighbours: [`super::asn1`] encodes and walks the BER; the live half of
//! `src/check/ad.rs` sends [`rootdse_request`] on TCP 389, cuts the stream into messages
//! with [`frame_len`] and reads each with [`decode_message`]. Every domain controller
//! answers this search without a bind: it is how clients find the DC's name, its naming
//! context and its clock (`currentTime`).

use serde::{Deserialize, Serialize};

use super::asn1::{self, DecodeError, children, der_integer, integer, text, tlv};

/// The attributes asked for.
pub const ATTRIBUTES: [&str; 4] = ["dnsHostName", "defaultNamingContext", "currentTime", "ldapServiceName"];

/// Longest LDAP message read: a rootDSE entry with these attributes is well under 4 KiB.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The attributes of the rootDSE this check reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RootDse {
    /// `dnsHostName`: the DC's DNS name.
    pub dns_host_name: Option<String>,
    /// `defaultNamingContext`: the domain's DN (`DC=corp,DC=example,DC=com`).
    pub default_naming_context: Option<String>,
    /// `currentTime`: the DC's clock, GeneralizedTime.
    pub current_time: Option<String>,
    /// `ldapServiceName`: `domain:host$@REALM`.
    pub ldap_service_name: Option<String>,
}

/// One LDAP message of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdapMessage {
    /// A SearchResultEntry.
    Entry(RootDse),
    /// SearchResultDone with its resultCode (0: success).
    Done(i64),
    /// Any other operation (a notice of disconnection, a referral).
    Other(u32),
}

/// The search request for the rootDSE: base `""`, scope base, filter `(objectClass=*)`.
pub fn rootdse_request(message_id: i32) -> Vec<u8> {
    let attrs: Vec<u8> = ATTRIBUTES.iter().flat_map(|a| tlv(0x04, a.as_bytes())).collect();
    let mut search = Vec::new();
    search.extend(tlv(0x04, b"")); // baseObject
    search.extend(tlv(0x0a, &[0])); // scope: baseObject
    search.extend(tlv(0x0a, &[0])); // derefAliases: never
    search.extend(der_integer(0)); // sizeLimit
    search.extend(der_integer(0)); // timeLimit
    search.extend(tlv(0x01, &[0])); // typesOnly: false
    search.extend(tlv(0x87, b"objectClass")); // filter: present [7]
    search.extend(tlv(0x30, &attrs));
    let mut msg = der_integer(i64::from(message_id));
    msg.extend(tlv(0x63, &search)); // [APPLICATION 3] SearchRequest
    tlv(0x30, &msg)
}

/// The length of the first BER message in `buf`: `Ok(None)` while its header is
/// incomplete; an error for anything that is not a definite-length SEQUENCE of at most
/// [`MAX_MESSAGE`] bytes.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    const CONTEXT: &str = "LDAP message header";
    let Some(&first) = buf.first() else { return Ok(None) };
    if first != 0x30 {
        return Err(DecodeError::Unexpected { context: CONTEXT });
    }
    let Some(&len0) = buf.get(1) else { return Ok(None) };
    let (header, len) = if len0 < 0x80 {
        (2, usize::from(len0))
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 {
            return Err(DecodeError::Unexpected { context: CONTEXT });
        }
        let Some(bytes) = buf.get(2..2 + n) else { return Ok(None) };
        (2 + n, bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
    };
    let total = header.saturating_add(len);
    if total > MAX_MESSAGE {
        return Err(DecodeError::TooMany { context: CONTEXT });
    }
    Ok(Some(total))
}

/// Reads one LDAP message: its id and what it carries.
pub fn decode_message(bytes: &[u8]) -> Result<(i64, LdapMessage), DecodeError> {
    let msg = asn1::only(bytes, "LDAPMessage")?;
    if !msg.is_universal(16) || !msg.constructed {
        return Err(DecodeError::Unexpected { context: "LDAPMessage" });
    }
    let parts = children(msg.data, "LDAPMessage")?;
    let (Some(id), Some(op)) = (parts.first(), parts.get(1)) else {
        return Err(DecodeError::Unexpected { context: "LDAPMessage" });
    };
    let id = integer(id, "messageID")?;
    if op.class != asn1_rs::Class::Application {
        return Err(DecodeError::Unexpected { context: "protocolOp" });
    }
    let reply = match op.tag {
        4 => LdapMessage::Entry(decode_entry(op.data)?),
        5 => {
            let fields = children(op.data, "SearchResultDone")?;
            let code = fields.first().ok_or(DecodeError::Unexpected { context: "SearchResultDone" })?;
            LdapMessage::Done(integer(code, "resultCode")?)
        }
        other => LdapMessage::Other(other),
    };
    Ok((id, reply))
}

fn decode_entry(data: &[u8]) -> Result<RootDse, DecodeError> {
    let fields = children(data, "SearchResultEntry")?;
    let attributes = fields.get(1).ok_or(DecodeError::Unexpected { context: "SearchResultEntry" })?;
    let mut dse = RootDse::default();
    for attr in children(attributes.data, "PartialAttributeList")? {
        let parts = children(attr.data, "PartialAttribute")?;
        let (Some(kind), Some(vals)) = (parts.first(), parts.get(1)) else {
            return Err(DecodeError::Unexpected { context: "PartialAttribute" });
        };
        let kind = text(kind, "AttributeDescription")?;
        let first = children(vals.data, "vals")?.first().map(|v| text(v, "AttributeValue")).transpose()?;
        let slot = match kind.to_ascii_lowercase().as_str() {
            "dnshostname" => &mut dse.dns_host_name,
            "defaultnamingcontext" => &mut dse.default_naming_context,
            "currenttime" => &mut dse.current_time,
            "ldapservicename" => &mut dse.ldap_service_name,
            _ => continue,
        };
        *slot = first.map(|v| v.chars().take(256).collect());
    }
    Ok(dse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SearchResultEntry as a DC sends it.
    fn entry(id: i64, attrs: &[(&str, &str)]) -> Vec<u8> {
        let list: Vec<u8> = attrs
            .iter()
            .flat_map(|(k, v)| {
                let mut a = tlv(0x04, k.as_bytes());
                a.extend(tlv(0x31, &tlv(0x04, v.as_bytes())));
                tlv(0x30, &a)
            })
            .collect();
        let mut body = tlv(0x04, b"");
        body.extend(tlv(0x30, &list));
        let mut msg = der_integer(id);
        msg.extend(tlv(0x64, &body));
        tlv(0x30, &msg)
    }

    #[test]
    fn the_request_is_a_well_formed_search() {
        let req = rootdse_request(7);
        assert_eq!(frame_len(&req).unwrap(), Some(req.len()));
        let (id, msg) = decode_message(&req).unwrap();
        assert_eq!((id, msg), (7, LdapMessage::Other(3)));
    }

    #[test]
    fn entries_and_done_are_read() {
        let bytes = entry(
            1,
            &[("dnsHostName", "dc1.corp.lab"), ("currentTime", "20261130154513.0Z"), ("supportedLDAPVersion", "3")],
        );
        let (id, msg) = decode_message(&bytes).unwrap();
        assert_eq!(id, 1);
        let LdapMessage::Entry(dse) = msg else { panic!("{msg:?}") };
        assert_eq!(dse.dns_host_name.as_deref(), Some("dc1.corp.lab"));
        assert_eq!(dse.current_time.as_deref(), Some("20261130154513.0Z"));
        assert_eq!(dse.default_naming_context, None);
        let done = tlv(
            0x30,
            &[der_integer(1), tlv(0x65, &[tlv(0x0a, &[0]), tlv(0x04, b""), tlv(0x04, b"")].concat())].concat(),
        );
        assert_eq!(decode_message(&done).unwrap(), (1, LdapMessage::Done(0)));
    }

    /// Samba 4.17's reply, recorded in the lab (captures/ad/): the entry and the done in
    /// one segment.
    #[test]
    fn samba_rootdse_reply_is_read() {
        let mut buf: &[u8] = include_bytes!("../../../captures/ad/samba_rootdse.ber");
        let mut got = Vec::new();
        while let Some(len) = frame_len(buf).unwrap() {
            got.push(decode_message(&buf[..len]).unwrap());
            buf = &buf[len..];
        }
        assert!(buf.is_empty());
        let [(id, LdapMessage::Entry(dse)), (done_id, LdapMessage::Done(0))] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!((*id, *done_id), (0xd3d3, 0xd3d3));
        assert_eq!(dse.dns_host_name.as_deref(), Some("dc1.corp.lab"));
        assert_eq!(dse.default_naming_context.as_deref(), Some("DC=corp,DC=lab"));
        assert_eq!(dse.ldap_service_name.as_deref(), Some("corp.lab:dc1$@CORP.LAB"));
        assert_eq!(dse.current_time.as_deref().and_then(asn1::generalized_time_ms), Some(1_796_054_507_000));
        // Every truncation of it is an incomplete frame or an error, never a panic.
        let whole = include_bytes!("../../../captures/ad/samba_rootdse.ber");
        for n in 0..whole.len() {
            if let Ok(Some(len)) = frame_len(&whole[..n]) {
                assert!(len > n || decode_message(&whole[..len]).is_ok());
            }
        }
    }

    #[test]
    fn frames_wait_for_the_header_and_refuse_garbage() {
        assert_eq!(frame_len(&[]).unwrap(), None);
        assert_eq!(frame_len(&[0x30]).unwrap(), None);
        assert_eq!(frame_len(&[0x30, 0x82, 0x01]).unwrap(), None);
        assert_eq!(frame_len(&[0x30, 0x82, 0x01, 0x00]).unwrap(), Some(260));
        assert!(frame_len(b"HTTP/1.1 400").is_err());
        assert!(frame_len(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(frame_len(&[0x30, 0x80]).is_err());
        for garbage in
            [&b"\x30\x03\x02\x01"[..], b"\x30\x00", b"\x30\x05\x02\x01\x01\x64\x00", b"\x30\x06\x02\x01\x01\x04\x01x"]
        {
            assert!(decode_message(garbage).is_err(), "{garbage:?}");
        }
    }
}
