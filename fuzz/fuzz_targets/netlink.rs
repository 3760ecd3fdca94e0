//! Netlink replies: decoding (netlink-packet-route) and our conversion into a snapshot
//! must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_packet_core::{NetlinkBuffer, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use nettriage::platform::netlink::NetSnapshot;

fuzz_target!(|data: &[u8]| {
    let (mut links, mut addrs, mut routes) = (vec![], vec![], vec![]);
    let mut rest = data;
    for _ in 0..64 {
        if rest.len() < 16 {
            break;
        }
        let Ok(buf) = NetlinkBuffer::new_checked(rest) else { break };
        let len = (buf.length() as usize).max(16);
        let Some(one) = rest.get(..len) else { break };
        if let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(one)
            && let NetlinkPayload::InnerMessage(inner) = msg.payload
        {
            match inner {
                RouteNetlinkMessage::NewLink(l) => links.push(l),
                RouteNetlinkMessage::NewAddress(a) => addrs.push(a),
                RouteNetlinkMessage::NewRoute(r) => routes.push(r),
                _ => {}
            }
        }
        rest = rest.get(len.div_ceil(4) * 4..).unwrap_or_default();
    }
    let snapshot = NetSnapshot::from_messages(&links, &addrs, &routes);
    let _ = snapshot.select(None);
    let _ = snapshot.default_routes();
});
