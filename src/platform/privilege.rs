//! The process's network privileges: which capabilities it holds, the drop after the
//! privileged sockets are open, and whether unprivileged ICMP ("ping") sockets are allowed.
//!
//! Checks that need CAP_NET_RAW (ARP, ICMP, DHCP over packet sockets) consult
//! [`Privileges`] before opening sockets, so a missing capability is reported as
//! `tool.no_privilege` with a way to grant it, not as a bare EPERM.
//!
//! The drop (issue #16, docs/privileges.md): `app::collect` opens every privileged socket
//! the run will use up front ([`crate::platform::packet::preopen`],
//! [`crate::platform::icmp::preopen_raw`], [`crate::platform::icmp::preopen_echo_client`]),
//! then [`drop_network`] removes CAP_NET_RAW and CAP_NET_ADMIN from the effective,
//! permitted, inheritable and ambient sets (and the bounding set where CAP_SETPCAP allows
//! it), sets `no_new_privs`, and reads the sets back with capget for the report
//! ([`PrivilegeReport`]). Capabilities are per thread on Linux, so the drop happens before
//! the run starts any thread, and every thread of the process is read back
//! ([`DropResult::threads_holding`]). [`ping_access`] reads `net.ipv4.ping_group_range`
//! for the ICMP datagram-socket fallback. The pure parsers are tested here; the kernel
//! calls run in the lab (`tests/lab_privileges.rs`).

use serde::{Deserialize, Serialize};

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// The capabilities nettriage cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Privileges {
    /// CAP_NET_RAW: raw and packet sockets.
    pub net_raw: bool,
    /// CAP_NET_ADMIN: interface and socket options that change state.
    pub net_admin: bool,
}

impl Privileges {
    /// Reads the effective capabilities of this process; none if they cannot be read.
    pub fn current() -> Privileges {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| parse_status(&status))
            .unwrap_or(Privileges { net_raw: false, net_admin: false })
    }

    /// Whether both capabilities are held.
    pub fn full(self) -> bool {
        self.net_raw && self.net_admin
    }

    /// The capabilities held, as a list.
    pub fn held(self) -> Vec<NetCap> {
        let mut caps = Vec::new();
        if self.net_admin {
            caps.push(NetCap::CapNetAdmin);
        }
        if self.net_raw {
            caps.push(NetCap::CapNetRaw);
        }
        caps
    }
}

/// Parses the `CapEff:` line of a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> Option<Privileges> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
    let bits = u64::from_str_radix(hex, 16).ok()?;
    Some(Privileges { net_raw: bits & (1 << CAP_NET_RAW) != 0, net_admin: bits & (1 << CAP_NET_ADMIN) != 0 })
}

/// A capability nettriage uses (the report names only these two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetCap {
    /// CAP_NET_ADMIN: triggering a Wi-Fi scan (nl80211).
    CapNetAdmin,
    /// CAP_NET_RAW: packet sockets (ARP, DHCP, Neighbor Solicitation, capture) and raw
    /// ICMP/ICMPv6 sockets.
    CapNetRaw,
}

impl NetCap {
    /// Both, in a stable order.
    pub const ALL: [NetCap; 2] = [NetCap::CapNetAdmin, NetCap::CapNetRaw];

    /// The kernel's capability number.
    pub fn number(self) -> u32 {
        match self {
            NetCap::CapNetAdmin => CAP_NET_ADMIN,
            NetCap::CapNetRaw => CAP_NET_RAW,
        }
    }

    /// The capabilities of `ALL` whose bit is set in a capability mask.
    pub fn in_mask(mask: u64) -> Vec<NetCap> {
        NetCap::ALL.into_iter().filter(|c| mask & (1u64 << c.number()) != 0).collect()
    }
}

/// One thread's capability sets, restricted to [`NetCap`] (read with capget).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapSets {
    /// Effective: what the thread may use now.
    #[serde(default)]
    pub effective: Vec<NetCap>,
    /// Permitted: what it may make effective again.
    #[serde(default)]
    pub permitted: Vec<NetCap>,
    /// Inheritable: what may pass an exec (with file or ambient capabilities).
    #[serde(default)]
    pub inheritable: Vec<NetCap>,
    /// Ambient: what an exec of an ordinary file keeps.
    #[serde(default)]
    pub ambient: Vec<NetCap>,
    /// Bounding: the most an exec may ever gain.
    #[serde(default)]
    pub bounding: Vec<NetCap>,
}

