//! DNS-SD over multicast DNS (RFC 6763, RFC 6762) for the `printers` profile: the one-shot
//! queries it sends and the answers it reads. Pure: `check::printers::run` owns the socket.
//!
//! The profile asks once, from an ephemeral port, for the PTR records of the printer
//! services ([`SERVICES`]); responders answer such a "legacy unicast" query (RFC 6762 §6.7)
//! straight to that port, usually with the SRV, TXT and address records in the same
//! message. A second query asks for what the first answers left out. No daemon, no cache,
//! no announcements of our own: a crate such as `mdns-sd` runs a responder thread and
//! joins the multicast group on every interface, more than a bounded look at one segment
//! needs. Messages are encoded and parsed by hickory-proto (the crate's DNS parser
//! everywhere); [`Browse::add`] folds them, bounded, and has a fuzz target
//! (`fuzz/fuzz_targets/mdns_response.rs`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::{Deserialize, Serialize};

/// The DNS-SD service types of printers: IPP, IPP over TLS, raw (port 9100 "PDL data
/// stream") and LPD (RFC 6763 §7, the IANA service names registry).
pub const SERVICES: [&str; 4] = ["_ipp._tcp", "_ipps._tcp", "_pdl-datastream._tcp", "_printer._tcp"];

/// The mDNS port and IPv4 group (RFC 6762 §3).
pub const MDNS_PORT: u16 = 5353;
/// The mDNS IPv4 multicast group.
pub const MDNS_V4: std::net::Ipv4Addr = std::net::Ipv4Addr::new(224, 0, 0, 251);

/// The most service instances kept from one browse.
pub const MAX_INSTANCES: usize = 64;

/// One advertised printer service, as far as the answers told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MdnsService {
    /// The instance name (the printer's advertised name).
    pub printer_name: String,
    /// The service type, e.g. `_ipp._tcp`.
    pub service: String,
    /// The SRV record's target host, e.g. `labprinter.local`.
    pub host: Option<String>,
    /// The SRV record's port.
    pub port: Option<u16>,
    /// The host's first address from the answers.
    pub address: Option<IpAddr>,
    /// The TXT record's `rp` (IPP resource path, e.g. `ipp/print`).
    pub resource_path: Option<String>,
}

/// A query for the printer services' PTR records (pure).
pub fn browse_query(id: u16) -> Message {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    for service in SERVICES {
        if let Ok(name) = Name::from_ascii(format!("{service}.local.")) {
            msg.add_query(Query::query(name, RecordType::PTR));
        }
    }
    msg
}

/// A query for what the browse left out: SRV and TXT of instances without them, A of
/// hosts without an address (pure). `None` when nothing is missing.
pub fn resolve_query(id: u16, browse: &Browse) -> Option<Message> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    for (key, inst) in &browse.instances {
        if inst.port.is_none() {
            msg.add_query(Query::query(key.clone(), RecordType::SRV));
            msg.add_query(Query::query(key.clone(), RecordType::TXT));
        }
        if let Some(host) = &inst.host
            && !browse.addresses.contains_key(host)
        {
            msg.add_query(Query::query(host.clone(), RecordType::A));
        }
    }
    (!msg.queries.is_empty()).then_some(msg)
}

#[derive(Debug, Clone, Default)]
struct Instance {
    host: Option<Name>,
    port: Option<u16>,
    resource_path: Option<String>,
}

/// What the answers of one browse said: instances by their full name, hosts' addresses.
#[derive(Debug, Clone, Default)]
pub struct Browse {
    instances: BTreeMap<Name, Instance>,
    addresses: BTreeMap<Name, IpAddr>,
}

/// The `(instance, service)` of a full instance name `Lab Printer._ipp._tcp.local.` when
/// its service is one of [`SERVICES`].
fn split_instance(name: &Name) -> Option<(String, &'static str)> {
    let labels: Vec<&[u8]> = name.iter().collect();
    if labels.len() < 4 {
        return None;
    }
    let service = format!(
        "{}.{}",
        String::from_utf8_lossy(labels[labels.len() - 3]),
        String::from_utf8_lossy(labels[labels.len() - 2])
    )
    .to_ascii_lowercase();
    let known = SERVICES.into_iter().find(|s| *s == service)?;
    let instance = labels[..labels.len() - 3].iter().map(|l| String::from_utf8_lossy(l)).collect::<Vec<_>>().join(".");
    Some((instance, known))
}

