//! The DHCPv4 lease the system holds for an interface, read from the lease files of the
//! common DHCP clients.
//!
//! Nothing here sends a packet: what is returned is what the client last stored, so it
//! tells which server gave which address, gateway and DNS servers for how long, even when
//! the network no longer answers. These writers are understood:
//!
//! - **systemd-networkd** keeps `/run/systemd/netif/leases/IFINDEX`, written by
//!   `dhcp_lease_save()` in systemd's `src/libsystemd-network/sd-dhcp-lease.c`:
//!   `KEY=VALUE` lines (`ADDRESS`, `NETMASK`, `ROUTER`, `SERVER_ADDRESS`, `DNS`,
//!   `DOMAINNAME`, `DOMAIN_SEARCH_LIST`, `LIFETIME`, `T1`, `T2`, ...; the times are plain
//!   seconds in older versions and systemd time spans such as `52min 30s` in newer ones).
//!   A JSON lease is also read (a file whose first character is `{`): the layout of
//!   `dhcp_lease_append_json()`, which `dhcp_lease_save(lease, dir_fd, path)` writes with
//!   `sd_json_variant_dump()` in systemd pull request #38806 ("network/dhcp-client: Allow
//!   saving dhcp4 leases in persistent directory"). That pull request was still open, not
//!   merged, at its last activity seen (January 2026), and no systemd release was found
//!   that writes JSON: the released `dhcp_lease_save()` writes `KEY=VALUE`. The layout is
//!   read so that a networkd that adopts it is not misread: `Address`,
//!   `Netmask`, `Server_Address` as byte arrays `[198, 18, 0, 150]` (with `AddressString`
//!   next to some), `Router` and `Servers.DNS` as arrays of them, `T1`, `T2`, `Lifetime`
//!   as time spans, `Domain_Name`, `Domain_Search_List`.
//! - **NetworkManager** (1.40 and later) writes the options of the current lease to its
//!   device state file `/run/NetworkManager/devices/IFINDEX` (`nm_config_device_state_write()`
//!   in `src/core/nm-config.c`, NetworkManager commit 6ab5c4e578 "core: save DHCP lease
//!   information in state file in /run"): a GKeyFile whose `[dhcp4]` group holds
//!   `dhcp4.NAME=VALUE`, with the option names of `src/core/dhcp/nm-dhcp-options.c`
//!   (`ip_address`, `subnet_mask`, `routers`, `domain_name_servers`, `domain_name`,
//!   `domain_search`, `dhcp_server_identifier`, `dhcp_lease_time`, `dhcp_renewal_time`,
//!   `dhcp_rebinding_time`, `expiry` in Unix seconds; lists separated by spaces). Its
//!   internal client's own lease file `/var/lib/NetworkManager/internal-UUID-IF.lease`
//!   (`lease_save()` in `src/core/dhcp/nm-dhcp-nettools.c`) holds only `ADDRESS=`, in
//!   networkd's format; [`find`] merges the two when their addresses agree.
//! - **ISC dhclient** appends one `lease { ... }` block per lease obtained, so the last
//!   block for the interface is the current one: `/var/lib/dhcp/dhclient*.leases`,
//!   `/var/lib/dhclient/*.leases`, RHEL/CentOS/Amazon Linux's singular
//!   `/var/lib/dhclient/dhclient--IF.lease` and `dhclient-UUID-IF.lease`, and
//!   `/var/lib/NetworkManager/dhclient-UUID-IF.lease` when NetworkManager runs dhclient.
//!   Times (`renew`, `rebind`, `expire`) are `W YYYY/MM/DD HH:MM:SS` in UTC, `epoch N`
//!   with `db-time-format local`, or `never`.
//! - **dhcpcd** stores the DHCP ACK as received, raw bytes, in `/var/lib/dhcpcd/IF.lease`
//!   (`IF-SSID.lease` on wireless in dhcpcd 9, `dhcpcd-IF[-SSID].lease` before;
//!   Raspberry Pi OS's dhcpcd5 keeps them in `/var/lib/dhcpcd5/`); it is decoded with
//!   `dhcproto`, and the domain search list (option 119) here.
//!
//! busybox udhcpc keeps no lease file (it hands the lease to its script in environment
//! variables), so a system run by udhcpc has no lease to read.
//!
//! The options are the same [`DhcpOptions`] a DHCP reply carries, with the same limits.
//! The parsers are pure and total: any input, however broken, gives `None` or a partial
//! [`Lease`], never a panic. [`find`] does the file I/O, bounded (1 MiB per file, 64 files).

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use dhcproto::v4::{DhcpOption, MessageType, Opcode};

use crate::platform::dhcp::DhcpOptions;

/// At most this many bytes are read from one lease file.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// At most this many lease files are opened by one [`find`].
const MAX_FILES: usize = 64;
/// At most this many entries of one lease directory are looked at.
const MAX_DIR_ENTRIES: usize = 4096;
/// At most this many domains of a search list are kept.
pub const MAX_SEARCH_DOMAINS: usize = 16;

/// Which DHCP client wrote the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseClient {
    /// systemd-networkd.
    Networkd,
    /// NetworkManager: its device state (`/run/NetworkManager/devices/IFINDEX`), its
    /// internal client, or the dhclient it runs (files under `/var/lib/NetworkManager`).
    NetworkManager,
    /// ISC dhclient run on its own (ifupdown, dhclient-script).
    Dhclient,
    /// dhcpcd.
    Dhcpcd,
}

/// A DHCP lease as the system holds it. It reads as its options (`lease.routers`, through
/// `Deref`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lease {
    /// The client that wrote the lease.
    pub client: LeaseClient,
    /// The file the lease was read from; empty when parsed from memory (the `parse_*`
    /// functions), filled by [`find`].
    pub source: String,
    /// The leased address (`yiaddr`).
    pub address: Option<Ipv4Addr>,
    /// The options stored with the lease (mask, routers, DNS, domain, lease times).
    #[serde(flatten)]
    pub options: DhcpOptions,
    /// The DHCP server identifier (option 54).
    pub server: Option<Ipv4Addr>,
    /// Absolute expiry (Unix seconds) when the file states it (dhclient's `expire`,
    /// NetworkManager's `expiry`, networkd's JSON lease from when it was obtained); `None`
    /// for `expire never` and for formats that store no expiry.
    pub expires_unix: Option<u64>,
    /// Absolute renewal time, T1 (Unix seconds), when the file states it (dhclient's
    /// `renew`) or states when the lease was obtained (networkd's JSON lease); `None` for
    /// `renew never` and for formats that store only durations.
    #[serde(default)]
    pub renew_unix: Option<u64>,
    /// Absolute rebinding time, T2 (Unix seconds), when the file states it (dhclient's
    /// `rebind`, or networkd's JSON lease as for `renew_unix`); `None` otherwise.
    #[serde(default)]
    pub rebind_unix: Option<u64>,
    /// The domain search list (option 119), without trailing dots, at most
    /// [`MAX_SEARCH_DOMAINS`] names of at most 255 characters.
    #[serde(default)]
    pub domain_search: Vec<String>,
}

impl std::ops::Deref for Lease {
    type Target = DhcpOptions;

    fn deref(&self) -> &DhcpOptions {
        &self.options
    }
}

impl Lease {
    fn empty(client: LeaseClient) -> Self {
        Lease {
            client,
            source: String::new(),
            address: None,
            options: DhcpOptions::default(),
            server: None,
            expires_unix: None,
            renew_unix: None,
            rebind_unix: None,
            domain_search: Vec::new(),
        }
    }

    /// Whether anything at all was recognised.
    fn has_content(&self) -> bool {
        self.address.is_some()
            || self.server.is_some()
            || self.expires_unix.is_some()
            || self.renew_unix.is_some()
            || self.rebind_unix.is_some()
            || !self.domain_search.is_empty()
            || !self.options.is_empty()
    }

    /// Sets the search list: each name trimmed, its trailing dot dropped, empty names
    /// skipped, at most [`MAX_SEARCH_DOMAINS`] names.
    fn set_search<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        self.domain_search = names
            .into_iter()
            .filter_map(|n| crate::platform::dhcp::bounded_text(n.trim().trim_end_matches('.')))
            .take(MAX_SEARCH_DOMAINS)
            .collect();
    }

    /// Fills what this lease lacks from `other` (field by field; nothing this lease has
    /// is replaced).
    fn fill_from(&mut self, other: &Lease) {
        let o = &mut self.options;
        o.subnet_mask = o.subnet_mask.or(other.options.subnet_mask);
        if o.routers.is_empty() {
            o.routers.clone_from(&other.options.routers);
        }
        if o.dns.is_empty() {
            o.dns.clone_from(&other.options.dns);
        }
        if o.domain.is_none() {
            o.domain.clone_from(&other.options.domain);
        }
        o.lease_time_s = o.lease_time_s.or(other.options.lease_time_s);
        o.renew_s = o.renew_s.or(other.options.renew_s);
        o.rebind_s = o.rebind_s.or(other.options.rebind_s);
        if o.wpad.is_none() {
            o.wpad.clone_from(&other.options.wpad);
        }
        self.address = self.address.or(other.address);
        self.server = self.server.or(other.server);
        self.expires_unix = self.expires_unix.or(other.expires_unix);
        self.renew_unix = self.renew_unix.or(other.renew_unix);
        self.rebind_unix = self.rebind_unix.or(other.rebind_unix);
        if self.domain_search.is_empty() {
            self.domain_search.clone_from(&other.domain_search);
        }
    }
}

// ---------------------------------------------------------------------------------------
// systemd-networkd (and NetworkManager's internal client)
// ---------------------------------------------------------------------------------------