impl CapSets {
    /// Whether `cap` is usable now or may become so without an exec (effective or
    /// permitted).
    pub fn holds(&self, cap: NetCap) -> bool {
        self.effective.contains(&cap) || self.permitted.contains(&cap)
    }
}

/// What the run did with its privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropStatus {
    /// The network capabilities were removed after the sockets were opened (all of them,
    /// or all but those in [`PrivilegeReport::kept`]).
    Dropped,
    /// The run held neither capability: nothing to drop.
    NothingHeld,
    /// The capabilities were kept on purpose: a survey opens its sockets again each run.
    KeptForSurvey,
    /// The drop failed (see [`PrivilegeReport::error`]): the run went on with them.
    Failed,
}

/// Why a capability was kept after the drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// `--wifi-scan`: the kernel checks CAP_NET_ADMIN of the thread that sends the scan
    /// request, at send time, so no socket can be opened for it up front.
    WifiScan,
}

/// A capability kept after the drop, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptCap {
    /// The capability.
    pub capability: NetCap,
    /// Why.
    pub reason: KeepReason,
}

/// A kind of privileged socket opened before the drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketKind {
    /// `AF_PACKET` on the interface: DHCP, ARP, Neighbor Solicitation, the capture.
    Packet,
    /// Raw ICMP (IPv4): the path check's DF echo.
    RawIcmpV4,
    /// Raw ICMPv6: the Router Solicitation and the path check's echo.
    RawIcmpV6,
    /// The gateway's ICMP echo client (a raw ICMP socket bound to the interface).
    EchoV4,
    /// The gateway's ICMPv6 echo client (a raw ICMPv6 socket bound to the interface).
    EchoV6,
}

/// How many sockets of one kind were opened before the drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedSockets {
    /// The kind.
    pub kind: SocketKind,
    /// How many were opened (the checks take them; unused ones are closed at the end).
    pub count: u32,
}

/// `net.ipv4.ping_group_range` (it also governs ICMPv6 ping sockets): the group ids that
/// may open ICMP datagram sockets without a capability; `1 0` (the default) allows none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingGroupRange {
    /// The lowest group id allowed.
    pub low: u32,
    /// The highest group id allowed.
    pub high: u32,
}

impl PingGroupRange {
    /// Whether `gid` is inside the range.
    pub fn contains(self, gid: u32) -> bool {
        self.low <= gid && gid <= self.high
    }
}

/// Whether this process may open unprivileged ICMP datagram ("ping") sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingAccess {
    /// The range read from `/proc/sys/net/ipv4/ping_group_range`; absent when it could
    /// not be read.
    pub range: Option<PingGroupRange>,
    /// The effective group id.
    pub gid: Option<u32>,
    /// Whether the effective group or a supplementary group is inside the range (the
    /// kernel's test when a ping socket is created).
    pub allowed: bool,
}

/// The report's account of privileges (the top-level `privileges` field of a live run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivilegeReport {
    /// The real user id of the process (0: root, which keeps uid 0 but loses the
    /// capabilities).
    pub uid: Option<u32>,
    /// The capability sets of the thread that runs the checks, at the start of the run.
    pub at_start: CapSets,
    /// The privileged sockets opened before the drop.
    #[serde(default)]
    pub opened: Vec<OpenedSockets>,
    /// What was done.
    pub drop: DropStatus,
    /// Capabilities kept after the drop, and why.
    #[serde(default)]
    pub kept: Vec<KeptCap>,
    /// When the drop happened, from the start of the run.
    #[serde(default)]
    pub dropped_at_ms: Option<f64>,
    /// The sets read back with capget right after the drop.
    #[serde(default)]
    pub after_drop: Option<CapSets>,
    /// Whether `no_new_privs` was set (an exec can then gain nothing from file
    /// capabilities or set-user-ID bits).
    #[serde(default)]
    pub no_new_privs: bool,
    /// Threads of the process at the drop.
    #[serde(default)]
    pub threads: u32,
    /// Threads that still held a dropped capability (effective or permitted) after it;
    /// 0 when the drop is complete.
    #[serde(default)]
    pub threads_holding: u32,
    /// Unprivileged ICMP sockets: the gateway echo's fallback without CAP_NET_RAW.
    #[serde(default)]
    pub ping: Option<PingAccess>,
    /// Why the drop failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The capabilities a run keeps after the drop (pure): CAP_NET_ADMIN when it is asked to
