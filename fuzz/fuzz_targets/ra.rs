//! Router Advertisements from the network: `parse_router_advert` must never panic, must
//! keep every list within its cap, and the judge must take whatever it returns.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use nettriage::check::ipv6::{
    Ipv6Evidence, MAX_DNSSL, MAX_PREFIXES, MAX_RDNSS, classify, judge, notices, parse_router_advert,
};
use nettriage::check::Source;
use nettriage::config::Ipv6Settings;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the source: link-local (the valid case) or not.
    let (first, icmp) = data.split_first().map_or((0, data), |(f, rest)| (*f, rest));
    let source = if first & 1 == 0 { Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(first)) } else { Ipv6Addr::LOCALHOST };
    let Ok(ra) = parse_router_advert(icmp, source) else { return };
    assert!(ra.prefixes.len() <= MAX_PREFIXES);
    assert!(ra.rdnss.len() <= MAX_RDNSS);
    assert!(ra.dnssl.len() <= MAX_DNSSL);
    assert!(ra.dnssl.iter().all(|n| n.len() <= 253));
    let mut ev = Ipv6Evidence {
        interface: "eth0".into(),
        enabled: true,
        sysctl: Default::default(),
        solicitation: None,
        ra_mtu: ra.mtu,
        addresses: classify(&[], std::slice::from_ref(&ra)),
        routers: vec![ra],
        kernel_ra_routes: vec![],
        resolvers: vec![],
        notices: vec![],
        capture: None,
    };
    ev.notices = notices(&ev);
    let _ = judge(&ev, &Ipv6Settings::default(), Source::Live);
});
