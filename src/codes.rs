//! The stable finding codes, with what each one means to a person.
//!
//! Every finding and every root cause in a report carries one of these codes. Tests, the
//! JSON report and monitoring key on the code string (`as_str`), never on message text, so
//! a code is never renamed once released. The end-user summary and the technician's next
//! steps live here, next to the code, so that the diagnosis, the renderers and the docs all
//! say the same thing. `docs/checks/*.md` documents every code; a unit test keeps the two
//! in step.
//!
//! A report written by a newer nettriage may carry codes this build does not know. They
//! read as [`Code::Unknown`] and write back as themselves (hickory's
//! `ResponseCode::Unknown(u16)` is the pattern), so history, metrics, trends and diff keep
//! them. [`UnknownCode`] keeps `Code` `Copy` by interning the text in a small bounded table.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::report::CheckId;

macro_rules! codes {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $text:literal, $layer:ident, blocks: $blocks:literal,
        summary: $summary:literal,
        steps: [$($step:literal),* $(,)?];
    )*) => {
        /// A stable, snake_case finding code, prefixed with its layer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
            /// A code this build does not know (a report from a newer nettriage): read and
            /// written back as itself, never produced by a check.
            Unknown(UnknownCode),
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as it appears in reports, e.g. `dns.timeout`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* Code::Unknown(u) => u.as_str() }
            }

            /// The check (layer) this code belongs to; `tool.*` codes belong to the check
            /// that could not run and report their layer from the finding; `capture.*`
            /// codes are about an analysed capture file, not a layer. An unknown code
            /// belongs to the layer its prefix names, if this build knows that layer.
            pub fn layer(self) -> Option<CheckId> {
                match self { $(Code::$variant => codes!(@layer $layer),)* Code::Unknown(u) => u.layer() }
            }

            /// Whether a failure with this code makes the later layers untestable, so the
            /// runner skips them as blocked (a rogue DHCP server does not; no address does).
            pub fn blocks(self) -> bool {
                match self { $(Code::$variant => $blocks,)* Code::Unknown(_) => false }
            }

            /// One plain-language sentence an end user understands.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* Code::Unknown(_) => UNKNOWN_SUMMARY }
            }

            /// Concrete next steps for a technician, most likely fix first.
            pub fn next_steps(self) -> &'static [&'static str] {
                match self { $(Code::$variant => &[$($step),*],)* Code::Unknown(_) => UNKNOWN_STEPS }
            }

            /// Looks a code this build knows up by its report string.
            pub fn from_code_str(text: &str) -> Option<Code> {
                match text { $($text => Some(Code::$variant),)* _ => None }
            }

            /// Reads a code from its report string: a known code, or [`Code::Unknown`]
            /// holding the text (see [`UnknownCode::intern`] for the bounds).
            pub fn parse(text: &str) -> Code {
                Code::from_code_str(text).unwrap_or_else(|| Code::Unknown(UnknownCode::intern(text)))
            }

            /// Whether this build knows the code (it is not [`Code::Unknown`]).
            pub fn is_known(self) -> bool {
                !matches!(self, Code::Unknown(_))
            }
        }
    };
    (@layer tool) => { None };
    (@layer capture) => { None };
    (@layer $layer:ident) => { Some(CheckId::$layer) };
}