/// scan for Wi-Fi (`wifi_scan`) and holds it, because the kernel checks it on the thread
/// that sends the nl80211 scan request, when it sends it; nothing else.
pub fn kept_for(wifi_scan: bool, privileges: Privileges) -> Vec<KeptCap> {
    if wifi_scan && privileges.net_admin {
        vec![KeptCap { capability: NetCap::CapNetAdmin, reason: KeepReason::WifiScan }]
    } else {
        vec![]
    }
}

/// Parses `/proc/sys/net/ipv4/ping_group_range` (`"low\thigh"`).
pub fn parse_ping_group_range(text: &str) -> Option<PingGroupRange> {
    let mut parts = text.split_whitespace();
    let low = parts.next()?.parse().ok()?;
    let high = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(PingGroupRange { low, high })
}

/// The effective group id and the supplementary groups from a `/proc/PID/status` text
/// (`Gid:` real, effective, saved, filesystem; `Groups:` the list).
pub fn parse_groups(status: &str) -> Option<(u32, Vec<u32>)> {
    let gid = status.lines().find_map(|l| l.strip_prefix("Gid:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let groups = status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| g.split_whitespace().filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default();
    Some((gid, groups))
}

/// The real user id from a `/proc/PID/status` text.
pub fn parse_uid(status: &str) -> Option<u32> {
    status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.parse().ok()
}

/// Whether a process of effective group `gid` and supplementary `groups` may open ping
/// sockets under `range` (pure).
pub fn ping_allowed(range: Option<PingGroupRange>, gid: Option<u32>, groups: &[u32]) -> bool {
    range.is_some_and(|r| gid.is_some_and(|g| r.contains(g)) || groups.iter().any(|g| r.contains(*g)))
}

/// Reads `net.ipv4.ping_group_range` (of this network namespace) and this process's
/// groups.
pub fn ping_access() -> PingAccess {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").ok().and_then(|t| parse_ping_group_range(&t));
    let groups = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| parse_groups(&s));
    let gid = groups.as_ref().map(|(g, _)| *g);
    let supplementary = groups.map(|(_, g)| g).unwrap_or_default();
    PingAccess { range, gid, allowed: ping_allowed(range, gid, &supplementary) }
}

/// The real user id of this process.
pub fn current_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status").ok().and_then(|s| parse_uid(&s))
}

/// The effective user id from a `/proc/PID/status` text (the `Uid:` line's second field).
pub fn parse_effective_uid(status: &str) -> Option<u32> {
    status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// The effective user id of this process (who owns what it may read).
pub fn effective_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status").ok().and_then(|s| parse_effective_uid(&s))
}

/// Capabilities could not be read or changed.
#[cfg(feature = "live")]
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// capget failed.
    #[error("reading the {set} capability set of thread {tid}: {source}")]
    Read {
        /// The set.
        set: &'static str,
        /// The thread (0: the calling thread).
        tid: i32,
        /// Why.
        source: caps::errors::CapsError,
    },
    /// capset or PR_CAPBSET_DROP failed.
    #[error("dropping {cap:?} from the {set} set: {source}")]
    Drop {
        /// The capability.
        cap: NetCap,
        /// The set.
        set: &'static str,
        /// Why.
        source: caps::errors::CapsError,
    },
    /// PR_SET_NO_NEW_PRIVS failed.
    #[error("setting no_new_privs: {0}")]
    NoNewPrivs(#[source] std::io::Error),
}

#[cfg(feature = "live")]
fn to_caps(cap: NetCap) -> caps::Capability {
    match cap {
        NetCap::CapNetAdmin => caps::Capability::CAP_NET_ADMIN,
        NetCap::CapNetRaw => caps::Capability::CAP_NET_RAW,
    }
}

#[cfg(feature = "live")]
const SETS: [(&str, caps::CapSet); 5] = [
    ("effective", caps::CapSet::Effective),
    ("permitted", caps::CapSet::Permitted),
    ("inheritable", caps::CapSet::Inheritable),
    ("ambient", caps::CapSet::Ambient),
    ("bounding", caps::CapSet::Bounding),
];