/// Parses a systemd-networkd lease file (`/run/systemd/netif/leases/IFINDEX`), also the
/// format of NetworkManager's internal client (`/var/lib/NetworkManager/internal-*.lease`).
///
/// `KEY=VALUE` lines; comments (`#`, `;`), blank lines, lines without `=`, unknown keys and
/// values that do not parse are skipped, and the last assignment of a key wins. The WPAD
/// URL (option 252) is read from `OPTION_252`, the hex `dhcp_lease_save()` writes for each
/// private option the server sent. A text
/// whose first non-blank character is `{` is networkd's JSON lease, read by
/// [`parse_networkd_json`]. `None` when nothing was recognised.
pub fn parse_networkd(text: &str) -> Option<Lease> {
    if text.trim_start().starts_with('{') {
        return parse_networkd_json(text);
    }
    let mut lease = Lease::empty(LeaseClient::Networkd);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = unquote(value.trim());
        match key.trim() {
            "ADDRESS" => lease.address = value.parse().ok(),
            "NETMASK" => lease.options.subnet_mask = value.parse().ok(),
            "SERVER_ADDRESS" => lease.server = value.parse().ok(),
            "ROUTER" => lease.options.set_routers(ipv4_list(value)),
            "DNS" => lease.options.set_dns(ipv4_list(value)),
            "DOMAINNAME" => lease.options.set_domain(value),
            "DOMAIN_SEARCH_LIST" => lease.set_search(value.split_whitespace()),
            "LIFETIME" => lease.options.lease_time_s = parse_timespan_s(value),
            "T1" => lease.options.renew_s = parse_timespan_s(value),
            "T2" => lease.options.rebind_s = parse_timespan_s(value),
            // Private options (224-254) are saved as hex, `OPTION_252=687474...`, when the
            // server sent them (networkd asks for 252 only with `RequestOptions=252`).
            "OPTION_252" => {
                if let Some(bytes) = unhex(value) {
                    lease.options.set_wpad(&String::from_utf8_lossy(&bytes));
                }
            }
            _ => {}
        }
    }
    lease.has_content().then_some(lease)
}

/// Plain hex (`dhcp_lease_save()`'s `hexmem`), at most 1 KiB of bytes; `None` for anything
/// else.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) || text.len() > 2048 {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digit = |b: u8| char::from(b).to_digit(16);
            Some(u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).unwrap_or(0))
        })
        .collect()
}

/// Parses systemd-networkd's JSON lease (the layout of `dhcp_lease_append_json()`, see the
/// module header): `Address`, `Netmask`, `Server_Address` (a byte array such as
/// `[198, 18, 0, 150]`, or a dotted string), `Router` and `Servers.DNS` (arrays of them),
/// `T1`, `T2`, `Lifetime` (time spans such as `30min`, or plain seconds), `Domain_Name`,
/// `Domain_Search_List`, and `Timestamp_realtime` (when the lease was obtained: the
/// absolute renewal, rebinding and expiry times are derived from it when it is in UTC).
///
/// Fields of the wrong type and addresses that do not parse are skipped; JSON nested
/// deeper than `serde_json`'s limit (128) is refused. `None` when the text is not a JSON
/// object or nothing was recognised.
pub fn parse_networkd_json(text: &str) -> Option<Lease> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    let mut lease = Lease::empty(LeaseClient::Networkd);
    let field = |name: &str| object.get(name);
    lease.address = field("Address").and_then(json_ipv4).or_else(|| field("AddressString").and_then(json_ipv4));
    lease.options.subnet_mask =
        field("Netmask").and_then(json_ipv4).or_else(|| field("NetmaskString").and_then(json_ipv4));
    lease.server = field("Server_Address").and_then(json_ipv4);
    if let Some(routers) = field("Router") {
        lease.options.set_routers(json_ipv4_list(routers));
    }
    if let Some(dns) = field("Servers").and_then(|s| s.get("DNS")) {
        lease.options.set_dns(json_ipv4_list(dns));
    }
    if let Some(domain) = field("Domain_Name").and_then(serde_json::Value::as_str) {
        lease.options.set_domain(domain);
    }
    if let Some(list) = field("Domain_Search_List").and_then(serde_json::Value::as_array) {
        lease.set_search(list.iter().filter_map(serde_json::Value::as_str));
    }
    let span = |name: &str| match field(name)? {
        serde_json::Value::String(s) => parse_timespan_s(s),
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    lease.options.lease_time_s = span("Lifetime");
    lease.options.renew_s = span("T1");
    lease.options.rebind_s = span("T2");
    // When the lease was obtained, as a UTC time stamp: the absolute times follow from it
    // (an infinite lifetime has no expiry).
    if let Some(obtained) =
        field("Timestamp_realtime").and_then(serde_json::Value::as_str).and_then(parse_utc_timestamp)
    {
        let at = |secs: Option<u32>| secs.filter(|s| *s != u32::MAX).map(|s| obtained + u64::from(s));
        lease.renew_unix = at(lease.options.renew_s);
        lease.rebind_unix = at(lease.options.rebind_s);
        lease.expires_unix = at(lease.options.lease_time_s);
    }
    lease.has_content().then_some(lease)
}

/// A systemd time stamp in UTC, `Mon 2026-11-30 06:47:52.000000 UTC` (the weekday and the
/// fraction optional), to Unix seconds; `None` for any other zone (a local time zone's name
/// cannot be resolved here) or form.
fn parse_utc_timestamp(text: &str) -> Option<u64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (date, time) = match words.as_slice() {
        [_, date, time, "UTC"] | [date, time, "UTC"] => (*date, *time),
        _ => return None,
    };
    let time = time.split_once('.').map_or(time, |(whole, _)| whole);
    unix_from_utc(&date.replace('-', "/"), time)
}

/// An IPv4 address as systemd's JSON writes it: an array of four bytes, or a dotted string.
fn json_ipv4(value: &serde_json::Value) -> Option<Ipv4Addr> {
    match value {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Array(bytes) if bytes.len() == 4 => {
            let mut octets = [0u8; 4];
            for (octet, byte) in octets.iter_mut().zip(bytes) {
                *octet = u8::try_from(byte.as_u64()?).ok()?;
            }
            Some(Ipv4Addr::from(octets))
        }
        _ => None,
    }
}

/// An array of [`json_ipv4`] addresses (entries that do not parse are skipped), or a single
/// address.
fn json_ipv4_list(value: &serde_json::Value) -> Vec<Ipv4Addr> {
    match value {
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_array) => {
            items.iter().filter_map(json_ipv4).collect()
        }
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => {
            items.iter().filter_map(json_ipv4).collect()
        }
        other => json_ipv4(other).into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------------------
// NetworkManager's device state
// ---------------------------------------------------------------------------------------

/// Parses NetworkManager's device state file (`/run/NetworkManager/devices/IFINDEX`, a
/// GKeyFile) and returns the lease in its `[dhcp4]` group (NetworkManager 1.40 and later):
/// `dhcp4.ip_address`, `dhcp4.subnet_mask`, `dhcp4.routers`, `dhcp4.domain_name_servers`,
/// `dhcp4.domain_name`, `dhcp4.domain_search`, `dhcp4.dhcp_server_identifier`,
/// `dhcp4.dhcp_lease_time`, `dhcp4.dhcp_renewal_time`, `dhcp4.dhcp_rebinding_time` and
/// `dhcp4.expiry` (Unix seconds).
///
/// Comments (`#`), other groups (`[device]`, `[dhcp6]`), unknown keys and values that do
/// not parse are skipped; GKeyFile's escapes (`\s`, `\n`, `\t`, `\r`, `\\`) are decoded
/// and the last assignment of a key wins. `None` when the group is missing or holds
/// nothing usable (a device without a DHCPv4 lease).
pub fn parse_nm_device_state(text: &str) -> Option<Lease> {
    let mut lease = Lease::empty(LeaseClient::NetworkManager);
    let mut in_dhcp4 = false;
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(group) = line.strip_prefix('[') {
            in_dhcp4 = group.trim_end().strip_suffix(']') == Some("dhcp4");
            continue;
        }
        if !in_dhcp4 {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let Some(name) = key.trim().strip_prefix("dhcp4.") else { continue };
        let value = keyfile_unescape(value.trim_start());
        let value = value.trim();
        match name {
            "ip_address" => lease.address = value.parse().ok(),
            "subnet_mask" => lease.options.subnet_mask = value.parse().ok(),
            "routers" => lease.options.set_routers(ipv4_list(value)),
            "domain_name_servers" => lease.options.set_dns(ipv4_list(value)),
            "domain_name" => lease.options.set_domain(value),
            "domain_search" => lease.set_search(value.split_whitespace()),
            "dhcp_server_identifier" => lease.server = value.parse().ok(),
            "dhcp_lease_time" => lease.options.lease_time_s = value.parse().ok(),
            "dhcp_renewal_time" => lease.options.renew_s = value.parse().ok(),
            "dhcp_rebinding_time" => lease.options.rebind_s = value.parse().ok(),
            "expiry" => lease.expires_unix = value.parse().ok(),
            "wpad" => lease.options.set_wpad(value),
            _ => {}
        }
    }
    lease.has_content().then_some(lease)
}

/// Decodes GKeyFile's value escapes; an unknown escape is kept as written.
fn keyfile_unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Strips one pair of matching surrounding quotes, as systemd's env-file reader does.
fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// IPv4 addresses separated by spaces and/or commas; entries that do not parse are skipped.
fn ipv4_list(value: &str) -> Vec<Ipv4Addr> {
    value.split(|c: char| c == ',' || c.is_whitespace()).filter_map(|s| s.parse().ok()).collect()
}

/// A duration in whole seconds as systemd writes it: plain seconds (older networkd), a time
/// span such as `1h`, `52min 30s` or `1w 2d` (newer networkd, systemd's units: a month is
/// 30.44 days, a year 365.25 days), or `infinity` (an infinite lease, `u32::MAX`).
/// Sub-second parts are dropped; `None` for anything else or more than `u32::MAX` seconds.
fn parse_timespan_s(value: &str) -> Option<u32> {
    let value = value.trim();
    if value == "infinity" {
        return Some(u32::MAX);
    }
    if let Ok(secs) = value.parse::<u32>() {
        return Some(secs);
    }
    let mut total_us: u64 = 0;
    let mut rest = value;
    let mut any = false;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let number: u64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?.trim_start();
        let unit_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = rest.get(..unit_len)?;
        rest = rest.get(unit_len..)?;
        let us_per_unit: u64 = match unit {
            "us" | "usec" => 1,
            "ms" | "msec" => 1_000,
            "" | "s" | "sec" | "second" | "seconds" => 1_000_000,
            "m" | "min" | "minute" | "minutes" => 60_000_000,
            "h" | "hr" | "hour" | "hours" => 3_600_000_000,
            "d" | "day" | "days" => 86_400_000_000,
            "w" | "week" | "weeks" => 604_800_000_000,
            "M" | "month" | "months" => 2_629_800_000_000,
            "y" | "year" | "years" => 31_557_600_000_000,
            _ => return None,
        };
        total_us = total_us.checked_add(number.checked_mul(us_per_unit)?)?;
        any = true;
    }
    if !any {
        return None;
    }
    u32::try_from(total_us / 1_000_000).ok()
}