impl Browse {
    /// Folds one datagram's answers in (pure); anything that is not a DNS response is
    /// ignored. Returns whether it was a response.
    pub fn add(&mut self, bytes: &[u8]) -> bool {
        let Ok(msg) = Message::from_vec(bytes) else { return false };
        if msg.metadata.message_type != MessageType::Response {
            return false;
        }
        for record in msg.answers.iter().chain(&msg.additionals).chain(&msg.authorities) {
            let known = |b: &Browse, n: &Name| b.instances.contains_key(n) || b.instances.len() < MAX_INSTANCES;
            match &record.data {
                RData::PTR(ptr) => {
                    let instance = ptr.0.clone();
                    if split_instance(&instance).is_some() && known(self, &instance) {
                        self.instances.entry(instance).or_default();
                    }
                }
                RData::SRV(srv) => {
                    let name = record.name.clone();
                    if split_instance(&name).is_some() && known(self, &name) {
                        let inst = self.instances.entry(name).or_default();
                        inst.host = Some(srv.target.clone());
                        inst.port = Some(srv.port);
                    }
                }
                RData::TXT(txt) => {
                    let name = record.name.clone();
                    if split_instance(&name).is_some() && known(self, &name) {
                        let rp = txt.txt_data.iter().find_map(|kv| {
                            let kv = String::from_utf8_lossy(kv);
                            kv.strip_prefix("rp=").map(|v| v.chars().take(256).collect::<String>())
                        });
                        let inst = self.instances.entry(name).or_default();
                        if rp.is_some() {
                            inst.resource_path = rp;
                        }
                    }
                }
                RData::A(a) if self.addresses.len() < MAX_INSTANCES => {
                    self.addresses.entry(record.name.clone()).or_insert(IpAddr::V4(a.0));
                }
                _ => {}
            }
        }
        true
    }

    /// Every instance with what is known of it, in name order (pure).
    pub fn services(&self) -> Vec<MdnsService> {
        self.instances
            .iter()
            .filter_map(|(name, inst)| {
                let (printer_name, service) = split_instance(name)?;
                Some(MdnsService {
                    printer_name,
                    service: service.to_string(),
                    host: inst.host.as_ref().map(|h| h.to_utf8().trim_end_matches('.').to_string()),
                    port: inst.port,
                    address: inst.host.as_ref().and_then(|h| self.addresses.get(h).copied()),
                    resource_path: inst.resource_path.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, PTR, SRV, TXT};

    fn name(s: &str) -> Name {
        Name::from_utf8(s).unwrap()
    }

    /// The answer a responder gives to the browse: PTR, then SRV, TXT and A as additionals.
    fn answer(instance: &str, service: &str, with_additionals: bool) -> Vec<u8> {
        let mut msg = Message::new(7, MessageType::Response, OpCode::Query);
        let mut labels: Vec<&[u8]> = vec![instance.as_bytes()];
        labels.extend(service.split('.').map(str::as_bytes));
        labels.push(b"local");
        let full = Name::from_labels(labels).unwrap();
        msg.add_answer(Record::from_rdata(name(&format!("{service}.local.")), 120, RData::PTR(PTR(full.clone()))));
        if with_additionals {
            msg.add_additional(Record::from_rdata(
                full.clone(),
                120,
                RData::SRV(SRV::new(0, 0, 8631, name("labprinter.local."))),
            ));
            msg.add_additional(Record::from_rdata(
                full,
                120,
                RData::TXT(TXT::new(vec!["txtvers=1".into(), "rp=ipp/print".into()])),
            ));
            msg.add_additional(Record::from_rdata(name("labprinter.local."), 120, RData::A(A::new(198, 18, 0, 7))));
        }
        msg.to_vec().unwrap()
    }

    #[test]
    fn the_browse_asks_for_every_printer_service() {
        let q = browse_query(1);
        let asked: Vec<String> = q.queries.iter().map(|q| q.name().to_utf8()).collect();
        assert_eq!(asked.len(), SERVICES.len());
        assert!(asked.contains(&"_pdl-datastream._tcp.local.".to_string()));
        assert!(Message::from_vec(&q.to_vec().unwrap()).is_ok());
    }

    #[test]
    fn a_full_answer_gives_a_printer_with_address_port_and_path() {
        let mut b = Browse::default();
        assert!(b.add(&answer("Lab Printer", "_ipp._tcp", true)));
        assert_eq!(
            b.services(),
            vec![MdnsService {
                printer_name: "Lab Printer".into(),
                service: "_ipp._tcp".into(),
                host: Some("labprinter.local".into()),
                port: Some(8631),
                address: Some("198.18.0.7".parse().unwrap()),
                resource_path: Some("ipp/print".into()),
            }]
        );
        assert!(resolve_query(2, &b).is_none());
    }

    #[test]
    fn a_bare_ptr_asks_for_srv_and_txt_then_the_address() {
        let mut b = Browse::default();
        b.add(&answer("Lab Printer", "_printer._tcp", false));
        let q = resolve_query(2, &b).unwrap();
        assert_eq!(
            q.queries.iter().map(|q| q.query_type()).collect::<Vec<_>>(),
            vec![RecordType::SRV, RecordType::TXT]
        );
        assert_eq!(b.services()[0].port, None);
    }

    #[test]
    fn queries_garbage_and_other_services_are_ignored() {
        let mut b = Browse::default();
        assert!(!b.add(&browse_query(3).to_vec().unwrap()));
        assert!(!b.add(b"\x00\x01garbage"));
        b.add(&answer("Speaker", "_airplay._tcp", true));
        assert!(b.services().is_empty());
    }

    #[test]
    fn instances_are_bounded() {
        let mut b = Browse::default();
        for i in 0..(MAX_INSTANCES + 10) {
            b.add(&answer(&format!("P{i}"), "_ipp._tcp", false));
        }
        assert_eq!(b.services().len(), MAX_INSTANCES);
    }
}
