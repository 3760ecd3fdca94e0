//! resolv.conf and the stubs' upstream files: the glibc-like parser must be total on any
//! input, keep at most its bound of entries, and give only the first three to the system.
//! The same bytes as `resolvectl status` text: the per-link reader must be total too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::platform::resolv::{MAXNS, ResolverPaths, assemble, parse_resolv_conf, parse_resolvectl_status, resolvectl_dot_mode};

fuzz_target!(|data: &[u8]| {
    let ifindex = |name: &str| (name.len() <= 15 && !name.is_empty()).then_some(name.len() as u32);
    let conf = parse_resolv_conf(data, &ifindex);
    for ns in &conf.nameservers {
        let _ = ns.socket_addr(53);
    }
    let upstreams = Some(conf.nameservers.clone());
    let d = assemble(&ResolverPaths::default(), Ok(conf), upstreams.clone(), upstreams);
    assert!(d.system.len() <= MAXNS && !d.system.is_empty());
    let _ = d.servers_to_test();
    let links = parse_resolvectl_status(&String::from_utf8_lossy(data));
    assert!(links.len() <= 256 && links.iter().all(|l| l.servers.len() <= 64));
    for ns in d.servers_to_test() {
        let _ = resolvectl_dot_mode(&links, ns.0.ip);
    }
});