// ---------------------------------------------------------------------------------------
// ISC dhclient
// ---------------------------------------------------------------------------------------

/// Parses an ISC dhclient lease file and returns its last `lease { ... }` block whose
/// `interface "IF";` is `ifname` (or that names no interface) and holds anything usable.
///
/// Only complete blocks count: a block cut short by a torn write is ignored, so the one
/// before it is returned. Other statements and blocks (`default-duid`, `lease6 { ... }`)
/// are skipped. Read: `fixed-address`, `option subnet-mask`, `routers`,
/// `domain-name-servers`, `dhcp-server-identifier`, `dhcp-lease-time`,
/// `dhcp-renewal-time`, `dhcp-rebinding-time`, `domain-name`, `domain-search`, and the
/// times `renew`, `rebind`, `expire` (`W YYYY/MM/DD HH:MM:SS` in UTC or `epoch N`;
/// `never` gives none).
pub fn parse_dhclient(text: &str, ifname: &str) -> Option<Lease> {
    let mut best: Option<Lease> = None;
    let mut depth: usize = 0;
    // The lease block being read (it is at depth 1) and its `interface`.
    let mut current: Option<(Lease, Option<String>)> = None;
    let mut words: Vec<String> = Vec::new();
    for token in Lexer::new(text) {
        match token {
            Token::Word(w) => words.push(w),
            Token::Semi => {
                if depth == 1
                    && let Some((lease, iface)) = current.as_mut()
                {
                    apply_dhclient_statement(&words, lease, iface);
                }
                words.clear();
            }
            Token::Open => {
                if depth == 0 && words.len() == 1 && words[0] == "lease" {
                    current = Some((Lease::empty(LeaseClient::Dhclient), None));
                }
                depth = depth.saturating_add(1);
                words.clear();
            }
            Token::Close => {
                // A `}` without its `{` (a file read from the middle) is ignored.
                if depth > 0 {
                    depth -= 1;
                    if depth == 0
                        && let Some((lease, iface)) = current.take()
                    {
                        let matches = iface.as_deref().is_none_or(|i| i == ifname);
                        if matches && lease.has_content() {
                            best = Some(lease);
                        }
                    }
                }
                words.clear();
            }
        }
    }
    best
}

fn apply_dhclient_statement(words: &[String], lease: &mut Lease, iface: &mut Option<String>) {
    let Some((keyword, rest)) = words.split_first() else { return };
    match (keyword.as_str(), rest) {
        ("interface", [name, ..]) => *iface = Some(name.clone()),
        ("fixed-address", [addr, ..]) => lease.address = addr.parse().ok(),
        ("expire", _) => lease.expires_unix = parse_dhclient_time(rest),
        ("renew", _) => lease.renew_unix = parse_dhclient_time(rest),
        ("rebind", _) => lease.rebind_unix = parse_dhclient_time(rest),
        ("option", [name, values @ ..]) => apply_dhclient_option(name, values, lease),
        _ => {}
    }
}

fn apply_dhclient_option(name: &str, values: &[String], lease: &mut Lease) {
    let first = values.first().map_or("", String::as_str);
    match name {
        "subnet-mask" => lease.options.subnet_mask = first.parse().ok(),
        "routers" => lease.options.set_routers(ipv4_list(&values.join(" "))),
        "domain-name-servers" => lease.options.set_dns(ipv4_list(&values.join(" "))),
        "dhcp-server-identifier" => lease.server = first.parse().ok(),
        "dhcp-lease-time" => lease.options.lease_time_s = first.parse().ok(),
        "dhcp-renewal-time" => lease.options.renew_s = first.parse().ok(),
        "dhcp-rebinding-time" => lease.options.rebind_s = first.parse().ok(),
        "domain-name" => {
            let parts: Vec<&str> = values.iter().map(String::as_str).filter(|v| *v != ",").collect();
            lease.options.set_domain(&parts.join(" "));
        }
        // `option domain-search "lab.test.", "corp.lab.test.";`
        "domain-search" => lease.set_search(values.iter().flat_map(|v| v.split(','))),
        // Only when dhclient.conf defines it (`option wpad code 252 = text;`); otherwise
        // dhclient writes the option by number, `option unknown-252 ...`, not read here.
        "wpad" => lease.options.set_wpad(first),
        _ => {}
    }
}

/// dhclient's time: `W YYYY/MM/DD HH:MM:SS` (UTC), `epoch N`, or `never`.
fn parse_dhclient_time(words: &[String]) -> Option<u64> {
    match words {
        [epoch, n, ..] if epoch == "epoch" => n.parse().ok(),
        [weekday, date, time, ..] if weekday.chars().all(|c| c.is_ascii_digit()) => unix_from_utc(date, time),
        _ => None,
    }
}

/// `YYYY/MM/DD` and `HH:MM:SS` (UTC) to Unix seconds; years 1970 to 9999.
fn unix_from_utc(date: &str, time: &str) -> Option<u64> {
    let mut d = date.split('/').map(|p| p.parse::<u64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<u64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1970..=9999).contains(&year) || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm, years counted from March).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// A token of dhclient's lease-file syntax.
#[derive(Debug, PartialEq)]
enum Token {
    /// A bare word or a quoted string (unquoted, escapes decoded).
    Word(String),
    Semi,
    Open,
    Close,
}