codes! {
    /// No interface to test: none given and none is up with a default route.
    LinkNoInterface = "link.no_interface", Link, blocks: true,
    summary: "This computer has no active network connection to test.",
    steps: [
        "Check that a network adapter is present and enabled (`ip link`).",
        "Plug in the cable or connect to Wi-Fi, then run the test again.",
        "Name the interface explicitly with --interface if it has an unusual role.",
    ];
    /// The interface is administratively down.
    LinkAdminDown = "link.admin_down", Link, blocks: true,
    summary: "The network adapter is switched off on this computer.",
    steps: [
        "Bring the interface up (`ip link set IF up`) or enable it in the network settings.",
        "Check whether a policy, NetworkManager profile or airplane mode disabled it.",
    ];
    /// The interface cannot carry the tests: the loopback interface.
    LinkUnsuitable = "link.unsuitable", Link, blocks: true,
    summary: "The interface tested cannot carry these tests (it is the loopback interface).",
    steps: [
        "Test the interface that connects this computer to the network: leave out --interface, or name it (`ip link` lists them).",
        "The loopback interface only talks to this computer itself: it has no router, DHCP server or carrier to check.",
    ];
    /// The interface is up but has no carrier (no cable, dead port, no association).
    LinkNoCarrier = "link.no_carrier", Link, blocks: true,
    summary: "The network cable is unplugged or the connection on the other end is dead.",
    steps: [
        "Check the cable at both ends and try another cable or wall port.",
        "Check that the switch port is enabled and not err-disabled (port security, BPDU guard).",
        "Look at the switch port's link LED and logs for negotiation failures.",
    ];
    /// Receive or transmit errors are a significant share of the traffic.
    LinkErrors = "link.errors", Link, blocks: false,
    summary: "The network connection is damaging data, which makes it slow and unreliable.",
    steps: [
        "Replace the patch cable and re-test; CRC and frame errors usually mean cabling.",
        "Check for a speed/duplex mismatch between the interface and the switch port.",
        "Compare with the switch port's error counters.",
    ];
    /// The switch port's duplex (LLDP 802.3 MAC/PHY operational MAU type, or CDP's duplex)
    /// differs from this interface's: one side half, the other full (late collisions, loss
    /// under load).
    LinkDuplexMismatch = "link.duplex_mismatch", Neighbours, blocks: false,
    summary: "This computer and the network switch disagree on how to use the cable (duplex), which makes the connection slow and lossy under load.",
    steps: [
        "Compare `duplex` of the neighbour (what the switch port says) with `local_duplex` in the evidence.",
        "Set both ends to auto-negotiate (`ethtool -s IF autoneg on` here; `speed auto` / `duplex auto` on the switch port): a fixed setting on one end and auto on the other ends in half duplex.",
        "If it persists with auto on both ends, replace the patch cable and try another wall port: a damaged pair can make negotiation fall back.",
    ];
    /// The switch port's speed (LLDP operational MAU type) differs from this interface's.
    LinkSpeedMismatch = "link.speed_mismatch", Neighbours, blocks: false,
    summary: "The network switch and this computer report different connection speeds; the link may be running slower than it should.",
    steps: [
        "Compare `speed_mbps` of the neighbour with `local_speed_mbps` in the evidence.",
        "A gigabit port running at 100 Mbit/s usually means a cable with a broken pair or a Cat5 patch lead: replace it and re-test.",
        "Check both ends are set to auto-negotiate, not forced to a speed.",
    ];
    /// The switch says the port's untagged VLAN (LLDP 802.1 Port VLAN ID, CDP native VLAN)
    /// is not the one configured for this site (`[neighbours] expected_vlan`).
    LinkUnexpectedVlan = "link.unexpected_vlan", Neighbours, blocks: false,
    summary: "This wall port is connected to the wrong network (VLAN), so this computer gets the wrong addresses and cannot reach what it should.",
    steps: [
        "Read the switch name, port and `port_vlan` in the evidence and compare with `expected_vlan`.",
        "Have the switch port moved to the expected VLAN (`switchport access vlan N` on Cisco), or patch the desk to a port that is in it.",
        "If the site uses 802.1X or dynamic VLAN assignment, check the RADIUS server's decision for this machine.",
    ];
    /// The switch says it allocated less power than the device requested (802.3at power
    /// via MDI).
    LinkPoeInsufficient = "link.poe_insufficient", Neighbours, blocks: false,
    summary: "The network switch gives this device less power than it asked for, so it may restart or switch features off.",
    steps: [
        "Compare `requested_mw` and `allocated_mw` of the neighbour's `power` in the evidence.",
        "Check the switch's PoE budget (`show power inline` on Cisco) and move the device to a port or switch with power to spare, or raise the port's power limit.",
        "A class 4 (PoE+) device on an 802.3af-only port gets at most 15.4 W.",
    ];
    /// Informational (a notice in the evidence, never a finding): no LLDP or CDP frame was
    /// heard while the check listened, and lldpd (if it runs) knows no neighbour.
    NeighboursNoneHeard = "neighbours.none_heard", Neighbours, blocks: false,
    summary: "The network switch did not say which port this is during the test.",
    steps: [
        "Run again with `--neighbours`: switches send LLDP every 30 s and CDP every 60 s, so a short run often hears nothing.",
        "If still nothing, the switch may have LLDP and CDP switched off on this port (`lldp run` / `cdp run` on Cisco), or this is not a managed switch (a desk switch, a wall-port media converter).",
    ];
    /// Informational (a notice in the evidence, never a finding): LLDP or CDP frames that
    /// did not decode were heard (counted, never judged).
    NeighboursMalformed = "neighbours.malformed", Neighbours, blocks: false,
    summary: "Some switch announcements on this network could not be read.",
    steps: [
        "Capture them (`tcpdump -i IF -w lldp.pcap 'ether proto 0x88cc or ether dst 01:00:0c:cc:cc:cc'`) and open them in Wireshark to see which device sends them.",
        "A device sending malformed discovery frames is usually misconfigured or buggy firmware; report it with the capture.",
    ];
    /// A wireless client interface is not associated (or not authorized) with an access point.
    WifiNotConnected = "wifi.not_connected", Wifi, blocks: true,
    summary: "This computer is not connected to a Wi-Fi network.",
    steps: [
        "Connect to the network in the Wi-Fi settings (`nmcli device wifi connect SSID`) and check that Wi-Fi is not switched off (`rfkill list`).",
        "If it is associated but not authorized, check the passphrase or the 802.1X credentials and the RADIUS server's log for a rejection.",
        "If the network is not in the scan results, move closer to an access point or check that the AP is up.",
    ];
    /// The signal from the access point is weak.
    WifiWeakSignal = "wifi.weak_signal", Wifi, blocks: false,
    summary: "The Wi-Fi signal here is weak, so the connection is slow and drops out.",
    steps: [
        "Move closer to the access point or remove obstacles (walls, metal, people) between them.",
        "Check the coverage plan: an access point may be missing, off, or at too low a transmit power.",
        "Connect to a nearer access point of the same network (see the scan), or prefer 5 GHz when its signal is good.",
    ];
    /// The signal is too close to the noise floor.
    WifiLowSnr = "wifi.low_snr", Wifi, blocks: false,
    summary: "Wi-Fi interference or noise is drowning out the signal, so the connection is slow.",
    steps: [
        "Improve the signal first (see wifi.weak_signal); SNR rises with it.",
        "Look for non-Wi-Fi interferers near the client (microwave ovens, wireless cameras, Bluetooth speakers on 2.4 GHz).",
        "Move to a cleaner channel or to 5 GHz.",
    ];
    /// The transmit rate to the access point is low.
    WifiLowBitrate = "wifi.low_bitrate", Wifi, blocks: false,
    summary: "The Wi-Fi connection runs at a low speed.",
    steps: [
        "Re-run while traffic flows: an idle link can report a stale, low rate.",
        "Low rates usually follow weak signal, low SNR or interference: see those findings.",
        "Check that the client and AP support the same standards and widths (Wi-Fi 5/6, 40/80 MHz) and that legacy rates are not forced.",
    ];
    /// Many frames need retransmission or fail.
    WifiHighRetries = "wifi.high_retries", Wifi, blocks: false,
    summary: "Much of the Wi-Fi traffic has to be sent again, which slows the connection down.",
    steps: [
        "Check signal, SNR and channel congestion: retries follow from them.",
        "Look for hidden nodes: clients that cannot hear each other collide at the AP (RTS/CTS may help).",
        "Compare with the AP's view of this client (retry and failure counters in its management UI).",
    ];
    /// The channel is shared with many other access points or is busy much of the time.
    WifiCongestedChannel = "wifi.congested_channel", Wifi, blocks: false,
    summary: "The Wi-Fi channel is crowded with other networks, so everyone on it has to wait their turn.",
    steps: [
        "Move the access point to one of the quieter channels named in the finding.",
        "On 2.4 GHz use only channels 1, 6 and 11; prefer 5 GHz with 20 or 40 MHz channels in dense areas.",
        "Lower the transmit power of over-lapping APs of your own network, or remove unneeded SSIDs.",
    ];
    /// The network is open or uses WEP, WPA1 or TKIP.
    WifiInsecure = "wifi.insecure", Wifi, blocks: false,
    summary: "This Wi-Fi network's security is missing or outdated, so others nearby may read the traffic.",
    steps: [
        "Configure the network for WPA2 (AES/CCMP) or better WPA3; disable WEP, WPA1 and TKIP.",
        "On an open guest network, make sure clients use a VPN or only encrypted (HTTPS) services.",
        "Check that this is the intended network and not a look-alike (evil twin) access point.",
    ];
    /// Associated on 2.4 GHz although the adapter can use 5 or 6 GHz.
    WifiBand2ghzOnly = "wifi.band_2ghz_only", Wifi, blocks: false,
    summary: "This computer uses the slower, more crowded 2.4 GHz Wi-Fi band although it could use a faster one.",
    steps: [
        "Check whether the network also offers 5 GHz (same name or a separate one) and prefer it in the client's settings.",
        "Enable band steering on the access points, or check that their 5 GHz radio is on.",
        "If 5 GHz does not reach this spot, an additional access point may be needed.",
    ];
    /// The interface has no usable IPv4 address.
    DhcpNoIpv4 = "dhcp.no_ipv4", Dhcp, blocks: true,
    summary: "This computer did not get a network address, so it cannot talk to anything.",
    steps: [
        "Check that a DHCP server serves this network segment/VLAN and has free leases.",
        "Renew the lease (`dhclient -r; dhclient IF`, `nmcli device reapply IF`).",
        "If the address is static, check it is configured on this interface.",
    ];
    /// No DHCP server answered the DISCOVER.
    DhcpNoOffer = "dhcp.no_offer", Dhcp, blocks: false,
    summary: "No server on this network is handing out addresses.",
    steps: [
        "Check that the DHCP server (or the router's DHCP service) is running and has this segment/VLAN in scope.",
        "If a relay (ip helper-address) serves this VLAN, check it points at a working server.",
        "Check DHCP snooping: the port toward the server must be trusted.",
    ];
    /// The server refused the request (DHCPNAK).
    DhcpNak = "dhcp.nak", Dhcp, blocks: false,
    summary: "The network's address server refused to give this computer an address.",
    steps: [
        "Read the NAK's message in the evidence; it usually names the reason.",
        "Check the scope is not exhausted and the requested address belongs to this network.",
        "A NAK right after moving networks is normal once; repeated NAKs are not.",
    ];
    /// Offers came from more than one server.
    DhcpMultipleServers = "dhcp.multiple_servers", Dhcp, blocks: false,
    summary: "More than one device on this network is handing out addresses, so some computers may get wrong ones.",
    steps: [
        "Find the extra server by its MAC address in the evidence (switch MAC table) and unplug or disable it.",
        "If two servers are intended (a failover pair), list them in `expected_dhcp_servers`.",
        "Enable DHCP snooping on the access switches.",
    ];
    /// An offer came from a server not in the configured list.
    DhcpUnexpectedServer = "dhcp.unexpected_server", Dhcp, blocks: false,
    summary: "A device that should not be handing out addresses is doing so on this network.",
    steps: [
        "Locate the server by its MAC address (switch MAC table) and remove it; home routers plugged in backwards are the usual culprit.",
        "Enable DHCP snooping so untrusted ports cannot answer.",
    ];
    /// What the server offers differs from what the interface uses.
    DhcpOfferMismatch = "dhcp.offer_mismatch", Dhcp, blocks: false,
    summary: "This computer's network settings differ from what the network hands out now.",
    steps: [
        "Renew the lease so the interface takes the current settings.",
        "Check for a static configuration (gateway, DNS, mask) overriding DHCP.",
    ];
    /// The first offer arrived slowly.
    DhcpSlow = "dhcp.slow", Dhcp, blocks: false,
    summary: "Getting a network address takes longer than it should.",
    steps: [
        "Check the DHCP server's load and, with a relay, the path between relay and server.",
        "Check for spanning-tree delays on the access port (enable portfast/edge).",
    ];
    /// A self-assigned 169.254.0.0/16 address is in use.
    DhcpApipa = "dhcp.apipa", Dhcp, blocks: true,
    summary: "This computer gave itself an emergency address because no server answered, so it cannot reach the network.",
    steps: [
        "Fix DHCP first (see the other dhcp findings), then renew the lease.",
        "Check the cable/Wi-Fi and that the port is on the right VLAN.",
    ];
    /// Another host answers ARP for our address.
    DhcpDuplicateAddress = "dhcp.duplicate_address", Dhcp, blocks: false,
    summary: "Another device on the network is using this computer's address, which causes dropouts.",
    steps: [
        "Find the other device by the MAC address in the evidence (switch MAC table, router ARP table).",
        "Remove the duplicate static assignment or exclude it from the DHCP scope.",
    ];
    /// The lease is close to expiry without having been renewed.
    DhcpLeaseExpiring = "dhcp.lease_expiring", Dhcp, blocks: false,
    summary: "This computer's network address is about to expire and has not been renewed.",
    steps: [
        "Check that the DHCP client is running and the server answers renewals (see dhcp.no_offer).",
        "Renew now to confirm (`networkctl renew IF`, `nmcli device reapply IF`, `dhclient IF`).",
    ];
    /// Informational (a notice in the evidence, never a finding): IPv6 is on, but no
    /// router answered the Router Solicitation in the window. An IPv4-only network is
    /// healthy.
    Ipv6NoRouter = "ipv6.no_router", Ipv6, blocks: false,
    summary: "No IPv6 router answered on this network; IPv4 is used, which is normal for an IPv4-only network.",
    steps: [
        "If IPv6 is expected here, check that the router sends Router Advertisements on this VLAN (radvd, `ipv6 nd` settings, the firewall's RA guard).",
        "If IPv6 is not expected, nothing needs doing.",
    ];
    /// Router Advertisements came from more than one source.
    Ipv6MultipleRouters = "ipv6.multiple_routers", Ipv6, blocks: false,
    summary: "More than one device on this network announces itself as an IPv6 router, which can send traffic the wrong way.",
    steps: [
        "Compare the routers' MACs and link-local addresses in the evidence with the network's real routers.",
        "If two routers are intended, list both in `[ipv6] expected_routers_v6`; otherwise find the other device by its MAC (switch MAC table) and turn off its router advertisements.",
        "Enable RA Guard (RFC 6105) on the access switches so only router ports may send advertisements.",
    ];
    /// A Router Advertisement came from a source not in `expected_routers_v6`.
    Ipv6UnexpectedRouter = "ipv6.unexpected_router", Ipv6, blocks: false,
    summary: "An unknown device is announcing itself as this network's IPv6 router; computers may send their traffic through it.",
    steps: [
        "Find the device by the MAC in the evidence (switch MAC table): a laptop sharing its connection, a consumer router plugged in backwards, or an attacker.",
        "Turn off its router advertisements or disconnect it; until then, affected computers may keep addresses and routes from it for the advertised lifetimes.",
        "Enable RA Guard (RFC 6105) on the access switches.",
    ];
    /// A router offered an autonomous prefix (or DHCPv6 addresses, the M flag) but the
    /// interface formed no global IPv6 address.
    Ipv6NoAddress = "ipv6.no_address", Ipv6, blocks: false,
    summary: "The network offers IPv6 but this computer did not get an IPv6 address.",
    steps: [
        "Check the interface's IPv6 settings: `sysctl net.ipv6.conf.IF.accept_ra` and `.autoconf` (the evidence has them); forwarding=1 makes the kernel ignore RAs.",
        "With the M flag set, check that a DHCPv6 client runs and a DHCPv6 server answers (RFC 8415).",
        "A prefix that is not /64 cannot be used for SLAAC (RFC 4862): fix the prefix length on the router.",
    ];
    /// Global IPv6 addresses exist but no resolver is known: no RDNSS in the RAs and none in
    /// resolv.conf.
    Ipv6NoDns = "ipv6.no_dns", Ipv6, blocks: false,
    summary: "This computer has an IPv6 address but no name server, so websites cannot be found by name over it.",
    steps: [
        "Advertise resolvers in the RAs (RDNSS, RFC 8106) or with stateless DHCPv6 (the O flag), or give IPv4 resolvers by DHCP.",
        "Check that the local resolver manager (systemd-resolved, NetworkManager) takes RDNSS into resolv.conf.",
    ];
    /// An IPv6 address on the interface failed duplicate address detection.
    Ipv6DadFailed = "ipv6.dad_failed", Ipv6, blocks: false,
    summary: "Another device on the network uses the same IPv6 address as this computer, so that address cannot be used.",
    steps: [
        "Find the other device: `ndisc6 ADDRESS IF` or the switch's neighbour table show its MAC.",
        "Remove the duplicate static address, or fix the device that copied this computer's interface identifier (a cloned VM keeps the MAC).",
        "Remove the failed address and add it again (`ip -6 addr del`/`add`) or bring the interface down and up to repeat DAD.",
    ];
    /// There is no default route through the interface under test.
    GatewayMissing = "gateway.missing", Gateway, blocks: true,
    summary: "This computer does not know the way out of the local network.",
    steps: [
        "Check that DHCP hands out a router (option 3) or that a static default route is set.",
        "Look for a VPN or another interface that took over the default route (`ip route`).",
    ];
    /// The gateway did not answer ARP: it is gone, off, or on another VLAN.
    GatewayUnreachable = "gateway.unreachable", Gateway, blocks: true,
    summary: "The router this computer uses is not responding at all.",
    steps: [
        "Check that the router/gateway is powered on and its LAN interface is up.",
        "Check that this port is on the right VLAN: the gateway address must be on-link.",
        "Compare the configured gateway with the one DHCP offers; a stale static route can point at nothing.",
    ];
    /// The gateway answers ARP but not ICMP echo; traffic through it may still work.
    GatewayNoEcho = "gateway.no_echo", Gateway, blocks: false,
    summary: "The router is there but ignores test pings; this alone is usually harmless.",
    steps: [
        "Many gateways and firewalls drop ping to themselves by policy; confirm with the network team.",
        "If later layers also fail, check the gateway's ACLs and control-plane policing.",
    ];
    /// Ping packets to the gateway were lost.
    GatewayLoss = "gateway.loss", Gateway, blocks: false,
    summary: "The connection to the router is losing data, which makes everything unreliable.",
    steps: [
        "Repeat with more probes to see whether the loss is steady or bursty.",
        "On Wi-Fi, check the signal; on cable, check the link error counters and the cable.",
        "Check the gateway's CPU and interface load.",
    ];
    /// Round trips to the gateway are slow.
    GatewayLatency = "gateway.latency", Gateway, blocks: false,
    summary: "The connection to the router is slow.",
    steps: [
        "Check for a saturated uplink or a busy gateway CPU at the time of the test.",
        "On Wi-Fi, check signal and channel congestion.",
    ];
    /// An IPv6 default router of the interface did not answer Neighbor Solicitation
    /// (RFC 4861 section 7.2): it is gone from the link. A failure only when no IPv4
    /// gateway answers; beside a working IPv4 gateway it is a warning.
    GatewayV6Unreachable = "gateway.v6_unreachable", Gateway, blocks: false,
    summary: "The router this computer uses for IPv6 is not responding, so IPv6 does not work here.",
    steps: [
        "Check which device sends the router advertisement (`ip -6 route show default`, the `ipv6` check): it may be a device that has left or a rogue router.",
        "Check that the router's LAN interface has IPv6 enabled and answers neighbour discovery (RFC 4890: NDP must not be filtered).",
    ];
    /// An IPv6 default router answers Neighbor Solicitation but not ICMPv6 echo.
    GatewayV6NoEcho = "gateway.v6_no_echo", Gateway, blocks: false,
    summary: "The router is there on IPv6 but ignores test pings; this alone is usually harmless.",
    steps: [
        "Many routers drop echo to themselves by policy; the ports check shows whether IPv6 traffic through it works.",
        "RFC 4890 section 4.3.1 recommends allowing echo request and reply; ask the network team whether it is filtered on purpose.",
    ];
    /// ICMPv6 echoes to an IPv6 default router were lost.
    GatewayV6Loss = "gateway.v6_loss", Gateway, blocks: false,
    summary: "The IPv6 connection to the router is losing data, which makes IPv6 unreliable.",
    steps: [
        "Repeat with more probes to see whether the loss is steady or bursty.",
        "Compare with the IPv4 gateway's loss: loss on IPv6 alone points at the router's IPv6 rate limits or control-plane policing.",
    ];
    /// Round trips to an IPv6 default router are slow.
    GatewayV6Latency = "gateway.v6_latency", Gateway, blocks: false,
    summary: "The IPv6 connection to the router is slow.",
    steps: [
        "Compare with the IPv4 gateway's round trip: slow IPv6 alone points at the router's ICMPv6 handling.",
        "Check for a saturated uplink or a busy gateway CPU at the time of the test.",
    ];
    /// No DNS servers are configured.
    DnsNoServers = "dns.no_servers", Dns, blocks: false,
    summary: "This computer has no name server configured, so websites cannot be found.",
    steps: [
        "Check that DHCP hands out DNS servers (option 6) or configure them statically.",
        "Check /etc/resolv.conf and, where used, `resolvectl status`.",
    ];
    /// DNS servers did not answer in time.
    DnsTimeout = "dns.timeout", Dns, blocks: false,
    summary: "The network's name server is not answering, so websites cannot be found.",
    steps: [
        "Check that the DNS server is running and reachable (a firewall may drop port 53).",
        "Try another resolver to confirm the rest of the path works.",
    ];
    /// The DNS server or its host answered with ICMP unreachable.
    DnsUnreachable = "dns.unreachable", Dns, blocks: false,
    summary: "The name server cannot be reached, so websites cannot be found.",
    steps: [
        "Check that a DNS service listens on the server's port 53 (ICMP port unreachable says none does).",
        "Check routes and ACLs between this host and the DNS server.",
    ];
    /// The DNS server answered SERVFAIL.
    DnsServfail = "dns.servfail", Dns, blocks: false,
    summary: "The name server is answering but failing to look names up.",
    steps: [
        "Check the DNS server's upstream forwarders and its logs.",
        "Check DNSSEC validation failures and the server's own connectivity.",
    ];
    /// The DNS server answered, but the answer does not parse (seen in a capture).
    DnsMalformed = "dns.malformed", Dns, blocks: false,
    summary: "The name server answers with messages this computer cannot read.",
    steps: [
        "Capture the answer and open it in Wireshark to see which part is broken (a middlebox rewriting or truncating DNS, or a server bug).",
        "Check DNS-aware firewalls, load balancers and DNS64/ALG features on the path; try the same query against another resolver.",
    ];
    /// The DNS server refused to answer.
    DnsRefused = "dns.refused", Dns, blocks: false,
    summary: "The name server refuses to answer this computer.",
    steps: [
        "Check the server's ACLs (allow-query / allow-recursion) for this client's subnet.",
        "Check that the client is pointed at the right (internal) resolver.",
    ];
    /// A name that should exist does not.
    DnsNxdomain = "dns.nxdomain", Dns, blocks: false,
    summary: "A name that should exist could not be found.",
    steps: [
        "Check the name for typos and that the record exists in its zone.",
        "Check split-horizon DNS: the internal view may lack the record.",
    ];
    /// A working server answered some queries only on the retry (flapping).
    DnsFlaky = "dns.flaky", Dns, blocks: false,
    summary: "The name server answers, but only after a retry for some lookups, so pages sometimes hang for a second or more before they load.",
    steps: [
        "Look at the dns evidence: `first_attempt_loss` per server and the queries with `attempts: 2`.",
        "Check the path to the server for packet loss (a lossy Wi-Fi link, an overloaded firewall or a rate limit on UDP 53).",
        "Check the server's load and its own upstreams; run a survey to see how often it happens.",
    ];
    /// DNS answers are slow.
    DnsSlow = "dns.slow", Dns, blocks: false,
    summary: "Looking up website names is slow, so pages start slowly.",
    steps: [
        "Check the DNS server's load and its upstream latency.",
        "Consider a resolver closer to the clients.",
    ];
    /// Some configured resolvers fail while others work.
    DnsPartial = "dns.partial", Dns, blocks: false,
    summary: "One of the network's name servers is not working; the others cover for it, with delays.",
    steps: [
        "Fix or remove the failing resolver from DHCP option 6 / the static configuration.",
        "Clients try resolvers in order: a dead first resolver delays every lookup.",
    ];
    /// Informational (a notice in the evidence, never a finding): resolv.conf is missing or
    /// names no server, so glibc asks 127.0.0.1.
    DnsDefaultServer = "dns.default_server", Dns, blocks: false,
    summary: "No name server is configured, so this computer asks itself (127.0.0.1).",
    steps: [
        "If no local resolver is meant to run here, configure name servers (DHCP option 6 or static).",
        "Check /etc/resolv.conf: a broken symlink (e.g. to a stopped systemd-resolved) looks the same.",
    ];
    /// Informational (a notice in the evidence, never a finding): more than three
    /// nameservers are listed; glibc never asks the others.
    DnsIgnoredServers = "dns.ignored_servers", Dns, blocks: false,
    summary: "More name servers are configured than this computer uses; the extra ones are never asked.",
    steps: [
        "Keep at most three nameservers in resolv.conf (glibc's MAXNS), the most reliable first.",
        "Or use a local caching resolver (systemd-resolved, dnsmasq) that uses them all.",
    ];
    /// Informational (a notice in the evidence, never a finding): a resolver on this machine
    /// (a local stub) whose upstream servers are not written anywhere nettriage reads.
    DnsStubUpstreamsUnknown = "dns.stub_upstreams_unknown", Dns, blocks: false,
    summary: "This computer asks a name server running on itself; the servers it forwards to are not known.",
    steps: [
        "Look up the stub's configuration (Docker: the host's resolv.conf; dnsmasq/unbound: their config) to find its upstreams.",
        "A SERVFAIL from the stub usually means its upstreams fail: test them directly with dig.",
    ];
    /// A server answers the random label that must not exist with addresses: it rewrites
    /// NXDOMAIN (ISP redirection, a captive portal or a filter).
    DnsHijacked = "dns.hijacked", Dns, blocks: false,
    summary: "The name server makes up answers for names that do not exist, sending them to another address (a sign-in page, an ISP search page or a filter).",
    steps: [
        "Look at the dns evidence: the `cache_buster` query of each server and the address in its `answers`.",
        "If the address is a captive portal, open a browser and sign in to the network's page.",
        "Otherwise turn off the ISP's NXDOMAIN redirection (often an account setting) or use another resolver.",
    ];
    /// systemd-resolved is set to DNS-over-TLS, and its upstreams do not serve it on 853.
    DnsDotFailed = "dns.dot_failed", Dns, blocks: false,
    summary: "This computer is set to encrypt its name lookups (DNS over TLS), but the name servers do not answer that way.",
    steps: [
        "Read the dns evidence's `dot` probes: refused (nothing on port 853), untrusted (the certificate does not validate), timeout (a firewall dropping 853).",
        "Allow TCP 853 to the resolvers in the firewall, or point resolved at servers that offer DNS over TLS.",
        "With `DNSOverTLS=yes` lookups fail outright; with `opportunistic` they fall back to unencrypted DNS.",
    ];
    /// Informational (a notice in the evidence, never a finding): systemd-resolved reaches
    /// its upstreams over DNS-over-TLS, but they were tested on UDP port 53.
    DnsDotNotProbed = "dns.dot_not_probed", Dns, blocks: false,
    summary: "This computer's name lookups are encrypted (DNS over TLS); the test asked the same servers unencrypted.",
    steps: [
        "If the DNS check fails while lookups work, test the servers on port 853 (`kdig +tls @server name`).",
        "Check `resolvectl status` for the per-link DNSOverTLS setting and the current server.",
    ];
    /// Informational (a notice in the evidence, never a finding): an IPv6 zone names no
    /// interface of this machine, so the link-local server has no scope.
    DnsZoneUnknown = "dns.zone_unknown", Dns, blocks: false,
    summary: "A name server is configured on a network interface this computer does not have.",
    steps: [
        "Check the `%zone` after the link-local nameserver address: it must be an interface name or index of this machine.",
        "Interfaces renamed or recreated (VLANs, bridges) change their index: regenerate resolv.conf.",
    ];
    /// A TCP target refused the connection (RST).
    PortsRefused = "ports.refused", Ports, blocks: false,
    summary: "The service you need answered, but is not accepting connections.",
    steps: [
        "Check that the service is running and listening on that port on the server.",
        "A host firewall with a reject rule also sends RST: check it.",
    ];
    /// A TCP target did not answer: something drops the packets.
    PortsFiltered = "ports.filtered", Ports, blocks: false,
    summary: "A firewall is silently blocking the service you need.",
    steps: [
        "Check firewall rules between this host and the target for this port.",
        "Check that the target host is up: a dead host also looks filtered.",
    ];
    /// A TCP target is unreachable (ICMP unreachable or no route).
    PortsUnreachable = "ports.unreachable", Ports, blocks: false,
    summary: "The network says the service you need cannot be reached from here.",
    steps: [
        "Check routing to the target's network and ACLs that send ICMP unreachable.",
        "Check that the target address is right.",
    ];
    /// A TCP target opened only after the first SYN was lost and retransmitted.
    PortsFlaky = "ports.flaky", Ports, blocks: false,
    summary: "A service you need answers, but only after a lost first attempt, so connecting sometimes takes a second or more.",
    steps: [
        "Check the path to the target for packet loss (Wi-Fi, an overloaded firewall or link).",
        "Check SYN rate limits or a SYN-flood protection on a firewall in between.",
        "Run a survey to see how often it happens.",
    ];
    /// A named target has no address in DNS although the resolvers work.
    PortsUnresolved = "ports.unresolved", Ports, blocks: false,
    summary: "The name of a service you need does not lead to any address.",
    steps: [
        "Check the name for typos and that an A or AAAA record exists for it.",
        "Check split-horizon DNS: the view this client gets may lack the record.",
    ];
    /// A named target with A and AAAA records opens over IPv4 but not over IPv6: the
    /// network offers IPv6 (the client has a v6 route) and it does not work. A Happy
    /// Eyeballs client (RFC 8305) loses at least the Connection Attempt Delay (250 ms) per
    /// connection before falling back; one without it waits for the TCP timeout.
    Ipv6Broken = "ipv6.broken", Ports, blocks: false,
    summary: "IPv6 is offered on this network but does not work, so some websites load slowly.",
    steps: [
        "Check that the router forwards IPv6 (`sysctl net.ipv6.conf.all.forwarding`, its firewall's ip6 forward rules) and has an IPv6 uplink.",
        "Look for a rogue or stale router advertisement (the `ipv6` check; `rdisc6 IF`): a device advertising a prefix it cannot route.",
        "If IPv6 cannot be fixed soon, stop advertising it (radvd/RA off on the router) so clients do not try it first.",
    ];
    /// A named target with A and AAAA records opens over IPv6 but not over IPv4.
    Ipv4Broken = "ipv4.broken", Ports, blocks: false,
    summary: "IPv4 does not reach some services that work over IPv6, so programs that use only IPv4 fail or load slowly.",
    steps: [
        "Check the router's IPv4 forwarding, NAT and firewall rules for the target's network and port.",
        "Check the IPv4 route to the target from this network (`ip route get ADDR`, `tracepath -4`).",
    ];
    /// The connectivity probe was redirected to another host, downgraded from HTTPS, or
    /// answered with another page: a captive portal (or a filter) sits in the way.
    WebCaptivePortal = "web.captive_portal", Web, blocks: false,
    summary: "This network wants you to sign in first: open a web browser, go to any website, and sign in or accept the terms on the page that appears.",
    steps: [
        "Open the portal URL in the evidence in a browser on this computer and sign in or accept the terms.",
        "If no sign-in is expected here, the redirect or page comes from a filter or a misconfigured proxy: find the device that answers (the portal URL's host) and check its policy.",
        "After signing in, run the test again: the connectivity probe should then get its expected answer.",
    ];
    /// A probed URL answered with an HTTP error (4xx or 5xx), or redirected too often.
    WebHttpError = "web.http_error", Web, blocks: false,
    summary: "A website or web service that was tested answered with an error.",
    steps: [
        "Read the status and URL in the evidence: 5xx is a fault of the server (or its load balancer), 4xx a request it refuses (wrong path, missing login).",
        "Check the service's own logs and health at the time of the run.",
        "For too many redirects, follow the chain in the evidence for a loop (often HTTP and HTTPS redirecting to each other).",
    ];
    /// A URL answered HTTP 451, or a 403 that a filter sent rather than the target (a
    /// block-page marker such as `X-Squid-Error` or a `Via` header naming a filtering proxy).
    WebBlocked = "web.blocked", Web, blocks: false,
    summary: "A website or web service that was tested is blocked by a filter on this network.",
    steps: [
        "Read the status and the marker in the evidence (`squid_error`, `via_header`): it names the filter that answered.",
        "If the site is needed for work, ask the network team to allow it in the web filter or proxy policy.",
        "HTTP 451 means the block is for legal reasons (RFC 7725): the operator of the filter or the site can say why.",
    ];
    /// A URL target took longer than ChromeOS's HTTPS latency bands to connect, set up TLS
    /// and send its first byte (over 500 ms high, over 1000 ms very high).
    WebSlow = "web.slow", Web, blocks: false,
    summary: "Websites answer slowly from here: pages will take noticeably long to start loading.",
    steps: [
        "Read the phases in the evidence (`connect_ms`, `tls_ms`, `first_byte_ms`): a slow connect points at the path (latency, loss), a slow first byte at the server or a proxy.",
        "Compare with the gateway's round-trip times: a slow gateway makes everything slow.",
        "Run a survey to see whether it is constant or only at busy times.",
    ];
    /// A probed URL could not be fetched: its name did not resolve, the connection failed,
    /// or no answer came in time.
    WebUnreachable = "web.unreachable", Web, blocks: false,
    summary: "A website or web service that was tested could not be reached.",
    steps: [
        "Read the failed phase in the evidence (DNS, connect, TLS, response) and start there.",
        "For a connect failure, see the matching ports finding or probe the host's port with --target HOST:PORT.",
        "For a timeout after connecting, the server or a proxy in the path is not answering: check it and any firewall between.",
    ];
    /// The server's certificate chain does not lead to a trusted CA.
    TlsUntrusted = "tls.untrusted", Web, blocks: false,
    summary: "A secure website's certificate is not trusted by this computer, so browsers will warn or refuse to connect.",
    steps: [
        "Read the issuer in the evidence: a company's own CA must be installed on this computer (or passed with --ca-file); an unknown issuer may mean TLS inspection or an attack.",
        "If the issuer is a public CA, the server may be missing its intermediate certificate: serve the full chain.",
        "Never tell users to click through the warning before the issuer is known.",
    ];
    /// The server's certificate has expired.
    TlsExpired = "tls.expired", Web, blocks: false,
    summary: "A secure website's certificate has expired, so browsers will refuse to connect.",
    steps: [
        "Renew the certificate on the server (or its load balancer) and reload it.",
        "If the certificate looks valid elsewhere, check this computer's clock: a clock far in the future makes every certificate look expired.",
    ];
    /// The server's certificate is not valid yet.
    TlsNotYetValid = "tls.not_yet_valid", Web, blocks: false,
    summary: "A secure website's certificate is not valid yet, which usually means this computer's clock is wrong.",
    steps: [
        "Check this computer's date and time (`timedatectl`): a clock in the past makes new certificates look not yet valid.",
        "If the clock is right, the server was given a certificate dated in the future: reissue it.",
    ];
    /// The server's certificate is for another name.
    TlsHostnameMismatch = "tls.hostname_mismatch", Web, blocks: false,
    summary: "A secure website presented a certificate made out for a different name, so browsers will refuse it.",
    steps: [
        "Compare the URL's host with the certificate's names (SANs) in the evidence.",
        "Add the name to the certificate, or serve the right certificate for it (SNI configuration on a shared server or load balancer).",
        "An unexpected certificate can also come from a portal or a middlebox answering in the server's place.",
    ];
    /// The chain validates only through a CA outside the public root set (Mozilla's, as
    /// webpki-roots ships it) for a public name: TLS inspection by a firewall or proxy.
    TlsIntercepted = "tls.intercepted", Web, blocks: false,
    summary: "Secure connections from this computer are opened and inspected by a device on the network (TLS inspection).",
    steps: [
        "Read the issuer named in the finding and the chain in the evidence: it is the CA of the device that inspects the traffic.",
        "If it is your organisation's firewall or proxy, this is expected: note it (some apps with pinned certificates will fail through it).",
        "If nobody knows that issuer, treat it as an attack: disconnect, and have the network team find the device.",
    ];
    /// The server speaks only TLS 1.0 or 1.1, which current clients refuse.
    TlsOldProtocol = "tls.old_protocol", Web, blocks: false,
    summary: "A secure website uses an outdated protocol version (TLS 1.0 or 1.1) that current browsers refuse.",
    steps: [
        "Enable TLS 1.2 and 1.3 on the server (or its load balancer); TLS 1.0 and 1.1 are deprecated (RFC 8996).",
        "Until then, only old clients can reach it: do not lower the clients' settings.",
    ];
    /// Full-size packets to a target vanish while small ones pass, and no router says
    /// "fragmentation needed" / "packet too big": a path MTU blackhole (RFC 2923, RFC 4821).
    PathMtuBlackhole = "path.mtu_blackhole", Path, blocks: false,
    summary: "Large packets are lost on the way, so big downloads and some secure websites stall; tell IT about an MTU blackhole.",
    steps: [
        "Read largest_ok and smallest_lost per destination in the evidence: the path MTU lies between them (often a tunnel's: 1400-1480 for a VPN, 1492 for PPPoE).",
        "Find the router whose next hop has that MTU (`tracepath -n TARGET` shows where the size drops) and let it send ICMP fragmentation-needed (IPv4 type 3 code 4) and ICMPv6 packet-too-big (type 2, which RFC 4890 says must never be filtered); check firewalls between it and this client for rules dropping them.",
        "Until it is fixed, clamp the TCP MSS on that router (e.g. nftables `tcp option maxseg size set rt mtu`) or lower this interface's MTU to largest_ok.",
    ];
    /// The path MTU to a destination is below the interface MTU and a router announced it
    /// (a notice: VPNs, PPPoE and tunnels do this properly).
    PathMtuReduced = "path.mtu_reduced", Path, blocks: false,
    summary: "Large packets are cut to a smaller size on the way (a VPN or tunnel does this); the network reports it properly.",
    steps: [
        "Nothing is broken: the network announces its smaller MTU (RFC 1191, RFC 8201) and senders adapt.",
        "If large transfers are still slow, compare reported_mtu with the tunnel's expected MTU and check that TCP MSS clamping is set on the tunnel router.",
    ];
    /// The interface and the router disagree on the MTU: the gateway drops full-size
    /// frames without a report, or a router advertisement announces another MTU.
    LinkMtuMismatch = "link.mtu_mismatch", Path, blocks: false,
    summary: "This computer and the router use different packet sizes on the local network, so large packets to or through it can be lost.",
    steps: [
        "Compare interface_mtu with the gateway's largest_ok (and ra_mtu) in the evidence.",
        "Set the same MTU on both sides of the link: on the router's LAN interface (and in its router advertisements) or on this interface (`ip link set DEV mtu N`, or the DHCP/RA MTU option).",
        "Jumbo frames need every device on the segment, switches included, to accept them.",
    ];
    /// The TLS handshake failed for a reason other than the certificate: a reset or an
    /// alert after the ClientHello, no common protocol or cipher.
    TlsHandshakeFailed = "tls.handshake_failed", Web, blocks: false,
    summary: "A secure connection could not be set up; something on the way may be blocking it.",
    steps: [
        "Read the error in the evidence: a reset right after the ClientHello points at a filtering firewall matching the server name (SNI).",
        "An alert such as `protocol_version` or `handshake_failure` means the server and this client share no TLS version or cipher: update the server's TLS settings.",
        "Try the same URL from another network to tell a local filter from a server problem.",
    ];
    /// The local clock differs from the web servers' `Date` headers (median over the
    /// servers): warn over 1 minute, fail over 5 minutes (Kerberos' default tolerance).
    TimeSkew = "time.skew", Web, blocks: false,
    summary: "This computer's clock is wrong; secure websites and company logins (Kerberos) can fail because of it.",
    steps: [
        "Compare the skew in the evidence with the servers' clocks: turn on automatic time (NTP, `timedatectl set-ntp true`).",
        "Check that NTP (UDP 123) is not blocked and that the time zone is right.",
        "Kerberos refuses clocks more than 5 minutes apart (MIT krb5 `clockskew = 300`).",
    ];
    /// The proxy this machine uses for a URL answered 407 (Proxy Authentication Required):
    /// it wants credentials that were not given or were refused.
    WebProxyAuthRequired = "web.proxy_auth_required", Web, blocks: false,
    summary: "The proxy needs a password: this computer sends web traffic through a proxy server that asks for a user name and password, and none (or a wrong one) was given.",
    steps: [
        "Read `via` in the evidence: which proxy answered 407 and where its setting came from (env, /etc/environment, gsettings, pac, wpad, config).",
        "Give the proxy's credentials where that setting lives (`http://user:password@proxy:port`, or `[web] proxy` in nettriage's config file), or check the account with the proxy's administrator.",
        "If no proxy should be used here, remove the setting at its source.",
    ];
    /// The proxy this machine uses for a URL could not be reached: its name did not resolve,
    /// it refused the connection, or it did not answer in time.
    WebProxyUnreachable = "web.proxy_unreachable", Web, blocks: false,
    summary: "The proxy server does not answer: this computer sends web traffic through a proxy server that cannot be reached, so websites do not open.",
    steps: [
        "Read `via` in the evidence: the proxy's address and where the setting came from; a setting left over from another network (a laptop taken home) is the usual cause.",
        "Check that the proxy service runs and listens on that port, and that no firewall between blocks it.",
        "If no proxy should be used on this network, remove the setting at its source (or set `no_proxy` for the local hosts).",
    ];
    /// Informational (a notice in the evidence, never a finding): a PAC file was named (config,
    /// GNOME or WPAD) but could not be fetched, is not a PAC (no `FindProxyForURL`), or names
    /// no usable proxy.
    WebPacUnusable = "web.pac_unusable", Web, blocks: false,
    summary: "This computer is set to take its proxy from a configuration file (PAC) that could not be used.",
    steps: [
        "Open the PAC URL in the evidence: it should answer 200 with JavaScript defining FindProxyForURL.",
        "For WPAD, check that `wpad.<domain>` resolves to the server that serves wpad.dat, or remove the record if no PAC is meant to be used.",
    ];
    /// Informational (a notice in the evidence, never a finding): a PAC file was scanned for
    /// the proxies it names, not run (nettriage embeds no JavaScript engine); the probes used
    /// its first proxy.
    WebPacNotEvaluated = "web.pac_not_evaluated", Web, blocks: false,
    summary: "The proxy was taken from a PAC file without running it, so a browser may choose differently for some sites.",
    steps: [
        "Compare the proxies listed under `pac.scan` with what the PAC returns for the URLs that matter (a browser's proxy diagnostics, or `pactester`).",
        "To test a specific proxy, set it with `--proxy` or `[web] proxy`.",
    ];
    /// Profile `ad`: no DC SRV record (`_ldap._tcp.dc._msdcs.DOMAIN`, the site's, or
    /// `_kerberos._tcp.DOMAIN`) comes back although the resolvers know the domain (its SOA
    /// answers), or no resolver answers at all.
    AdNoDcRecords = "ad.no_dc_records", Ad, blocks: false,
    summary: "This computer cannot find the company's domain controllers, so signing in to the domain fails.",
    steps: [
        "Query `_ldap._tcp.dc._msdcs.DOMAIN` SRV on the client's resolvers (`dig SRV`) and on a DC's DNS.",
        "Check the domain name in `[profiles.ad] domain`, the DHCP domain and resolv.conf's search list.",
        "Check that the DCs register their records (netlogon, `dcdiag /test:dns`).",
    ];
    /// Profile `ad`: a domain controller from the SRV records answers on none of the ports
    /// tested (88, 389, 445, 636, 3268); a fail when every DC is down, else a warning.
    AdDcUnreachable = "ad.dc_unreachable", Ad, blocks: false,
    summary: "The company's domain controller does not answer, so signing in and group policy may fail.",
    steps: [
        "See which DCs and ports failed in the evidence (`dcs[].ports`).",
        "Check that the DC is up and that no firewall between this segment and the DC drops its ports.",
    ];
    /// Profile `ad`: no KDC answered a Kerberos AS-REQ (TCP or UDP 88).
    AdKerberosUnreachable = "ad.kerberos_unreachable", Ad, blocks: false,
    summary: "The domain's sign-in service (Kerberos) does not answer, so domain logons fail.",
    steps: [
        "Check TCP and UDP port 88 from this segment to the DCs (a firewall rule often forgets one).",
        "Check the KDC service on the DC (`samba` or `kdc` on Windows).",
    ];
    /// Profile `ad`: no DC answered an anonymous LDAP rootDSE read (TCP 389).
    AdLdapUnreachable = "ad.ldap_unreachable", Ad, blocks: false,
    summary: "The company directory (LDAP) does not answer, so logons and address lookups fail.",
    steps: [
        "Check TCP port 389 from this segment to the DCs.",
        "Read the rootDSE by hand: `ldapsearch -x -H ldap://DC -s base -b ''`.",
    ];
    /// Profile `ad`: this machine's clock is off from the domain controller's (LDAP
    /// currentTime, Kerberos stime or NTP): warn over 60 s, fail over 300 s, Kerberos'
    /// default maximum tolerance for computer clock synchronization (RFC 4120 §1.6, Microsoft).
    AdClockSkew = "ad.clock_skew", Ad, blocks: false,
    summary: "This computer's clock is wrong compared with the domain's, so domain sign-in fails.",
    steps: [
        "Compare `clock.offset_ms` and its source in the evidence.",
        "Synchronise the clock with the DC (`w32tm /resync`, chrony or systemd-timesyncd pointed at the DCs).",
    ];
    /// Profile `ad`: the machine's resolvers deny the domain itself (its SOA and DC SRV
    /// lookups: NXDOMAIN, REFUSED or SERVFAIL): they are not the domain's DNS servers, the
    /// classic domain machine on public DNS.
    AdDnsNotDomain = "ad.dns_not_domain", Ad, blocks: false,
    summary: "This computer asks the wrong name servers, which do not know the company's domain.",
    steps: [
        "Point the client at the domain's DNS servers (DHCP option 6), not a public resolver.",
        "Compare the resolvers in the dns evidence with the DCs' addresses.",
    ];
    /// Profile `smb`: the file server does not answer on TCP 445, or not with SMB.
    SmbUnreachable = "smb.unreachable", Smb, blocks: false,
    summary: "A shared drive's server does not answer, so mapped drives do not open.",
    steps: [
        "Check the server name and TCP port 445 from this segment (`smbclient -L //server -N`).",
        "Check that the server runs and no firewall drops 445.",
    ];
    /// Profile `smb`: the server answers only SMB1 (NT LM 0.12), which current clients
    /// refuse by default.
    SmbSmb1Only = "smb.smb1_only", Smb, blocks: false,
    summary: "A shared drive's server only speaks an old, insecure protocol that this computer no longer uses.",
    steps: [
        "Enable SMB2 or later on the server (`server min protocol` in Samba, the NAS's settings).",
        "Replace devices that only speak SMB1: it is deprecated and disabled on current Windows.",
    ];
    /// Profile `printers`: a printer does not answer on IPP (631), raw (9100) or LPD (515)
    /// (fail); or, a warning, its IPP service does not give its state while raw or LPD answer.
    PrinterUnreachable = "printer.unreachable", Printers, blocks: false,
    summary: "A printer does not answer on the network.",
    steps: [
        "Check that the printer is on and has the address in the evidence (its own status page).",
        "Check ports 631, 9100 and 515 from this segment (`ipptool -tv ipp://ADDRESS/ipp/print get-printer-attributes.test`).",
        "When only IPP fails, enable IPP (IPP Everywhere, AirPrint) in the printer's settings: driverless printing needs it.",
    ];
    /// Profile `printers`: the printer reports `printer-state` stopped (RFC 8011 §5.4.11).
    PrinterStopped = "printer.stopped", Printers, blocks: false,
    summary: "A printer is stopped and prints nothing until someone attends to it.",
    steps: [
        "Read `printer-state-reasons` in the evidence and fix what it names at the printer.",
        "Resume the printer (`cupsenable` or its panel).",
    ];
    /// Profile `printers`: the printer reports state reasons that need a person (media-empty,
    /// toner-low, paused, offline-report, ...; RFC 8011 §5.4.12, PWG 5100.9): fail for those
    /// that stop printing (out of paper, paper jam, door open, `-error`), else warn.
    PrinterAttention = "printer.attention", Printers, blocks: false,
    summary: "A printer needs attention (for example paper or toner).",
    steps: [
        "Read the reasons in the finding (in plain words) and attend to the printer: load paper, clear the jam, replace the toner, close the door.",
        "If the printer shows no such problem on its panel, restart it: a stale sensor reading clears then.",
    ];
    /// Profile `printers`: `printer-is-accepting-jobs` is false (RFC 8011 §5.4.14).
    PrinterNotAccepting = "printer.not_accepting", Printers, blocks: false,
    summary: "A printer refuses new print jobs.",
    steps: [
        "Accept jobs again at the printer or its server (`cupsaccept`).",
    ];
    /// Profile `m365`: a Microsoft 365 endpoint category could not be reached (DNS, TCP or
    /// TLS failed).
    M365Unreachable = "m365.unreachable", M365, blocks: false,
    summary: "Microsoft 365 (Outlook, Teams, OneDrive) cannot be reached from this network.",
    steps: [
        "See which category, endpoint and phase failed in the evidence: resolve is DNS, connect a firewall or the proxy, tls a certificate problem (often an inspecting proxy whose CA this machine does not trust).",
        "Allow Microsoft's published endpoints through the firewall and proxy (https://aka.ms/o365ip).",
    ];
    /// Profile `m365`: a Microsoft 365 endpoint's certificate is not Microsoft's public one:
    /// a TLS-inspecting proxy, which Microsoft asks not to use for these endpoints.
    M365TlsInspected = "m365.tls_inspected", M365, blocks: false,
    summary: "Microsoft 365 traffic is opened and inspected on the way, which slows or breaks Outlook and Teams.",
    steps: [
        "Exempt the Microsoft 365 'Optimize' and 'Allow' endpoints from TLS inspection (Microsoft's network connectivity principles).",
        "The certificate's issuer in the evidence names the inspecting device.",
    ];
    /// Profile `m365`: the Teams media relays' UDP ports (3478-3481) get no answer, so calls
    /// fall back to TCP/TLS 443 (worse audio and video).
    M365MediaBlocked = "m365.media_blocked", M365, blocks: false,
    summary: "Teams calls cannot use their fast path, so audio and video may be poor.",
    steps: [
        "Allow UDP 3478-3481 to Microsoft's media relays (52.112.0.0/14, 52.122.0.0/15) in the firewall.",
        "UDP silence can also be packet loss: run again, and look at the path layer's loss.",
    ];
    /// Profile `rdp`: the remote desktop host's name does not resolve, or it does not answer
    /// on its TCP port (3389 unless configured).
    RdpUnreachable = "rdp.unreachable", Rdp, blocks: false,
    summary: "A remote desktop computer does not answer.",
    steps: [
        "Check the host's name and address and that its port (3389 unless configured) is allowed through the firewalls on the way.",
        "Check that remote desktop is enabled on the host and that the host is up.",
    ];
    /// Profile `rdp`: TCP opens but the RDP negotiation (X.224 Connection Request,
    /// MS-RDPBCGR 2.2.1.1/2.2.1.2) is refused, malformed or unanswered, or the TLS handshake
    /// it asks for fails (fail); with `require_nla`, the host does not use or enforce
    /// Network Level Authentication (warn).
    RdpNegotiationFailed = "rdp.negotiation_failed", Rdp, blocks: false,
    summary: "A remote desktop computer answers but its connection security is refused or weaker than required.",
    steps: [
        "Read the failure in the evidence (e.g. ssl_cert_not_on_server: the host has no usable certificate).",
        "Compare the host's security layer (NLA, TLS) and certificate with what clients use.",
        "When NLA is required: enable \"require Network Level Authentication\" on the host.",
    ];
    /// The check needs privileges the process does not have.
    ToolNoPrivilege = "tool.no_privilege", tool, blocks: false,
    summary: "The test could not check everything because it was not run as administrator.",
    steps: [
        "Run with sudo, or grant the binary the capabilities: `sudo setcap cap_net_raw,cap_net_admin+ep $(command -v nettriage)`.",
    ];
    /// The check did not finish within its time budget or the run's deadline.
    ToolTimeout = "tool.timeout", tool, blocks: false,
    summary: "Part of the test took too long and was stopped.",
    steps: [
        "Run again with a longer --deadline to see whether it finishes.",
        "A check that hangs usually points at the layer below it.",
    ];
    /// The check could not run for another local reason (an OS error).
    ToolCheckError = "tool.check_error", tool, blocks: false,
    summary: "Part of the test could not run on this computer.",
    steps: [
        "Read the check's reason in the report; run with -v for details.",
    ];
    /// Packets of an analysed capture were cut by its snap length (informational: a
    /// capture note, not a finding).
    CaptureTruncated = "capture.truncated", capture, blocks: false,
    summary: "Some packets in the capture were cut short when they were recorded; only their headers were read.",
    steps: [
        "Record again without a snap length limit (`tcpdump -s 0`, the default of current tcpdump) to see whole packets.",
        "The verdict stands: cut packets were judged by their whole headers, never by the missing bytes.",
    ];
    /// An analysed capture file ends inside a record, or its record framing breaks
    /// (informational: a capture note).
    CaptureCut = "capture.cut", capture, blocks: false,
    summary: "The capture file is incomplete: it was read up to the point where it breaks off.",
    steps: [
        "Copy the file again once tcpdump or Wireshark has stopped writing it.",
        "Exchanges after the break are not in the report; a request whose answer fell after it counts as unanswered.",
    ];
    /// Records of an analysed capture were skipped: interfaces of a link type that is not
    /// decoded, blocks that do not parse (informational: a capture note).
    CaptureSkipped = "capture.skipped", capture, blocks: false,
    summary: "Some records in the capture could not be read and were skipped.",
    steps: [
        "For an unsupported link type, convert the file (`editcap -T ether IN OUT`) or record with `tcpdump -y EN10MB`.",
        "A damaged block: open the file in Wireshark to see whether it is corrupt.",
    ];
    /// Records of an analysed capture had impossible timestamps (informational: a capture
    /// note).
    CaptureBadTimestamps = "capture.bad_timestamps", capture, blocks: false,
    summary: "Some packets in the capture carry impossible times; the previous packet's time was used.",
    steps: [
        "Times and time ranges in the report may be off near those packets; check the file with `capinfos`.",
    ];
}

