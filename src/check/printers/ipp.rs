//! IPP's binary encoding (RFC 8010) for the one operation the `printers` profile sends:
//! Get-Printer-Attributes (RFC 8011 §4.2.5). [`encode_get_printer_attributes`] builds the
//! request body, [`decode`] reads any IPP response into groups of attributes and
//! [`PrinterAttributes::from_response`] picks the printer's state out of it. Pure, no I/O:
//! `check::printers::run` posts the body over HTTP and hands the answer here.
//!
//! Hand-written rather than the `ipp` crate: that crate brings its own HTTP clients and
//! async runtimes for a format that is a flat list of tag-length-value items, and its
//! parser is not the one a hostile peer should meet without a fuzz target of ours. This
//! decoder is bounded (attributes, values and nesting are counted), never panics and has
//! its fuzz target (`fuzz/fuzz_targets/ipp_response.rs`).

/// IPP's operation id of Get-Printer-Attributes (RFC 8011 §5.4.15).
pub const GET_PRINTER_ATTRIBUTES: u16 = 0x000B;

/// The attributes the profile asks for (RFC 8011 §5.4).
pub const REQUESTED: [&str; 6] = [
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "printer-name",
    "printer-make-and-model",
];

/// The most attributes (values included) a response may hold before decoding stops: a
/// real printer's full answer has a few hundred.
pub const MAX_ITEMS: usize = 20_000;

/// The deepest nesting of collections the decoder follows.
pub const MAX_DEPTH: usize = 16;

// Delimiter tags (RFC 8010 §3.5.1).
const TAG_OPERATION: u8 = 0x01;
const TAG_END: u8 = 0x03;
// Value tags (RFC 8010 §3.5.2).
const TAG_INTEGER: u8 = 0x21;
const TAG_BOOLEAN: u8 = 0x22;
const TAG_ENUM: u8 = 0x23;
const TAG_BEGIN_COLLECTION: u8 = 0x34;
const TAG_TEXT_WITH_LANGUAGE: u8 = 0x35;
const TAG_NAME_WITH_LANGUAGE: u8 = 0x36;
const TAG_END_COLLECTION: u8 = 0x37;
const TAG_KEYWORD: u8 = 0x44;
const TAG_URI: u8 = 0x45;
const TAG_CHARSET: u8 = 0x47;
const TAG_NATURAL_LANGUAGE: u8 = 0x48;
const TAG_EXTENSION: u8 = 0x7F;

/// Why a response could not be read as IPP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IppError {
    /// The body ends before the item at `offset` is complete.
    #[error("IPP response truncated at byte {offset}")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
    },
    /// The response's major version is not 1 or 2.
    #[error("IPP version {major}.{minor} is not IPP/1.x or IPP/2.x")]
    Version {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// A value came before any attribute group, or an additional value before any attribute.
    #[error("IPP attribute without a group or name at byte {offset}")]
    Orphan {
        /// Where the value starts.
        offset: usize,
    },
    /// Too many items or collections nested too deep.
    #[error("IPP response over the decoder's bounds at byte {offset}")]
    TooLarge {
        /// Where decoding stopped.
        offset: usize,
    },
}

/// One attribute value, as far as the profile needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// integer or enum.
    Integer(i32),
    /// boolean.
    Boolean(bool),
    /// Any string-like value (text, name, keyword, uri, charset, language, MIME type, with
    /// or without language), lossily UTF-8.
    Text(String),
    /// An out-of-band value (unsupported, unknown, no-value) or a value of another syntax:
    /// its tag.
    Other(u8),
}

/// One attribute of a response, with every value it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The group's delimiter tag (1 operation, 2 job, 4 printer, 5 unsupported, ...).
    pub group: u8,
    /// The attribute's name.
    pub name: String,
    /// Its values; members of collections are not kept.
    pub values: Vec<Value>,
}

/// A decoded IPP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `(major, minor)`.
    pub version: (u8, u8),
    /// The status code (RFC 8011 §B: 0x0000-0x00FF successful).
    pub status_code: u16,
    /// The request id it answers.
    pub request_id: u32,
    /// The attributes, in order.
    pub attributes: Vec<Attribute>,
}

impl Response {
    /// Whether the status code is one of the successful ones (RFC 8011 Appendix B.1.2).
    pub fn is_success(&self) -> bool {
        self.status_code <= 0x00FF
    }