/// Reads a thread's capability sets with capget (`tid` `None`: the calling thread).
#[cfg(feature = "live")]
pub fn read_sets(tid: Option<i32>) -> Result<CapSets, PrivilegeError> {
    let mut sets = CapSets::default();
    for (name, set) in SETS {
        let held =
            caps::read(tid, set).map_err(|source| PrivilegeError::Read { set: name, tid: tid.unwrap_or(0), source })?;
        let ours: Vec<NetCap> = NetCap::ALL.into_iter().filter(|c| held.contains(&to_caps(*c))).collect();
        match set {
            caps::CapSet::Effective => sets.effective = ours,
            caps::CapSet::Permitted => sets.permitted = ours,
            caps::CapSet::Inheritable => sets.inheritable = ours,
            caps::CapSet::Ambient => sets.ambient = ours,
            caps::CapSet::Bounding => sets.bounding = ours,
        }
    }
    Ok(sets)
}

/// What [`drop_network`] did.
#[cfg(feature = "live")]
#[derive(Debug, Clone, PartialEq)]
pub struct DropResult {
    /// The calling thread's sets read back after the drop.
    pub after: CapSets,
    /// Whether `no_new_privs` is set.
    pub no_new_privs: bool,
    /// Threads of the process.
    pub threads: u32,
    /// Threads that still hold a dropped capability in their effective or permitted set.
    pub threads_holding: u32,
}

/// Drops every [`NetCap`] not in `keep` from the calling thread: from the bounding set
/// first (only possible with CAP_SETPCAP, which root has and a binary with file
/// capabilities does not; `no_new_privs` then stops an exec from gaining them), then from
/// the inheritable, ambient, effective and permitted sets; then sets `no_new_privs` and
/// reads every thread's sets back. Call it before the run starts threads: capabilities
/// are per thread, and a thread started earlier keeps its own
/// ([`DropResult::threads_holding`] says so).
#[cfg(feature = "live")]
pub fn drop_network(keep: &[NetCap]) -> Result<DropResult, PrivilegeError> {
    use caps::CapSet;
    let setpcap = caps::has_cap(None, CapSet::Effective, caps::Capability::CAP_SETPCAP).unwrap_or(false);
    let dropped: Vec<NetCap> = NetCap::ALL.into_iter().filter(|c| !keep.contains(c)).collect();
    for cap in &dropped {
        let c = to_caps(*cap);
        if setpcap {
            caps::drop(None, CapSet::Bounding, c).map_err(|source| PrivilegeError::Drop {
                cap: *cap,
                set: "bounding",
                source,
            })?;
        }
        for (name, set) in [
            ("inheritable", CapSet::Inheritable),
            ("ambient", CapSet::Ambient),
            ("effective", CapSet::Effective),
            ("permitted", CapSet::Permitted),
        ] {
            caps::drop(None, set, c).map_err(|source| PrivilegeError::Drop { cap: *cap, set: name, source })?;
        }
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| PrivilegeError::NoNewPrivs(e.into()))?;
    let no_new_privs = nix::sys::prctl::get_no_new_privs().unwrap_or(false);
    let after = read_sets(None)?;
    let (threads, threads_holding) = threads_holding(&dropped);
    Ok(DropResult { after, no_new_privs, threads, threads_holding })
}

