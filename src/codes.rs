//! The stable finding codes, with what each one means to a person.
//!
//! Every finding and every root cause in a report carries one of these codes. Tests, the
//! JSON report and monitoring key on the code string (`as_str`), never on message text, so
//! a code is never renamed once released. The end-user summary and the technician's next
//! steps live here, next to the code, so that the diagnosis, the renderers and the docs all
//! say the same thing. `docs/checks/*.md` documents every code; a unit test keeps the two
//! in step.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::report::CheckId;

macro_rules! codes {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $text:literal, $layer:ident,
        summary: $summary:literal,
        steps: [$($step:literal),* $(,)?];
    )*) => {
        /// A stable, snake_case finding code, prefixed with its layer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as it appears in reports, e.g. `dns.timeout`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            /// The check (layer) this code belongs to; `tool.*` codes belong to the check
            /// that could not run and report their layer from the finding.
            pub fn layer(self) -> Option<CheckId> {
                match self { $(Code::$variant => codes!(@layer $layer),)* }
            }

            /// One plain-language sentence an end user understands.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// Concrete next steps for a technician, most likely fix first.
            pub fn next_steps(self) -> &'static [&'static str] {
                match self { $(Code::$variant => &[$($step),*],)* }
            }

            /// Looks a code up by its report string.
            pub fn from_code_str(text: &str) -> Option<Code> {
                match text { $($text => Some(Code::$variant),)* _ => None }
            }
        }
    };
    (@layer tool) => { None };
    (@layer $layer:ident) => { Some(CheckId::$layer) };
}