    /// The first attribute called `name` outside the operation group (the printer's own),
    /// else in the operation group.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.group != TAG_OPERATION && a.name == name)
            .or_else(|| self.attributes.iter().find(|a| a.name == name))
    }
}

/// Appends one attribute value (RFC 8010 §3.1.4): tag, name length, name, value length, value.
fn push(out: &mut Vec<u8>, tag: u8, name: &str, value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// The body of a Get-Printer-Attributes request for `printer_uri` (IPP/2.0), asking for
/// [`REQUESTED`] (pure). A URI longer than IPP allows (1023 octets) is cut there.
pub fn encode_get_printer_attributes(printer_uri: &str, request_id: u32) -> Vec<u8> {
    let mut uri = printer_uri.as_bytes();
    if uri.len() > 1023 {
        uri = &uri[..1023];
    }
    let mut out = Vec::with_capacity(256 + uri.len());
    out.extend_from_slice(&[2, 0]);
    out.extend_from_slice(&GET_PRINTER_ATTRIBUTES.to_be_bytes());
    out.extend_from_slice(&request_id.to_be_bytes());
    out.push(TAG_OPERATION);
    push(&mut out, TAG_CHARSET, "attributes-charset", b"utf-8");
    push(&mut out, TAG_NATURAL_LANGUAGE, "attributes-natural-language", b"en");
    push(&mut out, TAG_URI, "printer-uri", uri);
    for (i, name) in REQUESTED.iter().enumerate() {
        push(&mut out, TAG_KEYWORD, if i == 0 { "requested-attributes" } else { "" }, name.as_bytes());
    }
    out.push(TAG_END);
    out
}

/// A cursor over the body that never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, start: usize) -> Result<&'a [u8], IppError> {
        let end =
            self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(IppError::Truncated { offset: start })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self, start: usize) -> Result<u8, IppError> {
        Ok(self.take(1, start)?[0])
    }

    fn u16(&mut self, start: usize) -> Result<u16, IppError> {
        let b = self.take(2, start)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// Reads a value of `tag` from its bytes.
fn value(tag: u8, bytes: &[u8]) -> Value {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match tag {
        TAG_INTEGER | TAG_ENUM if bytes.len() == 4 => {
            Value::Integer(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        }
        TAG_BOOLEAN if bytes.len() == 1 => Value::Boolean(bytes[0] != 0),
        TAG_TEXT_WITH_LANGUAGE | TAG_NAME_WITH_LANGUAGE => {
            // language length, language, text length, text (RFC 8010 §3.9).
            let lang = bytes.get(..2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
            let rest = lang.and_then(|l| bytes.get(2 + l..));
            let inner = rest.and_then(|r| {
                let n = usize::from(u16::from_be_bytes([*r.first()?, *r.get(1)?]));
                r.get(2..2 + n)
            });
            inner.map_or(Value::Other(tag), |t| Value::Text(text(t)))
        }
        0x41..=0x4F => Value::Text(text(bytes)),
        _ => Value::Other(tag),
    }
}

/// Decodes an IPP response (pure, bounded by [`MAX_ITEMS`] and [`MAX_DEPTH`]).
/// Members of collections are skipped: the profile reads only top-level attributes.
pub fn decode(bytes: &[u8]) -> Result<Response, IppError> {
    let mut r = Reader { bytes, at: 0 };
    let major = r.u8(0)?;
    let minor = r.u8(0)?;
    if !(1..=2).contains(&major) {
        return Err(IppError::Version { major, minor });
    }
    let status_code = r.u16(2)?;
    let id = r.take(4, 4)?;
    let request_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    let mut attributes: Vec<Attribute> = Vec::new();
    let mut group: Option<u8> = None;
    let mut depth = 0usize;
    let mut items = 0usize;
    // Whether the last attribute kept is the one an additional value belongs to.
    let mut last_kept = false;
    loop {
        let start = r.at;
        let tag = r.u8(start)?;
        if tag == TAG_END {
            return Ok(Response { version: (major, minor), status_code, request_id, attributes });
        }
        if tag <= 0x0F {
            group = Some(tag);
            last_kept = false;
            continue;
        }
        items += 1;
        if items > MAX_ITEMS {
            return Err(IppError::TooLarge { offset: start });
        }
        let Some(group) = group else { return Err(IppError::Orphan { offset: start }) };
        if tag == TAG_EXTENSION {
            // An extended tag: four more bytes of type, then name and value as usual.
            r.take(4, start)?;
        }
        let name_len = usize::from(r.u16(start)?);
        let name = r.take(name_len, start)?;
        let value_len = usize::from(r.u16(start)?);
        let raw = r.take(value_len, start)?;
        match tag {
            TAG_BEGIN_COLLECTION => {
                if depth == 0 {
                    last_kept = push_value(&mut attributes, group, name, Value::Other(tag), last_kept, start)?;
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(IppError::TooLarge { offset: start });
                }
            }
            TAG_END_COLLECTION => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            _ => last_kept = push_value(&mut attributes, group, name, value(tag, raw), last_kept, start)?,
        }
    }
}

/// Adds `value` as a new attribute (`name` not empty) or as another value of the last one.
fn push_value(
    attributes: &mut Vec<Attribute>,
    group: u8,
    name: &[u8],
    value: Value,
    last_kept: bool,
    offset: usize,
) -> Result<bool, IppError> {
    if name.is_empty() {
        match attributes.last_mut() {
            Some(last) if last_kept => last.values.push(value),
            _ => return Err(IppError::Orphan { offset }),
        }
    } else {
        attributes.push(Attribute { group, name: String::from_utf8_lossy(name).into_owned(), values: vec![value] });
    }
    Ok(true)
}

/// The printer's state as the profile reads it from a Get-Printer-Attributes response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrinterAttributes {
    /// `printer-state` (3 idle, 4 processing, 5 stopped).
    pub state: Option<i32>,
    /// `printer-state-reasons` keywords, `none` left out.
    pub state_reasons: Vec<String>,
    /// `printer-state-message`.
    pub state_message: Option<String>,
    /// `printer-is-accepting-jobs`.
    pub accepting_jobs: Option<bool>,
    /// `printer-name`.
    pub name: Option<String>,
    /// `printer-make-and-model`.
    pub make_and_model: Option<String>,
}

/// The most state reasons kept: a printer lists a handful.
const MAX_REASONS: usize = 32;
/// The longest text kept from a printer's attribute, in characters.
const MAX_TEXT: usize = 256;

fn short(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

impl PrinterAttributes {
    /// Picks the printer's attributes out of `response` (pure).
    pub fn from_response(response: &Response) -> PrinterAttributes {
        let first = |name: &str| response.attribute(name).and_then(|a| a.values.first());
        let text = |name: &str| match first(name) {
            Some(Value::Text(t)) if !t.is_empty() => Some(short(t)),
            _ => None,
        };
        PrinterAttributes {
            state: match first("printer-state") {
                Some(Value::Integer(i)) => Some(*i),
                _ => None,
            },
            state_reasons: response
                .attribute("printer-state-reasons")
                .map(|a| {
                    a.values
                        .iter()
                        .filter_map(|v| match v {
                            Value::Text(t) if !t.is_empty() && t != "none" => Some(short(t)),
                            _ => None,
                        })
                        .take(MAX_REASONS)
                        .collect()
                })
                .unwrap_or_default(),
            state_message: text("printer-state-message"),
            accepting_jobs: match first("printer-is-accepting-jobs") {
                Some(Value::Boolean(b)) => Some(*b),
                _ => None,
            },
            name: text("printer-name"),
            make_and_model: text("printer-make-and-model"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response as a printer would send it, built with the request's own encoder.
    fn response(state: i32, reasons: &[&str], accepting: bool) -> Vec<u8> {
        let mut out = vec![2, 0, 0, 0, 0, 0, 0, 7, TAG_OPERATION];
        push(&mut out, TAG_CHARSET, "attributes-charset", b"utf-8");
        out.push(0x04);
        push(&mut out, TAG_ENUM, "printer-state", &state.to_be_bytes());
        for (i, r) in reasons.iter().enumerate() {
            push(&mut out, TAG_KEYWORD, if i == 0 { "printer-state-reasons" } else { "" }, r.as_bytes());
        }
        // A collection whose members must not be read as the printer's attributes.
        push(&mut out, TAG_BEGIN_COLLECTION, "media-col-default", b"");
        push(&mut out, 0x4A, "", b"printer-name");
        push(&mut out, 0x42, "", b"not the name");
        push(&mut out, TAG_END_COLLECTION, "", b"");
        push(&mut out, TAG_BOOLEAN, "printer-is-accepting-jobs", &[u8::from(accepting)]);
        push(&mut out, TAG_NAME_WITH_LANGUAGE, "printer-name", b"\x00\x02en\x00\x0bLab Printer");
        push(&mut out, 0x41, "printer-make-and-model", b"Test Printer");
        out.push(TAG_END);
        out
    }

    #[test]
    fn the_request_decodes_as_ipp_with_every_requested_attribute() {
        let body = encode_get_printer_attributes("ipp://198.18.0.9:631/ipp/print", 42);
        let decoded = decode(&body).unwrap();
        assert_eq!(decoded.version, (2, 0));
        // In a request the status-code field holds the operation id.
        assert_eq!(decoded.status_code, GET_PRINTER_ATTRIBUTES);
        assert_eq!(decoded.request_id, 42);
        let requested = decoded.attribute("requested-attributes").unwrap();
        assert_eq!(requested.values.len(), REQUESTED.len());
        assert_eq!(
            decoded.attribute("printer-uri").unwrap().values,
            vec![Value::Text("ipp://198.18.0.9:631/ipp/print".into())]
        );
    }

    #[test]
    fn a_printers_state_is_read_and_collection_members_are_skipped() {
        let decoded = decode(&response(5, &["media-empty-error", "toner-low-warning"], false)).unwrap();
        assert!(decoded.is_success());
        let attrs = PrinterAttributes::from_response(&decoded);
        assert_eq!(attrs.state, Some(5));
        assert_eq!(attrs.state_reasons, vec!["media-empty-error".to_string(), "toner-low-warning".to_string()]);
        assert_eq!(attrs.accepting_jobs, Some(false));
        assert_eq!(attrs.name.as_deref(), Some("Lab Printer"));
        assert_eq!(attrs.make_and_model.as_deref(), Some("Test Printer"));
    }

    #[test]
    fn none_is_not_a_reason() {
        let attrs = PrinterAttributes::from_response(&decode(&response(3, &["none"], true)).unwrap());
        assert!(attrs.state_reasons.is_empty());
        assert_eq!(attrs.accepting_jobs, Some(true));
    }

    #[test]
    fn every_prefix_of_a_response_is_an_error_not_a_panic() {
        let full = response(4, &["paused"], true);
        for n in 0..full.len() {
            assert!(decode(&full[..n]).is_err(), "prefix of {n} bytes");
        }
        assert!(decode(&full).is_ok());
    }

    /// Mutations of a real ippeveprinter answer (byte flips, cuts, splices): never a panic,
    /// and what decodes stays within the bounds. A cheap stand-in for the fuzz target.
    #[test]
    fn mutated_real_answers_never_panic() {
        let real = include_bytes!("../../../captures/printers/ippeveprinter_attention.ipp");
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut bytes = real.to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[i] = next() as u8,
                    1 => bytes.truncate(i.max(1)),
                    _ => bytes.insert(i, next() as u8),
                }
            }
            if let Ok(r) = decode(&bytes) {
                assert!(r.attributes.len() <= MAX_ITEMS);
                let attrs = PrinterAttributes::from_response(&r);
                assert!(attrs.state_reasons.len() <= MAX_REASONS);
            }
        }
    }

    #[test]
    fn hostile_inputs_are_errors() {
        assert_eq!(decode(b"HTTP/1.1 200 OK\r\n"), Err(IppError::Version { major: b'H', minor: b'T' }));
        // A value before any group.
        let mut orphan = vec![2, 0, 0, 0, 0, 0, 0, 1];
        push(&mut orphan, TAG_KEYWORD, "x", b"y");
        assert!(matches!(decode(&orphan), Err(IppError::Orphan { .. })));
        // An additional value with no attribute before it.
        let mut lone = vec![2, 0, 0, 0, 0, 0, 0, 1, 0x04];
        push(&mut lone, TAG_KEYWORD, "", b"y");
        assert!(matches!(decode(&lone), Err(IppError::Orphan { .. })));
        // Collections nested past the bound.
        let mut deep = vec![2, 0, 0, 0, 0, 0, 0, 1, 0x04];
        for _ in 0..=MAX_DEPTH {
            push(&mut deep, TAG_BEGIN_COLLECTION, "c", b"");
        }
        assert!(matches!(decode(&deep), Err(IppError::TooLarge { .. })));
        // Too many items.
        let mut many = vec![2, 0, 0, 0, 0, 0, 0, 1, 0x04];
        for _ in 0..=MAX_ITEMS {
            push(&mut many, TAG_KEYWORD, "k", b"");
        }
        assert!(matches!(decode(&many), Err(IppError::TooLarge { .. })));
    }
}