/// Every thread of the process, and how many of them still hold one of `dropped` in their
/// effective or permitted set (capget can read only those two sets of another thread). A
/// thread whose sets cannot be read is counted as holding: the drop is not confirmed for it.
#[cfg(feature = "live")]
fn threads_holding(dropped: &[NetCap]) -> (u32, u32) {
    let tids: Vec<i32> = std::fs::read_dir("/proc/self/task")
        .map(|dir| dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    let holds = |tid: i32| -> bool {
        [caps::CapSet::Effective, caps::CapSet::Permitted].into_iter().any(|set| match caps::read(Some(tid), set) {
            Ok(held) => dropped.iter().any(|c| held.contains(&to_caps(*c))),
            Err(_) => true,
        })
    };
    let holding = tids.iter().filter(|tid| holds(**tid)).count();
    (tids.len() as u32, holding as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_root_and_dropped_capability_sets() {
        let root = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_status(root), Some(Privileges { net_raw: true, net_admin: true }));
        let raw_only = "CapEff:\t0000000000002000\n";
        assert_eq!(parse_status(raw_only), Some(Privileges { net_raw: true, net_admin: false }));
        assert_eq!(parse_status("CapEff:\t0000000000000000"), Some(Privileges { net_raw: false, net_admin: false }));
        assert_eq!(parse_status("CapEff: zz"), None);
        assert_eq!(parse_status(""), None);
        assert_eq!(NetCap::in_mask(0x3000), vec![NetCap::CapNetAdmin, NetCap::CapNetRaw]);
        assert_eq!(Privileges { net_raw: true, net_admin: false }.held(), vec![NetCap::CapNetRaw]);
    }

    #[test]
    fn ping_group_range_decides_who_may_open_ping_sockets() {
        // The kernel's default allows nobody, not even group 0.
        let closed = parse_ping_group_range("1\t0\n");
        assert_eq!(closed, Some(PingGroupRange { low: 1, high: 0 }));
        assert!(!ping_allowed(closed, Some(0), &[]));
        assert!(!ping_allowed(closed, Some(1), &[1]));
        // systemd's default opens it to every group.
        let open = parse_ping_group_range("0 2147483647");
        assert!(ping_allowed(open, Some(65534), &[]));
        // A range of one group: the effective group or a supplementary one must be in it.
        let one = parse_ping_group_range("100 100");
        assert!(!ping_allowed(one, Some(65534), &[]));
        assert!(ping_allowed(one, Some(65534), &[27, 100]));
        assert!(ping_allowed(one, Some(100), &[]));
        // Unreadable: not allowed.
        assert!(!ping_allowed(None, Some(0), &[0]));
        for bad in ["", "1", "a b", "1 2 3", "-1 5"] {
            assert_eq!(parse_ping_group_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_a_wifi_scan_keeps_a_capability_and_only_cap_net_admin() {
        let both = Privileges { net_raw: true, net_admin: true };
        assert_eq!(kept_for(false, both), vec![]);
        assert_eq!(
            kept_for(true, both),
            vec![KeptCap { capability: NetCap::CapNetAdmin, reason: KeepReason::WifiScan }]
        );
        // Without CAP_NET_ADMIN there is nothing to keep for the scan.
        assert_eq!(kept_for(true, Privileges { net_raw: true, net_admin: false }), vec![]);
    }

    #[test]
    fn groups_and_uid_come_from_the_status_lines() {
        let status = "Uid:\t65534\t65534\t65534\t65534\nGid:\t100\t65534\t65534\t65534\nGroups:\t27 44 \n";
        assert_eq!(parse_groups(status), Some((65534, vec![27, 44])));
        assert_eq!(parse_uid(status), Some(65534));
        assert_eq!(parse_groups("Gid:\t0\t0\t0\t0\nGroups:\t\n"), Some((0, vec![])));
        assert_eq!(parse_groups("Uid:\t0\n"), None);
        assert_eq!(parse_uid(""), None);
        // Real 1000, effective 0 (a setuid start): each reader takes its own field.
        let setuid = "Uid:\t1000\t0\t0\t0\n";
        assert_eq!((parse_uid(setuid), parse_effective_uid(setuid)), (Some(1000), Some(0)));
        assert_eq!(parse_effective_uid("Uid:\t1000\n"), None);
    }

    /// Capabilities are per thread: a thread started before the drop keeps them (and is
    /// counted), one started after it has none. It drops them only in a thread of its own,
    /// so the rest of the test process keeps them.
    #[cfg(feature = "live")]
    #[test]
    fn the_drop_is_per_thread_and_counts_threads_that_kept_them() {
        let held = read_sets(None).expect("capget on this thread");
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let before = std::thread::spawn(move || {
            let _ = wait.recv();
        });
        let (done, after) = std::thread::spawn(|| {
            let done = drop_network(&[]).expect("dropping needs no privilege");
            let after = std::thread::spawn(|| read_sets(None).expect("capget")).join().expect("the thread ran");
            (done, after)
        })
        .join()
        .expect("the dropping thread ran");
        let _ = release.send(());
        before.join().expect("the thread ran");
        assert!(done.no_new_privs);
        assert!(NetCap::ALL.iter().all(|c| !done.after.holds(*c)), "{done:?}");
        assert!(done.threads >= 3, "{done:?}");
        if NetCap::ALL.iter().any(|c| held.holds(*c)) {
            assert!(done.threads_holding >= 2, "this thread and the one started before the drop: {done:?}");
        }
        assert!(NetCap::ALL.iter().all(|c| !after.holds(*c)), "a thread started after the drop: {after:?}");
        // This thread never dropped them.
        assert_eq!(read_sets(None).expect("capget").effective, held.effective);
    }
}