/// The end-user summary of a code this build does not know.
const UNKNOWN_SUMMARY: &str = "A finding from a newer nettriage; upgrade to see advice.";
/// The next steps for a code this build does not know.
const UNKNOWN_STEPS: &[&str] =
    &["This finding comes from a newer nettriage; upgrade to see what it means and what to do."];

/// Most distinct unknown codes interned per process; later ones share [`UnknownCode::OVERFLOW`].
pub const MAX_UNKNOWN_CODES: usize = 1024;
/// Longest unknown code kept, in bytes; longer ones become [`UnknownCode::OVERFLOW`].
pub const MAX_UNKNOWN_CODE_LEN: usize = 64;

/// The interned texts of unknown codes. Each is leaked once, so the table costs at most
/// `MAX_UNKNOWN_CODES * MAX_UNKNOWN_CODE_LEN` bytes however many reports are read.
static INTERNED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

/// The text of a code this build does not know, interned so that [`Code`] stays `Copy`.
///
/// Only texts of at most [`MAX_UNKNOWN_CODE_LEN`] bytes of `[a-z0-9_.-]` (what codes are
/// made of) are kept, and at most [`MAX_UNKNOWN_CODES`] distinct ones; anything else reads
/// as the shared placeholder [`UnknownCode::OVERFLOW`], so hostile input cannot grow memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownCode(&'static str);

