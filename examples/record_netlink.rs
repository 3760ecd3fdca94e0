//! Records raw rtnetlink dump replies (links, addresses, routes) as the kernel sends them,
//! for the unit-test fixtures in `captures/netlink/`. Run it inside a lab namespace:
//!
//! ```text
//! ip netns exec LAB-CLIENT cargo run --example record_netlink -- captures/netlink
//! ```

use std::io::Write;

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::RouteMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

fn dump(socket: &Socket, request: RouteNetlinkMessage, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(request));
    msg.finalize();
    let mut buf = vec![0; msg.header.length as usize];
    msg.serialize(&mut buf);
    socket.send(&buf, 0).expect("send");

    let mut out = Vec::new();
    loop {
        let (data, _) = socket.recv_from_full().expect("recv");
        let mut offset = 0;
        while offset + 16 <= data.len() {
            let len = u32::from_ne_bytes(data[offset..offset + 4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(data[offset + 4..offset + 6].try_into().unwrap());
            if kind == 3 {
                return out; // NLMSG_DONE
            }
            out.extend_from_slice(&data[offset..offset + len]);
            offset += len.div_ceil(4) * 4;
        }
    }
}

#[allow(clippy::print_stderr)] // a developer tool: its output is for the person running it
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "captures/netlink".into());
    let mut socket = Socket::new(NETLINK_ROUTE).expect("netlink socket");
    socket.bind_auto().expect("bind");
    socket.connect(&SocketAddr::new(0, 0)).expect("connect");
    let mut route = RouteMessage::default();
    route.header.address_family = netlink_packet_route::AddressFamily::Inet;
    let files = [
        ("links.bin", RouteNetlinkMessage::GetLink(LinkMessage::default())),
        ("addrs.bin", RouteNetlinkMessage::GetAddress(AddressMessage::default())),
        ("routes.bin", RouteNetlinkMessage::GetRoute(route)),
    ];
    for (seq, (file, request)) in files.into_iter().enumerate() {
        let bytes = dump(&socket, request, seq as u32 + 1);
        let path = format!("{dir}/{file}");
        std::fs::File::create(&path).and_then(|mut f| f.write_all(&bytes)).expect("write fixture");
        eprintln!("wrote {} bytes to {path}", bytes.len());
    }
}