codes! {
    /// No interface to test: none given and none is up with a default route.
    LinkNoInterface = "link.no_interface", Link,
    summary: "This computer has no active network connection to test.",
    steps: [
        "Check that a network adapter is present and enabled (`ip link`).",
        "Plug in the cable or connect to Wi-Fi, then run the test again.",
        "Name the interface explicitly with --interface if it has an unusual role.",
    ];
    /// The interface is administratively down.
    LinkAdminDown = "link.admin_down", Link,
    summary: "The network adapter is switched off on this computer.",
    steps: [
        "Bring the interface up (`ip link set IF up`) or enable it in the network settings.",
        "Check whether a policy, NetworkManager profile or airplane mode disabled it.",
    ];
    /// The interface is up but has no carrier (no cable, dead port, no association).
    LinkNoCarrier = "link.no_carrier", Link,
    summary: "The network cable is unplugged or the connection on the other end is dead.",
    steps: [
        "Check the cable at both ends and try another cable or wall port.",
        "Check that the switch port is enabled and not err-disabled (port security, BPDU guard).",
        "Look at the switch port's link LED and logs for negotiation failures.",
    ];
    /// Receive or transmit errors are a significant share of the traffic.
    LinkErrors = "link.errors", Link,
    summary: "The network connection is damaging data, which makes it slow and unreliable.",
    steps: [
        "Replace the patch cable and re-test; CRC and frame errors usually mean cabling.",
        "Check for a speed/duplex mismatch between the interface and the switch port.",
        "Compare with the switch port's error counters.",
    ];
    /// The interface has no usable IPv4 address.
    DhcpNoIpv4 = "dhcp.no_ipv4", Dhcp,
    summary: "This computer did not get a network address, so it cannot talk to anything.",
    steps: [
        "Check that a DHCP server serves this network segment/VLAN and has free leases.",
        "Renew the lease (`dhclient -r; dhclient IF`, `nmcli device reapply IF`).",
        "If the address is static, check it is configured on this interface.",
    ];
    /// There is no default route through the interface under test.
    GatewayMissing = "gateway.missing", Gateway,
    summary: "This computer does not know the way out of the local network.",
    steps: [
        "Check that DHCP hands out a router (option 3) or that a static default route is set.",
        "Look for a VPN or another interface that took over the default route (`ip route`).",
    ];
    /// The gateway did not answer ARP: it is gone, off, or on another VLAN.
    GatewayUnreachable = "gateway.unreachable", Gateway,
    summary: "The router this computer uses is not responding at all.",
    steps: [
        "Check that the router/gateway is powered on and its LAN interface is up.",
        "Check that this port is on the right VLAN: the gateway address must be on-link.",
        "Compare the configured gateway with the one DHCP offers; a stale static route can point at nothing.",
    ];
    /// The gateway answers ARP but not ICMP echo; traffic through it may still work.
    GatewayNoEcho = "gateway.no_echo", Gateway,
    summary: "The router is there but ignores test pings; this alone is usually harmless.",
    steps: [
        "Many gateways and firewalls drop ping to themselves by policy; confirm with the network team.",
        "If later layers also fail, check the gateway's ACLs and control-plane policing.",
    ];
    /// Ping packets to the gateway were lost.
    GatewayLoss = "gateway.loss", Gateway,
    summary: "The connection to the router is losing data, which makes everything unreliable.",
    steps: [
        "Repeat with more probes to see whether the loss is steady or bursty.",
        "On Wi-Fi, check the signal; on cable, check the link error counters and the cable.",
        "Check the gateway's CPU and interface load.",
    ];
    /// Round trips to the gateway are slow.
    GatewayLatency = "gateway.latency", Gateway,
    summary: "The connection to the router is slow.",
    steps: [
        "Check for a saturated uplink or a busy gateway CPU at the time of the test.",
        "On Wi-Fi, check signal and channel congestion.",
    ];
    /// No DNS servers are configured.
    DnsNoServers = "dns.no_servers", Dns,
    summary: "This computer has no name server configured, so websites cannot be found.",
    steps: [
        "Check that DHCP hands out DNS servers (option 6) or configure them statically.",
        "Check /etc/resolv.conf and, where used, `resolvectl status`.",
    ];
    /// DNS servers did not answer in time.
    DnsTimeout = "dns.timeout", Dns,
    summary: "The network's name server is not answering, so websites cannot be found.",
    steps: [
        "Check that the DNS server is running and reachable (a firewall may drop port 53).",
        "Try another resolver to confirm the rest of the path works.",
    ];
    /// The DNS server or its host answered with ICMP unreachable.
    DnsUnreachable = "dns.unreachable", Dns,
    summary: "The name server cannot be reached, so websites cannot be found.",
    steps: [
        "Check that a DNS service listens on the server's port 53 (ICMP port unreachable says none does).",
        "Check routes and ACLs between this host and the DNS server.",
    ];
    /// The DNS server answered SERVFAIL.
    DnsServfail = "dns.servfail", Dns,
    summary: "The name server is answering but failing to look names up.",
    steps: [
        "Check the DNS server's upstream forwarders and its logs.",
        "Check DNSSEC validation failures and the server's own connectivity.",
    ];
    /// The DNS server refused to answer.
    DnsRefused = "dns.refused", Dns,
    summary: "The name server refuses to answer this computer.",
    steps: [
        "Check the server's ACLs (allow-query / allow-recursion) for this client's subnet.",
        "Check that the client is pointed at the right (internal) resolver.",
    ];
    /// A name that should exist does not.
    DnsNxdomain = "dns.nxdomain", Dns,
    summary: "A name that should exist could not be found.",
    steps: [
        "Check the name for typos and that the record exists in its zone.",
        "Check split-horizon DNS: the internal view may lack the record.",
    ];
    /// DNS answers are slow.
    DnsSlow = "dns.slow", Dns,
    summary: "Looking up website names is slow, so pages start slowly.",
    steps: [
        "Check the DNS server's load and its upstream latency.",
        "Consider a resolver closer to the clients.",
    ];
    /// Some configured resolvers fail while others work.
    DnsPartial = "dns.partial", Dns,
    summary: "One of the network's name servers is not working; the others cover for it, with delays.",
    steps: [
        "Fix or remove the failing resolver from DHCP option 6 / the static configuration.",
        "Clients try resolvers in order: a dead first resolver delays every lookup.",
    ];
    /// A TCP target refused the connection (RST).
    PortsRefused = "ports.refused", Ports,
    summary: "The service you need answered, but is not accepting connections.",
    steps: [
        "Check that the service is running and listening on that port on the server.",
        "A host firewall with a reject rule also sends RST: check it.",
    ];
    /// A TCP target did not answer: something drops the packets.
    PortsFiltered = "ports.filtered", Ports,
    summary: "A firewall is silently blocking the service you need.",
    steps: [
        "Check firewall rules between this host and the target for this port.",
        "Check that the target host is up: a dead host also looks filtered.",
    ];
    /// A TCP target is unreachable (ICMP unreachable or no route).
    PortsUnreachable = "ports.unreachable", Ports,
    summary: "The network says the service you need cannot be reached from here.",
    steps: [
        "Check routing to the target's network and ACLs that send ICMP unreachable.",
        "Check that the target address is right.",
    ];
    /// A named target has no address in DNS although the resolvers work.
    PortsUnresolved = "ports.unresolved", Ports,
    summary: "The name of a service you need does not lead to any address.",
    steps: [
        "Check the name for typos and that an A or AAAA record exists for it.",
        "Check split-horizon DNS: the view this client gets may lack the record.",
    ];
    /// The check needs privileges the process does not have.
    ToolNoPrivilege = "tool.no_privilege", tool,
    summary: "The test could not check everything because it was not run as administrator.",
    steps: [
        "Run with sudo, or grant the binary the capabilities: `sudo setcap cap_net_raw,cap_net_admin+ep $(command -v nettriage)`.",
    ];
    /// The check did not finish within its time budget or the run's deadline.
    ToolTimeout = "tool.timeout", tool,
    summary: "Part of the test took too long and was stopped.",
    steps: [
        "Run again with a longer --deadline to see whether it finishes.",
        "A check that hangs usually points at the layer below it.",
    ];
    /// The check could not run for another local reason (an OS error).
    ToolCheckError = "tool.check_error", tool,
    summary: "Part of the test could not run on this computer.",
    steps: [
        "Read the check's reason in the report; run with -v for details.",
    ];
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Code::from_code_str(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown finding code `{text}`")))
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
                Some(layer) => assert_eq!(prefix, layer.as_str(), "{text}"),
                None => assert_eq!(prefix, "tool", "{text}"),
            }
            assert!(rest.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()));
            assert_eq!(Code::from_code_str(text), Some(*code));
            assert!(!code.summary().is_empty() && !code.next_steps().is_empty());
        }
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