impl UnknownCode {
    /// What every unknown code beyond the bounds (or malformed) reads as.
    pub const OVERFLOW: UnknownCode = UnknownCode("unknown.unrecognised_code");

    /// Interns `text` (see the type's bounds).
    pub fn intern(text: &str) -> UnknownCode {
        UnknownCode::intern_in(&INTERNED, text)
    }

    fn intern_in(table: &std::sync::Mutex<Vec<&'static str>>, text: &str) -> UnknownCode {
        let well_formed = !text.is_empty()
            && text.len() <= MAX_UNKNOWN_CODE_LEN
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
        if !well_formed {
            return UnknownCode::OVERFLOW;
        }
        // A poisoned lock only means another thread panicked mid-push; the Vec is intact.
        let mut table = table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = table.iter().find(|t| **t == text) {
            return UnknownCode(known);
        }
        if table.len() >= MAX_UNKNOWN_CODES {
            return UnknownCode::OVERFLOW;
        }
        let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
        table.push(leaked);
        UnknownCode(leaked)
    }

    /// The code's text, as read.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The layer its prefix (the text before the first dot) names, if this build knows it.
    pub fn layer(self) -> Option<CheckId> {
        let prefix = self.0.split_once('.').map_or(self.0, |(p, _)| p);
        if prefix == "tls" || prefix == "time" {
            return Some(CheckId::Web);
        }
        if prefix == "printer" {
            return Some(CheckId::Printers);
        }
        CheckId::every().find(|id| id.as_str() == prefix)
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Code::parse(&text))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_layer_prefixed_snake_case_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            let (prefix, rest) = text.split_once('.').expect("layer prefix");
            match code.layer() {
                // The web layer's TLS verdicts keep the `tls.` prefix users know.
                Some(CheckId::Web) => assert!(["web", "tls", "time"].contains(&prefix), "{text}"),
                // Per-family verdicts of the ports check name the family users know.
                Some(CheckId::Ports) => assert!(["ports", "ipv4", "ipv6"].contains(&prefix), "{text}"),
                // The path check finds the link's MTU mismatch too, under the link's name.
                Some(CheckId::Path) => assert!(["path", "link"].contains(&prefix), "{text}"),
                // The neighbours check judges the link from the switch's side.
                Some(CheckId::Neighbours) => assert!(["neighbours", "link"].contains(&prefix), "{text}"),
                // One printer's verdicts read `printer.stopped`, under the printers profile.
                Some(CheckId::Printers) => assert_eq!(prefix, "printer", "{text}"),
                Some(layer) => assert_eq!(prefix, layer.as_str(), "{text}"),
                None => assert!(["tool", "capture"].contains(&prefix), "{text}"),
            }
            assert!(rest.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()));
            assert_eq!(Code::from_code_str(text), Some(*code));
            assert!(!code.summary().is_empty() && !code.next_steps().is_empty());
        }
    }

    #[test]
    fn unknown_codes_read_and_write_back_as_themselves() {
        let code: Code = serde_json::from_str("\"dns.brand_new_code\"").unwrap();
        assert_eq!(code, Code::Unknown(UnknownCode::intern("dns.brand_new_code")));
        assert!(!code.is_known() && !code.blocks());
        assert_eq!(code.layer(), Some(CheckId::Dns));
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"dns.brand_new_code\"");
        assert_eq!(code.summary(), UNKNOWN_SUMMARY);
        assert!(!code.next_steps().is_empty());
        assert_eq!(Code::parse("vpn.tunnel_down").layer(), None);
        assert_eq!(Code::parse("dns.timeout"), Code::DnsTimeout);
        // The same text interns to the same slot.
        let again = Code::parse("dns.brand_new_code");
        assert!(matches!((code, again), (Code::Unknown(a), Code::Unknown(b)) if std::ptr::eq(a.0, b.0)));
    }

    #[test]
    fn malformed_or_oversized_unknown_codes_share_the_placeholder() {
        let long = format!("dns.{}", "x".repeat(MAX_UNKNOWN_CODE_LEN));
        for text in ["", "DNS.Upper", "dns.<script>", "dns.a b", long.as_str()] {
            assert_eq!(Code::parse(text), Code::Unknown(UnknownCode::OVERFLOW), "{text:?}");
        }
        // Non-string JSON is still an error, not a code.
        assert!(serde_json::from_str::<Code>("42").is_err());
    }

    #[test]
    fn the_unknown_table_is_bounded() {
        // A table of its own, so the other tests' codes still fit in the global one.
        let table = std::sync::Mutex::new(Vec::new());
        let codes: Vec<UnknownCode> =
            (0..MAX_UNKNOWN_CODES + 10).map(|i| UnknownCode::intern_in(&table, &format!("bound.code_{i}"))).collect();
        assert_eq!(codes[MAX_UNKNOWN_CODES - 1].as_str(), format!("bound.code_{}", MAX_UNKNOWN_CODES - 1));
        assert!(codes[MAX_UNKNOWN_CODES..].iter().all(|c| *c == UnknownCode::OVERFLOW));
        assert_eq!(table.lock().unwrap().len(), MAX_UNKNOWN_CODES);
        // Codes already in the table are still found once it is full.
        assert_eq!(UnknownCode::intern_in(&table, "bound.code_0"), codes[0]);
    }

    #[test]
    fn every_code_is_documented() {
        let docs_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/checks");
        let mut docs = String::new();
        for entry in std::fs::read_dir(docs_dir).expect("docs/checks exists") {
            docs.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        for code in Code::ALL {
            assert!(docs.contains(&format!("`{}`", code.as_str())), "{code} is not documented in docs/checks");
        }
    }
}