/// Splits a dhclient lease file into tokens; `#` starts a comment outside strings.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer { chars: text.chars().peekable() }
    }

    /// The rest of a quoted string, after its opening `"`: `\"`, `\\` and octal `\ooo`
    /// escapes are decoded; an unterminated string ends at the end of the text.
    fn quoted(&mut self) -> String {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4];
        while let Some(c) = self.chars.next() {
            match c {
                '"' => break,
                '\\' => match self.chars.next() {
                    Some(d) if d.is_digit(8) => {
                        let mut value = d.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match self.chars.peek().and_then(|e| e.to_digit(8)) {
                                Some(v) => {
                                    value = value * 8 + v;
                                    self.chars.next();
                                }
                                None => break,
                            }
                        }
                        bytes.push(u8::try_from(value).unwrap_or(b'?'));
                    }
                    Some('n') => bytes.push(b'\n'),
                    Some('t') => bytes.push(b'\t'),
                    Some(other) => bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes()),
                    None => break,
                },
                other => bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes()),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            let c = self.chars.next()?;
            match c {
                c if c.is_whitespace() => {}
                '#' => {
                    for c in self.chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                ';' => return Some(Token::Semi),
                '{' => return Some(Token::Open),
                '}' => return Some(Token::Close),
                '"' => return Some(Token::Word(self.quoted())),
                first => {
                    let mut word = String::from(first);
                    while let Some(&n) = self.chars.peek() {
                        if n.is_whitespace() || matches!(n, ';' | '{' | '}' | '"' | '#') {
                            break;
                        }
                        word.push(n);
                        self.chars.next();
                    }
                    return Some(Token::Word(word));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// dhcpcd
// ---------------------------------------------------------------------------------------

/// Parses a dhcpcd lease file: the DHCP ACK as received, raw bytes (BOOTP header, magic
/// cookie, options; dhcpcd before 9 cuts it at the end option).
///
/// Decoded by [`crate::platform::dhcp::decode_message`], the same hardened path as DHCP
/// replies from the network (only the options read, length-checked, so a crafted file
/// cannot trip dhcproto); the domain search list (option 119) is decoded here, with its
/// compression pointers. Options overloaded into `sname`/`file` (option 52) are not read.
/// `None` unless it is a BOOTREPLY with the DHCP cookie whose message type, if any, is
/// ACK, and something usable.
pub fn parse_dhcpcd(bytes: &[u8]) -> Option<Lease> {
    let msg = crate::platform::dhcp::decode_message(bytes)?;
    if msg.opcode() != Opcode::BootReply {
        return None;
    }
    let opts = msg.opts();
    if !matches!(opts.msg_type(), None | Some(MessageType::Ack)) {
        return None;
    }
    let mut lease = Lease::empty(LeaseClient::Dhcpcd);
    // An ACK to an INFORM carries the address in ciaddr, not yiaddr.
    lease.address = [msg.yiaddr(), msg.ciaddr()].into_iter().find(|a| !a.is_unspecified());
    lease.options = DhcpOptions::from_message(&msg);
    lease.server = opts.iter().find_map(|(_, opt)| match opt {
        DhcpOption::ServerIdentifier(server) => Some(*server),
        _ => None,
    });
    let search = decode_search_list(&raw_option(bytes, DOMAIN_SEARCH));
    lease.set_search(search.iter().map(String::as_str));
    lease.has_content().then_some(lease)
}

/// Option 119, the domain search list (RFC 3397).
const DOMAIN_SEARCH: u8 = 119;
/// Where the options start: the BOOTP header (236 bytes) and the magic cookie.
const OPTIONS_START: usize = 240;

/// The data of every instance of option `code` in a DHCP message, joined in order (RFC
/// 3396); empty when absent. The walk stops at the end option, at an option running past
/// the end, or at the end of the bytes; `sname`/`file` overloading is not followed.
fn raw_option(message: &[u8], code: u8) -> Vec<u8> {
    let mut data = Vec::new();
    let mut at = OPTIONS_START;
    while let Some(&tag) = message.get(at) {
        match tag {
            0 => at += 1,
            255 => break,
            _ => {
                let Some(&len) = message.get(at + 1) else { break };
                let start = at + 2;
                let Some(value) = message.get(start..start + usize::from(len)) else { break };
                if tag == code {
                    data.extend_from_slice(value);
                }
                at = start + usize::from(len);
            }
        }
    }
    data
}

/// The names of a domain search list: DNS wire-format names one after the other, with
/// compression pointers into the same data (RFC 3397). A name that is malformed (a label
/// over the end, a pointer loop, over 255 characters) ends the list; at most
/// [`MAX_SEARCH_DOMAINS`] names.
fn decode_search_list(data: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0usize;
    while at < data.len() && names.len() < MAX_SEARCH_DOMAINS {
        let Some((name, next)) = decode_name(data, at) else { break };
        names.push(name);
        at = next;
    }
    names
}

/// One name at `start`: the name (labels joined by `.`) and where the next name starts.
fn decode_name(data: &[u8], start: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut length = 0usize;
    let mut at = start;
    // Where the name ends in the data: after its first pointer, or after its root label.
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *data.get(at)?;
        match len {
            0 => {
                let next = end.unwrap_or(at + 1);
                return Some((labels.join("."), next));
            }
            1..=63 => {
                let label = data.get(at + 1..at + 1 + usize::from(len))?;
                length += usize::from(len) + 1;
                if length > 255 {
                    return None;
                }
                labels.push(String::from_utf8_lossy(label).into_owned());
                at += 1 + usize::from(len);
            }
            0xc0..=0xff => {
                let low = *data.get(at + 1)?;
                end.get_or_insert(at + 2);
                jumps += 1;
                if jumps > 64 {
                    return None;
                }
                at = usize::from(len & 0x3f) << 8 | usize::from(low);
            }
            _ => return None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Finding the files
// ---------------------------------------------------------------------------------------

/// How a lease file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `KEY=VALUE` or JSON ([`parse_networkd`]).
    Networkd,
    /// NetworkManager's device state ([`parse_nm_device_state`]).
    NmDevice,
    Dhclient,
    Dhcpcd,
}

/// The leases the system holds for `ifname` (with kernel index `ifindex`; 0 skips the
/// files named by index), from every client's standard location, in this order:
///
/// - networkd: `/run/systemd/netif/leases/IFINDEX` (`KEY=VALUE` or JSON);
/// - NetworkManager: its device state `/run/NetworkManager/devices/IFINDEX` (the
///   `[dhcp4]` group), then `/var/lib/NetworkManager/internal-UUID-IF.lease` (networkd
///   format, only `ADDRESS=` in recent versions) and
///   `/var/lib/NetworkManager/dhclient-UUID-IF.lease` (dhclient format). An internal
///   lease with the device state's address (or any, when the device state has none) is
///   merged into the device state's lease, which keeps its `source`; one with another
///   address stays a lease of its own;
/// - dhclient: `/var/lib/dhcp/dhclient*.leases`, `/var/lib/dhclient/*.leases` and
///   `/var/lib/dhclient/*-IF.lease` (RHEL's `dhclient--IF.lease`, `dhclient-UUID-IF.lease`),
///   not `dhclient6*`, the last block for `ifname` in each;
/// - dhcpcd: `/var/lib/dhcpcd/IF.lease` and `IF-*.lease` (dhcpcd 9; `IF-SSID` on wireless,
///   skipped when `IF-*` is itself an interface in `/sys/class/net`), and the older
///   `dhcpcd-IF.lease` and `dhcpcd-IF-*.lease`; the same in `/var/lib/dhcpcd5/`
///   (Raspberry Pi OS).
///
/// Missing files and directories, unreadable or unparsable files are simply no lease. At
/// most 1 MiB is read per file (the last MiB of a dhclient file, where its newest leases
/// are), at most 64 files are opened, only regular files are opened (never a FIFO), and an
/// `ifname` that could leave the directories (`/`, `..`) gives nothing. Never panics.
pub fn find(ifname: &str, ifindex: u32) -> Vec<Lease> {
    find_under(Path::new("/"), ifname, ifindex)
}

/// [`find`] with every path under `root`.
fn find_under(root: &Path, ifname: &str, ifindex: u32) -> Vec<Lease> {
    if !is_plain_ifname(ifname) {
        return Vec::new();
    }
    let mut candidates: Vec<(PathBuf, Format, LeaseClient)> = Vec::new();
    if ifindex != 0 {
        let path = root.join("run/systemd/netif/leases").join(ifindex.to_string());
        candidates.push((path, Format::Networkd, LeaseClient::Networkd));
        let path = root.join("run/NetworkManager/devices").join(ifindex.to_string());
        candidates.push((path, Format::NmDevice, LeaseClient::NetworkManager));
    }
    let nm = root.join("var/lib/NetworkManager");
    for name in dir_names(&nm) {
        if let Some(format) = network_manager_format(&name, ifname) {
            candidates.push((nm.join(&name), format, LeaseClient::NetworkManager));
        }
    }
    for (dir, prefix, singular) in [("var/lib/dhcp", "dhclient", false), ("var/lib/dhclient", "", true)] {
        let dir = root.join(dir);
        for name in dir_names(&dir) {
            let plural = name.ends_with(".leases");
            let singular = singular && is_dhclient_singular_name(&name, ifname);
            if name.starts_with(prefix) && !name.starts_with("dhclient6") && (plural || singular) {
                candidates.push((dir.join(&name), Format::Dhclient, LeaseClient::Dhclient));
            }
        }
    }
    let sys_net = root.join("sys/class/net");
    for dir in ["var/lib/dhcpcd", "var/lib/dhcpcd5"] {
        let dhcpcd = root.join(dir);
        for name in dir_names(&dhcpcd) {
            if is_dhcpcd_lease_name(&name, ifname, &sys_net) {
                candidates.push((dhcpcd.join(&name), Format::Dhcpcd, LeaseClient::Dhcpcd));
            }
        }
    }

    let mut opened = 0usize;
    let mut leases: Vec<(Lease, Format)> = Vec::new();
    for (path, format, client) in candidates {
        if opened >= MAX_FILES {
            break;
        }
        // Only regular files: opening a FIFO for reading would block.
        if !fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        opened += 1;
        if let Some(mut lease) = read_lease(&path, format, ifname) {
            lease.client = client;
            lease.source = path.display().to_string();
            leases.push((lease, format));
        }
    }
    merge_network_manager(leases)
}

/// Merges NetworkManager's internal-client leases (networkd format, under
/// `/var/lib/NetworkManager`) into the lease of its device state when their addresses
/// agree (or the device state names none); the others are kept as they are.
fn merge_network_manager(mut leases: Vec<(Lease, Format)>) -> Vec<Lease> {
    if let Some(device) = leases.iter().position(|(_, f)| *f == Format::NmDevice) {
        let mut i = 0;
        while i < leases.len() {
            let (lease, format) = &leases[i];
            let internal = lease.client == LeaseClient::NetworkManager && *format == Format::Networkd;
            let device_address = leases[device].0.address;
            if internal && i > device && (device_address.is_none() || device_address == lease.address) {
                let (internal, _) = leases.remove(i);
                // The device state comes before every NetworkManager file in the list.
                leases[device].0.fill_from(&internal);
            } else {
                i += 1;
            }
        }
    }
    leases.into_iter().map(|(lease, _)| lease).collect()
}

/// A name that stays inside a directory when joined to it.
fn is_plain_ifname(ifname: &str) -> bool {
    !ifname.is_empty() && ifname != "." && ifname != ".." && !ifname.contains(['/', '\0'])
}

/// The UTF-8 names in `dir`, sorted; empty if it cannot be read.
fn dir_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> =
        entries.take(MAX_DIR_ENTRIES).filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    names
}

/// NetworkManager names its lease files `PLUGIN-UUID-IF.lease`; the UUID is 36 characters,
/// so the interface is exactly what follows it (an interface name may contain `-`).
fn network_manager_format(name: &str, ifname: &str) -> Option<Format> {
    let stem = name.strip_suffix(".lease")?;
    let (format, rest) = if let Some(rest) = stem.strip_prefix("internal-") {
        (Format::Networkd, rest)
    } else if let Some(rest) = stem.strip_prefix("dhclient-") {
        (Format::Dhclient, rest)
    } else {
        return None;
    };
    (rest.as_bytes().get(36) == Some(&b'-') && rest.get(37..) == Some(ifname)).then_some(format)
}

/// RHEL's one-interface dhclient files: `dhclient--IF.lease`, `dhclient-IF.lease` and
/// `dhclient-UUID-IF.lease` (the UUID is 36 characters; an interface name may contain `-`).
fn is_dhclient_singular_name(name: &str, ifname: &str) -> bool {
    let Some(rest) = name.strip_prefix("dhclient-").and_then(|n| n.strip_suffix(".lease")) else { return false };
    rest == ifname
        || rest.strip_prefix('-') == Some(ifname)
        || (rest.as_bytes().get(36) == Some(&b'-') && rest.get(37..) == Some(ifname))
}

fn is_dhcpcd_lease_name(name: &str, ifname: &str, sys_net: &Path) -> bool {
    let Some(stem) = name.strip_suffix(".lease") else { return false };
    let stem = stem.strip_prefix("dhcpcd-").unwrap_or(stem);
    if stem == ifname {
        return true;
    }
    // `IF-SSID`, unless `IF-SSID` is the name of another interface.
    stem.strip_prefix(ifname).is_some_and(|r| r.starts_with('-')) && !sys_net.join(stem).exists()
}

fn read_lease(path: &Path, format: Format, ifname: &str) -> Option<Lease> {
    let mut file = fs::File::open(path).ok()?;
    let mut data = Vec::new();
    match format {
        Format::Dhclient => {
            // dhclient appends: its newest leases are at the end.
            let len = file.metadata().ok()?.len();
            let start = len.saturating_sub(MAX_FILE_BYTES);
            file.seek(SeekFrom::Start(start)).ok()?;
            file.take(MAX_FILE_BYTES).read_to_end(&mut data).ok()?;
            if start > 0 {
                // Drop the block cut in the middle; the next one starts a line.
                let skip = data.windows(6).position(|w| w == b"\nlease").unwrap_or(data.len());
                data.drain(..skip);
            }
            parse_dhclient(&String::from_utf8_lossy(&data), ifname)
        }
        Format::Networkd => {
            file.take(MAX_FILE_BYTES).read_to_end(&mut data).ok()?;
            parse_networkd(&String::from_utf8_lossy(&data))
        }
        Format::NmDevice => {
            file.take(MAX_FILE_BYTES).read_to_end(&mut data).ok()?;
            parse_nm_device_state(&String::from_utf8_lossy(&data))
        }
        Format::Dhcpcd => {
            file.take(MAX_FILE_BYTES).read_to_end(&mut data).ok()?;
            parse_dhcpcd(&data)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::{Encodable, Encoder};

    const NETWORKD: &str = include_str!("../../captures/leases/networkd.lease");
    const NM_INTERNAL: &str = include_str!("../../captures/leases/nm-internal.lease");
    const DHCLIENT: &str = include_str!("../../captures/leases/dhclient.leases");
    const DHCPCD: &[u8] = include_bytes!("../../captures/leases/dhcpcd-eth0.lease");
    const DHCPCD_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/leases/dhcpcd-eth0.lease");
    // Written by the real clients: captures/record_leases.sh.
    const DHCLIENT_REAL: &str = include_str!("../../captures/leases/dhclient--eth0.lease");
    const DHCPCD_REAL: &[u8] = include_bytes!("../../captures/leases/dhcpcd-real-eth0.lease");
    // The same with option 252 (NTLEASE_WPAD=http://198.18.1.2/wpad.dat).
    const DHCLIENT_WPAD: &str = include_str!("../../captures/leases/dhclient-wpad--eth0.lease");
    const DHCPCD_WPAD: &[u8] = include_bytes!("../../captures/leases/dhcpcd-wpad-eth0.lease");
    // Made by hand from the writers' source (captures/README.md).
    const NETWORKD_JSON: &str = include_str!("../../captures/leases/networkd.json");
    const NM_DEVICE: &str = include_str!("../../captures/leases/nm-device-state");

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// The recipe of `captures/leases/dhcpcd-eth0.lease`: the ACK the lab's server would
    /// send to 02:00:00:00:00:0a, as dhcpcd stores it (options in code order, then the end option).
    fn build_ack() -> Vec<u8> {
        let chaddr = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
        let unspecified = Ipv4Addr::UNSPECIFIED;
        let mut msg = dhcproto::v4::Message::new_with_id(
            0x3903_f326,
            unspecified,
            ip("198.18.0.150"),
            unspecified,
            unspecified,
            &chaddr,
        );
        msg.set_opcode(Opcode::BootReply);
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::MessageType(MessageType::Ack));
        opts.insert(DhcpOption::ServerIdentifier(ip("198.18.0.1")));
        opts.insert(DhcpOption::AddressLeaseTime(3600));
        opts.insert(DhcpOption::Renewal(1800));
        opts.insert(DhcpOption::Rebinding(3150));
        opts.insert(DhcpOption::SubnetMask(ip("255.255.255.0")));
        opts.insert(DhcpOption::BroadcastAddr(ip("198.18.0.255")));
        opts.insert(DhcpOption::Router(vec![ip("198.18.0.1")]));
        opts.insert(DhcpOption::DomainNameServer(vec![ip("198.18.0.1"), ip("198.18.0.2")]));
        opts.insert(DhcpOption::DomainName("lab.test".to_string()));
        opts.insert(DhcpOption::InterfaceMtu(1500));
        let mut buf = Vec::new();
        msg.encode(&mut Encoder::new(&mut buf)).unwrap();
        buf
    }

    /// Writes the fixture again: `cargo test --lib platform::lease::tests::write_dhcpcd_fixture -- --ignored`.
    #[test]
    #[ignore = "writes captures/leases/dhcpcd-eth0.lease"]
    fn write_dhcpcd_fixture() {
        std::fs::write(DHCPCD_PATH, build_ack()).unwrap();
    }

    #[test]
    fn dhcpcd_fixture_matches_its_recipe() {
        assert_eq!(DHCPCD, build_ack().as_slice(), "re-run write_dhcpcd_fixture (see captures/README.md)");
    }

    fn lab_lease(client: LeaseClient) -> Lease {
        Lease {
            client,
            source: String::new(),
            address: Some(ip("198.18.0.150")),
            options: DhcpOptions {
                subnet_mask: Some(ip("255.255.255.0")),
                routers: vec![ip("198.18.0.1")],
                dns: vec![ip("198.18.0.1"), ip("198.18.0.2")],
                domain: Some("lab.test".to_string()),
                lease_time_s: Some(3600),
                renew_s: Some(1800),
                rebind_s: Some(3150),
                wpad: None,
            },
            server: Some(ip("198.18.0.1")),
            expires_unix: None,
            renew_unix: None,
            rebind_unix: None,
            domain_search: Vec::new(),
        }
    }

    /// [`lab_lease`] with the search list the recordings' server sends.
    fn lab_lease_with_search(client: LeaseClient) -> Lease {
        let mut lease = lab_lease(client);
        lease.domain_search = vec!["lab.test".to_string(), "corp.lab.test".to_string()];
        lease
    }

    #[test]
    fn leases_read_back_from_the_report() {
        for client in [LeaseClient::Networkd, LeaseClient::NetworkManager, LeaseClient::Dhclient, LeaseClient::Dhcpcd] {
            let lease = lab_lease(client);
            let json = serde_json::to_value(&lease).unwrap();
            assert_eq!(json["routers"], serde_json::json!(["198.18.0.1"]), "options are flattened");
            assert_eq!(serde_json::from_value::<Lease>(json).unwrap(), lease);
        }
    }

    #[test]
    fn networkd_fixture() {
        let mut want = lab_lease(LeaseClient::Networkd);
        want.domain_search = vec!["lab.test".to_string()];
        assert_eq!(parse_networkd(NETWORKD), Some(want));
    }

    #[test]
    fn networkd_json_fixture() {
        let mut want = lab_lease_with_search(LeaseClient::Networkd);
        // Obtained 2026-11-30 06:47:52 UTC: + 30 min, + 52 min 30 s, + 1 h.
        want.renew_unix = Some(1_796_021_272 + 1800);
        want.rebind_unix = Some(1_796_021_272 + 3150);
        want.expires_unix = Some(1_796_021_272 + 3600);
        assert_eq!(parse_networkd_json(NETWORKD_JSON), Some(want.clone()));
        assert_eq!(parse_networkd(NETWORKD_JSON), Some(want), "the JSON layout is recognised by its first character");
    }

    #[test]
    fn networkd_json_quirks() {
        // Dotted strings, plain seconds, a byte over 255, wrong types, an unknown field.
        let text = r#"{"AddressString": "198.18.0.150", "Netmask": [255, 255, 256, 0],
            "Server_Address": "198.18.0.1", "Router": ["198.18.0.1", "bogus"], "Servers": {"DNS": [[198, 18, 0, 1], [1, 2]]},
            "Lifetime": 3600, "T1": "30min", "T2": true, "Domain_Name": 7, "Domain_Search_List": ["a.test.", 3, ""],
            "Future": {"x": [1]}}"#;
        let lease = parse_networkd_json(text).unwrap();
        assert_eq!(lease.address, Some(ip("198.18.0.150")));
        assert_eq!(lease.subnet_mask, None);
        assert_eq!(lease.server, Some(ip("198.18.0.1")));
        assert_eq!(lease.routers, vec![ip("198.18.0.1")]);
        assert_eq!(lease.dns, vec![ip("198.18.0.1")]);
        assert_eq!((lease.lease_time_s, lease.renew_s, lease.rebind_s), (Some(3600), Some(1800), None));
        assert_eq!(lease.domain, None);
        assert_eq!(lease.domain_search, vec!["a.test".to_string()]);
        assert_eq!((lease.renew_unix, lease.expires_unix), (None, None), "no time stamp");
        for (stamp, want) in [
            ("Mon 2026-11-30 06:47:52.000000 UTC", Some(1_796_021_272)),
            ("2026-11-30 06:47:52 UTC", Some(1_796_021_272)),
            ("Mon 2026-11-30 06:47:52.000000 CET", None),
            ("Mon 2026-11-30", None),
            ("Mon 2026-13-30 06:47:52 UTC", None),
            ("", None),
        ] {
            assert_eq!(parse_utc_timestamp(stamp), want, "{stamp:?}");
        }
        let infinite = parse_networkd_json(
            r#"{"Lifetime": "infinity", "T1": "1h", "Timestamp_realtime": "Thu 1970-01-01 00:00:10 UTC"}"#,
        )
        .unwrap();
        assert_eq!((infinite.expires_unix, infinite.renew_unix), (None, Some(3610)));
        for text in ["{}", "[]", "{\"Address\": [1, 2, 3]}", "{", "null", "{\"Hostname\": \"client\"}"] {
            assert_eq!(parse_networkd_json(text), None, "{text}");
        }
        let deep = format!("{{\"Address\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_networkd_json(&deep), None);
    }

    #[test]
    fn network_manager_device_state_fixture() {
        let mut want = lab_lease_with_search(LeaseClient::NetworkManager);
        want.expires_unix = Some(1_796_024_872); // 2026-11-30 07:47:52 UTC
        assert_eq!(parse_nm_device_state(NM_DEVICE), Some(want));
    }

    #[test]
    fn network_manager_device_state_quirks() {
        // Escapes, spaces around `=`, a key outside `[dhcp4]`, a `[dhcp6]` group with the
        // same option names, a group named `dhcp4 `, comments.
        let text = "dhcp4.ip_address=198.19.0.1\n[device]\ndhcp4.ip_address=198.19.0.2\n[dhcp4]\n\
                    # comment\n  dhcp4.ip_address = 198.18.0.150\ndhcp4.domain_name=\\slab.test\\\\x\\q\n\
                    dhcp4.dhcp_lease_time=forever\ndhcp4.routers=198.18.0.1   198.18.0.3\nrouters=198.19.0.9\n\
                    [dhcp6]\ndhcp4.ip_address=198.19.0.3\n[dhcp4 ]\ndhcp4.expiry=1\n";
        let lease = parse_nm_device_state(text).unwrap();
        assert_eq!(lease.address, Some(ip("198.18.0.150")));
        assert_eq!(lease.domain.as_deref(), Some("lab.test\\x\\q"));
        assert_eq!(lease.lease_time_s, None);
        assert_eq!(lease.routers, vec![ip("198.18.0.1"), ip("198.18.0.3")]);
        assert_eq!(lease.expires_unix, None, "`[dhcp4 ]` is another group (GKeyFile keeps the space)");
        assert_eq!(parse_nm_device_state("[device]\nmanaged=true\n"), None);
        assert_eq!(parse_nm_device_state("[dhcp4]\ndhcp4.host_name=client\n"), None);
        assert_eq!(parse_nm_device_state(""), None);
    }

    #[test]
    fn networkd_older_integer_times_and_quirks() {
        let text = "ADDRESS=198.18.0.150\nT1=1800\nT2=3150\nLIFETIME=3600\nno equals sign\n=\n; comment\n\
                    DNS=198.18.0.1,bogus 198.18.0.2\nROUTER=\nDOMAINNAME=\"lab.test\"\nNETMASK=255.255.255.300\n";
        let lease = parse_networkd(text).unwrap();
        assert_eq!(lease.address, Some(ip("198.18.0.150")));
        assert_eq!((lease.renew_s, lease.rebind_s, lease.lease_time_s), (Some(1800), Some(3150), Some(3600)));
        assert_eq!(lease.dns, vec![ip("198.18.0.1"), ip("198.18.0.2")]);
        assert!(lease.routers.is_empty());
        assert_eq!(lease.domain.as_deref(), Some("lab.test"));
        assert_eq!(lease.subnet_mask, None);
        assert_eq!(parse_networkd(""), None);
        assert_eq!(parse_networkd("# This is private data. Do not parse.\nHOSTNAME=client\n"), None);
    }

    #[test]
    fn network_manager_internal_fixture_has_only_the_address() {
        let lease = parse_networkd(NM_INTERNAL).unwrap();
        assert_eq!(lease.address, Some(ip("198.18.0.150")));
        assert_eq!((lease.server, lease.lease_time_s), (None, None));
    }

    #[test]
    fn systemd_timespans() {
        for (text, want) in [
            ("1h", Some(3600)),
            ("52min 30s", Some(3150)),
            ("30min", Some(1800)),
            ("1d 12h", Some(129_600)),
            ("1w 2d", Some(777_600)),
            ("1month", Some(2_629_800)),
            ("1y", Some(31_557_600)),
            ("1s 500ms", Some(1)),
            ("5 min", Some(300)),
            ("infinity", Some(u32::MAX)),
            ("4294967295", Some(u32::MAX)),
            ("4294967296", None),
            ("200y", None),
            ("99999999999999999999999h", None),
            ("1 fortnight", None),
            ("h", None),
            ("-5s", None),
            ("", None),
            ("1.5h", None),
        ] {
            assert_eq!(parse_timespan_s(text), want, "{text:?}");
        }
    }

    #[test]
    fn dhclient_takes_the_last_block_of_the_interface() {
        let mut want = lab_lease(LeaseClient::Dhclient);
        want.expires_unix = Some(1_741_600_800); // 2025-03-10 10:00:00 UTC
        want.renew_unix = Some(1_741_599_000); // 09:30:00
        want.rebind_unix = Some(1_741_600_350); // 09:52:30
        assert_eq!(parse_dhclient(DHCLIENT, "eth0"), Some(want));

        let eth1 = parse_dhclient(DHCLIENT, "eth1").unwrap();
        assert_eq!(eth1.address, Some(ip("198.19.0.20")));
        assert_eq!(eth1.lease_time_s, Some(u32::MAX));
        assert_eq!((eth1.expires_unix, eth1.renew_unix, eth1.rebind_unix), (None, None, None), "never");
        assert_eq!((eth1.renew_s, eth1.domain.as_deref()), (None, None));

        assert_eq!(parse_dhclient(DHCLIENT, "wlan0"), None);
    }

    #[test]
    fn dhclient_real_fixture() {
        let mut want = lab_lease_with_search(LeaseClient::Dhclient);
        want.renew_unix = Some(1_796_022_784); // 2026/11/30 07:13:04
        want.rebind_unix = Some(1_796_024_422); // 07:40:22
        want.expires_unix = Some(1_796_024_872); // 07:47:52
        assert_eq!(parse_dhclient(DHCLIENT_REAL, "eth0"), Some(want));
        assert_eq!(parse_dhclient(DHCLIENT_REAL, "eth1"), None);
    }

    /// Option 252 as the real clients store it when asked for: dhclient with `option wpad
    /// code 252 = text;` in its config writes `option wpad "...";`, dhcpcd keeps the ACK
    /// with the option; NetworkManager's device state names it `dhcp4.wpad`
    /// (nm-dhcp-options.c), networkd saves it as hex `OPTION_252` (sd-dhcp-lease.c).
    #[test]
    fn wpad_urls_from_every_lease_format() {
        const URL: &str = "http://198.18.1.2/wpad.dat";
        let mut want = lab_lease_with_search(LeaseClient::Dhclient);
        want.options.wpad = Some(URL.into());
        want.renew_unix = Some(1_796_043_071); // 2026/11/30 12:51:11
        want.rebind_unix = Some(1_796_044_813); // 13:20:13
        want.expires_unix = Some(1_796_045_263); // 13:27:43
        assert_eq!(parse_dhclient(DHCLIENT_WPAD, "eth0"), Some(want));
        let mut want = lab_lease_with_search(LeaseClient::Dhcpcd);
        want.options.wpad = Some(URL.into());
        assert_eq!(parse_dhcpcd(DHCPCD_WPAD), Some(want));
        let nm = parse_nm_device_state(&format!("[dhcp4]\ndhcp4.ip_address=198.18.0.150\ndhcp4.wpad={URL}\n")).unwrap();
        assert_eq!(nm.wpad.as_deref(), Some(URL));
        let hex: String = URL.bytes().chain([0]).map(|b| format!("{b:02x}")).collect();
        let networkd = parse_networkd(&format!("ADDRESS=198.18.0.150\nOPTION_252={hex}\n")).unwrap();
        assert_eq!(networkd.wpad.as_deref(), Some(URL), "the trailing NUL is dropped");
        for bad in ["OPTION_252=6", "OPTION_252=zz", "OPTION_252="] {
            assert_eq!(parse_networkd(&format!("ADDRESS=198.18.0.150\n{bad}\n")).unwrap().wpad, None, "{bad}");
        }
        // dhclient without the definition writes no `option wpad`; a control character
        // from the server does not survive.
        let lease = parse_dhclient("lease { fixed-address 198.18.0.150; option wpad \"http://a/\x07b\"; }", "eth0");
        assert_eq!(lease.unwrap().wpad.as_deref(), Some("http://a/\u{fffd}b"));
    }

    #[test]
    fn dhclient_domain_search_spellings() {
        let text = "lease { option domain-search \"a.test.\",\"b.test\", c.test,d.test.; }";
        let lease = parse_dhclient(text, "eth0").unwrap();
        assert_eq!(lease.domain_search, ["a.test", "b.test", "c.test", "d.test"]);
        let many: Vec<String> = (0..40).map(|i| format!("\"d{i}.test.\"")).collect();
        let text = format!("lease {{ option domain-search {}; }}", many.join(", "));
        assert_eq!(parse_dhclient(&text, "eth0").unwrap().domain_search.len(), MAX_SEARCH_DOMAINS);
    }

    #[test]
    fn dhclient_torn_last_block_falls_back_to_the_previous_one() {
        let cut = DHCLIENT.rfind("  expire").unwrap();
        let lease = parse_dhclient(&DHCLIENT[..cut], "eth0").unwrap();
        assert_eq!(lease.address, Some(ip("198.18.0.149")));
        assert_eq!(lease.domain.as_deref(), Some("old.lab.test"));
        assert_eq!(lease.expires_unix, Some(1_741_594_155)); // 2025-03-10 08:09:15 UTC
    }

    #[test]
    fn dhclient_syntax_corners() {
        // No interface line: matches any interface. Epoch times, comments, escapes, braces
        // and semicolons inside strings, nested and foreign blocks, a stray `}`.
        let text = "} stray;\nlease6 { interface \"eth0\"; ia-na x { iaaddr y { } } }\n\
                    lease{fixed-address 198.18.0.151; # comment; {\n\
                    option domain-name \"a;b{c}\\\"d\\101\"; expire epoch 1741600800; # Mon Mar 10\n\
                    option vendor-encapsulated-options 1:2:3; option routers 198.18.0.1,198.18.0.3;}";
        let lease = parse_dhclient(text, "eth9").unwrap();
        assert_eq!(lease.address, Some(ip("198.18.0.151")));
        assert_eq!(lease.domain.as_deref(), Some("a;b{c}\"dA"));
        assert_eq!(lease.expires_unix, Some(1_741_600_800));
        assert_eq!(lease.routers, vec![ip("198.18.0.1"), ip("198.18.0.3")]);
        assert_eq!(parse_dhclient("lease { }", "eth0"), None);
        assert_eq!(parse_dhclient("lease { fixed-address 198.18.0.1; ", "eth0"), None);
    }

    #[test]
    fn dhclient_dates() {
        assert_eq!(unix_from_utc("1970/01/01", "00:00:00"), Some(0));
        assert_eq!(unix_from_utc("2025/03/10", "10:00:00"), Some(1_741_600_800));
        assert_eq!(unix_from_utc("2024/02/29", "23:59:60"), Some(1_709_251_200));
        assert_eq!(unix_from_utc("2023/02/29", "00:00:00"), None);
        assert_eq!(unix_from_utc("1969/12/31", "23:59:59"), None);
        assert_eq!(unix_from_utc("2025/13/01", "00:00:00"), None);
        assert_eq!(unix_from_utc("2025/03/10", "24:00:00"), None);
        assert_eq!(unix_from_utc("2025/03/10/1", "10:00:00"), None);
        assert_eq!(unix_from_utc("99999999999999999999/1/1", "0:0:0"), None);
        assert_eq!(unix_from_utc("9999/12/31", "23:59:59"), Some(253_402_300_799));
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(parse_dhclient_time(&words("never")), None);
        assert_eq!(parse_dhclient_time(&words("epoch 12")), Some(12));
        assert_eq!(parse_dhclient_time(&words("x 2025/03/10 10:00:00")), None);
    }

    #[test]
    fn dhcpcd_fixture() {
        assert_eq!(parse_dhcpcd(DHCPCD), Some(lab_lease(LeaseClient::Dhcpcd)));
    }

    #[test]
    fn dhcpcd_real_fixture_with_a_compressed_search_list() {
        assert_eq!(parse_dhcpcd(DHCPCD_REAL), Some(lab_lease_with_search(LeaseClient::Dhcpcd)));
    }

    #[test]
    fn search_list_wire_corners() {
        // Two names, the second pointing into the first (RFC 3397's example shape).
        let data = b"\x03lab\x04test\x00\x04corp\xc0\x00";
        assert_eq!(decode_search_list(data), ["lab.test", "corp.lab.test"]);
        // A pointer loop, a pointer past the end, a reserved label type, a label past the end.
        assert_eq!(decode_search_list(b"\x01a\xc0\x00"), Vec::<String>::new());
        assert_eq!(decode_search_list(b"\x01a\x00\xc0\x40"), ["a"]);
        assert_eq!(decode_search_list(b"\x41a\x00"), Vec::<String>::new());
        assert_eq!(decode_search_list(b"\x05ab\x00"), Vec::<String>::new());
        // A name over 255 characters.
        let long: Vec<u8> = (0..5).flat_map(|_| std::iter::once(63u8).chain([b'x'; 63])).chain([0]).collect();
        assert_eq!(decode_search_list(&long), Vec::<String>::new());
        let many: Vec<u8> = (0..40).flat_map(|_| [1, b'a', 0]).collect();
        assert_eq!(decode_search_list(&many).len(), MAX_SEARCH_DOMAINS);
        // Options split over two instances (RFC 3396) and an option running past the end.
        let mut msg = DHCPCD[..240].to_vec();
        msg.extend_from_slice(&[119, 5, 3, b'l', b'a', b'b', 4, 0, 119, 5, b't', b'e', b's', b't', 0, 255]);
        assert_eq!(decode_search_list(&raw_option(&msg, 119)), ["lab.test"]);
        msg.truncate(msg.len() - 1);
        msg.extend_from_slice(&[119, 9, 1]);
        assert_eq!(raw_option(&msg, 119).len(), 10);
    }

    /// The options region of the fixture, without the end option and padding.
    fn fixture_without_end() -> Vec<u8> {
        let mut bytes = DHCPCD.to_vec();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        assert_eq!(bytes.pop(), Some(255));
        bytes
    }

    #[test]
    fn dhcpcd_before_9_cut_at_the_end_option() {
        assert_eq!(parse_dhcpcd(&fixture_without_end()), Some(lab_lease(LeaseClient::Dhcpcd)));
    }

    #[test]
    fn dhcpcd_bad_options_neither_panic_nor_hide_the_good_ones() {
        let mut bytes = fixture_without_end();
        // Rapid Commit with a value, Client FQDN and Client NDI too short (dhcproto's debug
        // assertions), a router of 3 bytes, a lease time of 2 bytes, a domain in Latin-1.
        bytes.extend_from_slice(&[80, 1, 0, 81, 0, 94, 0, 3, 3, 1, 2, 3, 51, 2, 0, 1, 15, 1, 0xe9, 255]);
        let lease = parse_dhcpcd(&bytes).unwrap();
        assert!(lease.routers.is_empty(), "3 + 4 bytes of routers is not a list of addresses");
        assert_eq!(lease.lease_time_s, None);
        assert_eq!(lease.domain, None);
        assert_eq!(lease.dns, vec![ip("198.18.0.1"), ip("198.18.0.2")]);
        assert_eq!(lease.server, Some(ip("198.18.0.1")));
    }

    #[test]
    fn dhcpcd_rejects_what_is_not_an_ack() {
        let mut request = DHCPCD.to_vec();
        request[0] = 1;
        assert_eq!(parse_dhcpcd(&request), None);
        let mut no_cookie = DHCPCD.to_vec();
        no_cookie[236] = 0;
        assert_eq!(parse_dhcpcd(&no_cookie), None);
        let mut nak = DHCPCD.to_vec();
        let at = nak.windows(3).position(|w| w == [53, 1, 5]).unwrap();
        nak[at + 2] = 6;
        assert_eq!(parse_dhcpcd(&nak), None);
        assert_eq!(parse_dhcpcd(&[]), None);
    }

    /// xorshift64*, so that the garbage is the same on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap()
        }
        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
        }
    }

    fn all_parsers(bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let _ = parse_networkd(&text);
        let _ = parse_networkd_json(&text);
        let _ = parse_nm_device_state(&text);
        let _ = parse_dhclient(&text, "eth0");
        let _ = parse_dhclient(&text, "");
        let _ = parse_dhcpcd(bytes);
    }

    #[test]
    fn every_truncation_of_every_fixture_parses_without_panic() {
        for fixture in [
            NETWORKD.as_bytes(),
            NETWORKD_JSON.as_bytes(),
            NM_INTERNAL.as_bytes(),
            NM_DEVICE.as_bytes(),
            DHCLIENT.as_bytes(),
            DHCLIENT_REAL.as_bytes(),
            DHCPCD,
            DHCPCD_REAL,
        ] {
            for end in 0..=fixture.len() {
                all_parsers(&fixture[..end]);
                all_parsers(&fixture[end..]);
            }
        }
    }

    #[test]
    fn garbage_parses_without_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let len = rng.below(700);
            all_parsers(&rng.bytes(len));
        }
        // A valid header followed by random options reaches every option decoder.
        let header = &DHCPCD[..240];
        for _ in 0..20_000 {
            let len = rng.below(300);
            let mut bytes = header.to_vec();
            bytes.extend(rng.bytes(len));
            let _ = parse_dhcpcd(&bytes);
        }
        // The fixture with a few random bytes changed.
        for _ in 0..20_000 {
            let mut bytes = DHCPCD.to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.bytes(1)[0];
            }
            let _ = parse_dhcpcd(&bytes);
        }
        // Text made of the formats' own pieces.
        let pieces = [
            "lease",
            "{",
            "}",
            ";",
            "\"",
            "\\",
            "\\7",
            "#",
            "\n",
            " ",
            "=",
            "interface",
            "eth0",
            "option",
            "routers",
            "198.18.0.1",
            ",",
            "expire",
            "never",
            "epoch",
            "1",
            "2025/03/10",
            "99:99:99",
            "fixed-address",
            "dhcp-lease-time",
            "4294967296",
            "ADDRESS",
            "T1",
            "LIFETIME",
            "infinity",
            "5min",
            "é",
            "domain-name",
            "domain-search",
            "renew",
            "[dhcp4]",
            "dhcp4.ip_address",
            "dhcp4.routers",
            "\\",
            "\\s",
            "[",
            "]",
            "\"Address\":",
            "[198, 18, 0, 1]",
            "\"Servers\": {\"DNS\": ",
        ];
        for _ in 0..5000 {
            let text: String = (0..rng.below(60)).map(|_| pieces[rng.below(pieces.len())]).collect();
            all_parsers(text.as_bytes());
        }
        // Deep nesting and a huge number.
        all_parsers("{".repeat(100_000).as_bytes());
        all_parsers(format!("lease {{ option dhcp-lease-time {}; }}", "9".repeat(10_000)).as_bytes());
    }

    const UUID: &str = "5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03";

    fn tree() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let put = |rel: &str, bytes: &[u8]| {
            let path = root.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        };
        put("run/systemd/netif/leases/3", NETWORKD.as_bytes());
        put("run/systemd/netif/leases/4", b"ADDRESS=198.19.0.20\n");
        put(&format!("var/lib/NetworkManager/internal-{UUID}-eth0.lease"), NM_INTERNAL.as_bytes());
        put(&format!("var/lib/NetworkManager/internal-{UUID}-br-eth0.lease"), b"ADDRESS=198.19.0.30\n");
        put(&format!("var/lib/NetworkManager/internal6-{UUID}-eth0.lease"), b"ADDRESS=198.19.0.31\n");
        put(&format!("var/lib/NetworkManager/dhclient-{UUID}-eth0.lease"), DHCLIENT.as_bytes());
        put("var/lib/NetworkManager/timestamps", b"[timestamps]\n");
        put("var/lib/dhcp/dhclient.leases", DHCLIENT.as_bytes());
        put("var/lib/dhcp/dhclient6.leases", DHCLIENT.as_bytes());
        put("var/lib/dhcp/dhcpd.leases", DHCLIENT.as_bytes());
        put("var/lib/dhcpcd/eth0.lease", DHCPCD);
        put("var/lib/dhcpcd/eth0-HomeWifi.lease", DHCPCD);
        put("var/lib/dhcpcd/eth0-100.lease", DHCPCD);
        put("sys/class/net/eth0-100/ifindex", b"7\n");
        put("var/lib/dhcpcd/eth0.lease6", b"garbage");
        put("var/lib/dhcpcd/eth1.lease", DHCPCD);
        put("var/lib/dhcpcd/dhcpcd-eth0.lease", DHCPCD);
        // NetworkManager's device state without `dhcp4.ip_address`: the internal lease's
        // address completes it. Index 4's device state has no `[dhcp4]` group.
        let device: String =
            NM_DEVICE.lines().filter(|l| !l.starts_with("dhcp4.ip_address")).map(|l| l.to_string() + "\n").collect();
        put("run/NetworkManager/devices/3", device.as_bytes());
        put("run/NetworkManager/devices/4", b"[device]\nmanaged=true\n");
        put("var/lib/dhclient/dhclient--eth0.lease", DHCLIENT_REAL.as_bytes());
        put(&format!("var/lib/dhclient/dhclient-{UUID}-eth0.lease"), DHCLIENT_REAL.as_bytes());
        put("var/lib/dhclient/dhclient6--eth0.lease", DHCLIENT_REAL.as_bytes());
        put("var/lib/dhclient/dhclient--eth1.lease", DHCLIENT_REAL.as_bytes());
        put("var/lib/dhclient/dhclient--br-eth0.lease", DHCLIENT_REAL.as_bytes());
        put("var/lib/dhcpcd5/eth0.lease", DHCPCD_REAL);
        put("var/lib/dhcpcd5/eth1.lease", DHCPCD_REAL);
        std::fs::create_dir_all(root.path().join("var/lib/dhcpcd/eth0-dir.lease")).unwrap();
        nix::unistd::mkfifo(&root.path().join("var/lib/dhcpcd/eth0-fifo.lease"), nix::sys::stat::Mode::S_IRWXU)
            .unwrap();
        root
    }

    #[test]
    fn find_reads_every_client_location() {
        let root = tree();
        let found = find_under(root.path(), "eth0", 3);
        let summary: Vec<(LeaseClient, String, Option<Ipv4Addr>)> = found
            .iter()
            .map(|l| {
                let rel = Path::new(&l.source).strip_prefix(root.path()).unwrap().display().to_string();
                (l.client, rel, l.address)
            })
            .collect();
        let lab = Some(ip("198.18.0.150"));
        assert_eq!(
            summary,
            vec![
                (LeaseClient::Networkd, "run/systemd/netif/leases/3".to_string(), lab),
                (LeaseClient::NetworkManager, "run/NetworkManager/devices/3".to_string(), lab),
                (LeaseClient::NetworkManager, format!("var/lib/NetworkManager/dhclient-{UUID}-eth0.lease"), lab),
                (LeaseClient::Dhclient, "var/lib/dhcp/dhclient.leases".to_string(), lab),
                (LeaseClient::Dhclient, "var/lib/dhclient/dhclient--eth0.lease".to_string(), lab),
                (LeaseClient::Dhclient, format!("var/lib/dhclient/dhclient-{UUID}-eth0.lease"), lab),
                (LeaseClient::Dhcpcd, "var/lib/dhcpcd/dhcpcd-eth0.lease".to_string(), lab),
                (LeaseClient::Dhcpcd, "var/lib/dhcpcd/eth0-HomeWifi.lease".to_string(), lab),
                (LeaseClient::Dhcpcd, "var/lib/dhcpcd/eth0.lease".to_string(), lab),
                (LeaseClient::Dhcpcd, "var/lib/dhcpcd5/eth0.lease".to_string(), lab),
            ]
        );
        // The device state merged with the internal lease is the whole lab lease.
        let mut nm = lab_lease_with_search(LeaseClient::NetworkManager);
        nm.expires_unix = Some(1_796_024_872);
        nm.source.clone_from(&found[1].source);
        assert_eq!(found[1], nm);
        assert_eq!(found[3].expires_unix, Some(1_741_600_800));
        assert_eq!(found[4].renew_unix, Some(1_796_022_784));
        assert_eq!(found[9].domain_search, ["lab.test", "corp.lab.test"]);
        assert_eq!(found[0].dns, vec![ip("198.18.0.1"), ip("198.18.0.2")]);
    }

    #[test]
    fn find_keeps_an_internal_lease_whose_address_differs_from_the_device_state() {
        let root = tempfile::tempdir().unwrap();
        let put = |rel: &str, bytes: &[u8]| {
            let path = root.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        };
        put("run/NetworkManager/devices/5", NM_DEVICE.as_bytes());
        put(&format!("var/lib/NetworkManager/internal-{UUID}-eth0.lease"), b"ADDRESS=198.19.0.99\n");
        let found = find_under(root.path(), "eth0", 5);
        let addresses: Vec<_> = found.iter().map(|l| (l.client, l.address)).collect();
        assert_eq!(
            addresses,
            [
                (LeaseClient::NetworkManager, Some(ip("198.18.0.150"))),
                (LeaseClient::NetworkManager, Some(ip("198.19.0.99")))
            ]
        );
        assert_eq!(found[1].server, None, "nothing of the device state is lent to another address");
        // Without the index the device state is not looked for.
        assert_eq!(find_under(root.path(), "eth0", 0).len(), 1);
    }

    #[test]
    fn find_without_files_or_with_a_hostile_name_is_empty() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(find_under(root.path(), "eth0", 3), vec![]);
        let root = tree();
        for name in ["", ".", "..", "../eth0", "eth0/..", "a\0b"] {
            assert_eq!(find_under(root.path(), name, 0), vec![], "{name:?}");
        }
        assert_eq!(find_under(root.path(), "wlan0", 0), vec![]);
    }

    #[test]
    fn find_bounds_the_files_and_reads_the_end_of_a_long_dhclient_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("var/lib/dhclient");
        std::fs::create_dir_all(&dir).unwrap();
        // Over 1 MiB of old leases, then the current one.
        let old = "lease {\n  interface \"eth0\";\n  fixed-address 198.18.0.149;\n  option domain-name \"x\";\n}\n";
        let mut long = old.repeat((MAX_FILE_BYTES as usize) / old.len() + 10);
        long.insert_str(0, "lease { option domain-name \"unterminated;\n");
        long.push_str(DHCLIENT);
        std::fs::write(dir.join("a-long.leases"), &long).unwrap();
        for i in 0..100 {
            std::fs::write(dir.join(format!("dhclient-{i:03}.leases")), DHCLIENT).unwrap();
        }
        let found = find_under(root.path(), "eth0", 0);
        assert_eq!(found.len(), MAX_FILES);
        assert!(found[0].source.ends_with("a-long.leases"));
        assert_eq!(found[0].address, Some(ip("198.18.0.150")));
        assert!(found.iter().all(|l| l.client == LeaseClient::Dhclient && l.address == Some(ip("198.18.0.150"))));
    }

    #[test]
    fn find_on_this_machine_does_not_panic() {
        let _ = find("lo", 1);
        let _ = find("eth0", 2);
    }

    #[test]
    fn serializes_snake_case() {
        let json = serde_json::to_value(lab_lease(LeaseClient::NetworkManager)).unwrap();
        assert_eq!(json["client"], "network_manager");
        assert_eq!(json["address"], "198.18.0.150");
    }
}
