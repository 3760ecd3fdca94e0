//! The switch port: which switch and port this interface is plugged into, on which VLAN,
//! and whether the switch's view of the link (speed, duplex, power) agrees with ours.
//!
//! Beside `link` in the graph (it needs a link with carrier and blocks nothing): the I/O
//! half listens on the interface with a packet socket for LLDP and CDP frames (decoded by
//! [`crate::platform::lldp`] and [`crate::platform::cdp`]) and, at the same time, asks lldpd
//! for the neighbours it already knows (`lldpcli -f json show neighbors details`, bounded by
//! [`LLDPCLI_TIMEOUT`]), so a machine running lldpd gets the answer at once. Both fold into
//! [`NeighboursEvidence`]; the pure [`judge`] compares the switch's report with this
//! interface's sysfs speed and duplex and with the site's `expected_vlan`, and [`notices`]
//! says when nothing was heard.
//!
//! How long it listens. Switches send LLDP every 30 s and CDP every 60 s (their defaults),
//! so a quick run rarely hears one: without `--neighbours` the check listens only while the
//! run lasts anyway (the runner tells it when every other check is done:
//! [`crate::check::Facts::neighbours_alone`]) and reports "nothing heard" as a notice, not
//! a failure. With `--neighbours` (and in every survey run) it waits up to `[neighbours]
//! window_secs` (35 s: one LLDP interval and a margin). Either way lldpd's answer ends it,
//! and `[neighbours] wait` says which frames do ([`heard_enough`]): `each` (the default)
//! once one LLDP and one CDP frame came, `first` at the first LLDP frame. `each` costs the
//! whole window on a switch that sends only LLDP; docs/checks/neighbours.md says why it is
//! the default anyway.
//!
//! `analyze` folds a capture's LLDP and CDP frames into the same evidence (with `capture`
//! set and no local speed or duplex) and judges them with the same [`judge`].
//!
//! The socket is opened promiscuous: LLDP's and CDP's group addresses
//! (01:80:c2:00:00:0e, 01:00:0c:cc:cc:cc) are not joined by the kernel, a NIC's filter may
//! drop them otherwise, and pnet offers no multicast membership call (the crate denies
//! `unsafe`, so no raw `setsockopt`). The kernel drops the promiscuous mode when the socket
//! closes. Frames this interface sent itself (a local lldpd's) are ignored by source MAC.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::dns::Notice;
use crate::check::finding;
use crate::config::{NeighboursSettings, NeighboursWait};
use crate::platform::lldp::{Duplex, Neighbour, Protocol, Via};
use crate::report::{CheckId, Code, Finding, Severity};

/// How long lldpcli may take to answer.
pub const LLDPCLI_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// Most neighbours kept (a port normally has one; a hub or a hostile peer has more).
pub const MAX_NEIGHBOURS: usize = 16;

/// How the listener ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// An LLDP frame was heard (`wait = "first"`).
    LldpHeard,
    /// One LLDP and one CDP frame were heard (`wait = "each"`).
    EachHeard,
    /// lldpd already knew the neighbour.
    LldpdAnswered,
    /// The `--neighbours` window passed.
    WindowOver,
    /// Every other check had finished, or the run's deadline came.
    #[default]
    RunOver,
    /// The packet socket could not be opened (see `listen_error`).
    NotListened,
    /// Nothing was listened to: the frames come from an analysed capture (`capture`).
    Capture,
}

/// What lldpd said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LldpdStatus {
    /// lldpcli is not installed.
    #[default]
    NotInstalled,
    /// lldpcli could not reach lldpd (it does not run, or its socket is not readable).
    NotRunning,
    /// lldpd answered (with or without neighbours on this interface).
    Answered,
    /// lldpcli ran but its output did not read, or it took longer than [`LLDPCLI_TIMEOUT`].
    Failed,
    /// Not asked (`[neighbours] lldpcli = false`, or an analysed capture).
    Disabled,
}

/// What the neighbours check saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NeighboursEvidence {
    /// The interface listened on.
    pub interface: String,
    /// Every neighbour heard or known to lldpd (one per switch port; at most
    /// [`MAX_NEIGHBOURS`]), LLDP first.
    pub neighbours: Vec<Neighbour>,
    /// This interface's speed (sysfs), Mbit/s.
    pub local_speed_mbps: Option<u32>,
    /// This interface's duplex (sysfs).
    pub local_duplex: Option<Duplex>,
    /// The VLAN this site expects (`[neighbours] expected_vlan`).
    pub expected_vlan: Option<u16>,
    /// Whether the check waited for the `--neighbours` window (`false`: only while the run
    /// lasted).
    pub waited: bool,
    /// The window, when it waited.
    pub window_ms: Option<u64>,
    /// How long the socket listened.
    pub listened_ms: u64,
    /// Why listening ended.
    pub ended: Ended,
    /// LLDP frames heard (from others).
    pub lldp_frames: u32,
    /// CDP frames heard.
    pub cdp_frames: u32,
    /// LLDP or CDP frames that did not decode.
    pub malformed_frames: u32,
    /// Why the packet socket could not listen, if it could not.
    pub listen_error: Option<String>,
    /// What lldpd said.
    pub lldpd: LldpdStatus,
    /// lldpcli's error, when it failed.
    pub lldpd_error: Option<String>,
    /// `neighbours.none_heard`, `neighbours.malformed`: information, never findings.
    pub notices: Vec<Notice>,
    /// The analysed capture the frames came from (`analyze`); `None` in a live run. A
    /// capture does not record the capturing interface's speed and duplex, so
    /// `local_speed_mbps` and `local_duplex` are `None` and only the switch's own claims
    /// (VLAN against `expected_vlan`, power) are judged.
    pub capture: Option<String>,
}

/// The line at the top of every report: the switch and port this interface is plugged
/// into, as a technician copies it into a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighbourLine {
    /// The switch's name (system name or device id), else its chassis id.
    pub switch: Option<String>,
    /// The port (its id, or its description when the id is a MAC).
    pub port: Option<String>,
    /// The port's untagged VLAN as the switch says it.
    #[serde(default)]
    pub vlan: Option<u16>,
    /// LLDP or CDP.
    pub protocol: Protocol,
    /// A frame heard during the run, or lldpd's table.
    #[serde(default)]
    pub via: Via,
    /// The switch's first management address.
    #[serde(default)]
    pub management_address: Option<IpAddr>,
}

impl NeighbourLine {
    /// `Switch: NAME port PORT (VLAN N)`.
    pub fn sentence(&self) -> String {
        let mut text = format!("Switch: {}", self.switch.as_deref().unwrap_or("unnamed"));
        if let Some(port) = &self.port {
            text.push_str(&format!(" port {port}"));
        }
        if let Some(vlan) = self.vlan {
            text.push_str(&format!(" (VLAN {vlan})"));
        }
        text
    }
}

/// The neighbour the report names: the first LLDP one (it says more), else the first.
pub fn primary(ev: &NeighboursEvidence) -> Option<&Neighbour> {
    ev.neighbours.iter().find(|n| n.protocol == Protocol::Lldp).or_else(|| ev.neighbours.first())
}

/// The report's neighbour line, when a neighbour was heard.
pub fn line(ev: &NeighboursEvidence) -> Option<NeighbourLine> {
    let n = primary(ev)?;
    Some(NeighbourLine {
        switch: n.switch_name().map(str::to_string),
        port: n.port_name().map(str::to_string),
        vlan: n.port_vlan,
        protocol: n.protocol,
        via: n.via,
        management_address: n.management_addresses.first().copied(),
    })
}

/// Adds `n` to `list`: a later record of the same switch port replaces the earlier one;
/// beyond [`MAX_NEIGHBOURS`] others are dropped. LLDP neighbours sort first.
pub fn merge(list: &mut Vec<Neighbour>, n: Neighbour) {
    if let Some(old) = list.iter_mut().find(|o| o.same_port(&n)) {
        *old = n;
    } else if list.len() < MAX_NEIGHBOURS {
        list.push(n);
    }
    list.sort_by_key(|n| n.protocol);
}

/// The informational notices (pure).
pub fn notices(ev: &NeighboursEvidence) -> Vec<Notice> {
    let mut out = Vec::new();
    if ev.neighbours.is_empty() && ev.listen_error.is_none() && ev.capture.is_none() {
        let how = if ev.waited {
            format!("in {:.1} s of listening", ev.listened_ms as f64 / 1000.0)
        } else {
            format!("during the run ({:.1} s; `--neighbours` waits up to the window)", ev.listened_ms as f64 / 1000.0)
        };
        out.push(Notice {
            code: Code::NeighboursNoneHeard,
            message: format!("no LLDP or CDP frame heard on {} {how}, and lldpd knows no neighbour", ev.interface),
        });
    }
    if ev.malformed_frames > 0 {
        let place = match &ev.capture {
            Some(path) => format!("in the capture {path}"),
            None => format!("on {}", ev.interface),
        };
        out.push(Notice {
            code: Code::NeighboursMalformed,
            message: format!("{} LLDP/CDP frames {place} did not decode", ev.malformed_frames),
        });
    }
    out
}

/// Judges the switch's view of the link (pure): duplex and speed against this interface's,
/// the port VLAN against the expected one, power allocated against requested.
pub fn judge(ev: &NeighboursEvidence, settings: &NeighboursSettings) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Neighbours, code, severity, message);
    let mut findings = Vec::new();
    for n in &ev.neighbours {
        let who = format!(
            "{} port {} ({})",
            n.switch_name().unwrap_or("the switch"),
            n.port_name().unwrap_or("?"),
            n.protocol.as_str()
        );
        if let (Some(theirs), Some(ours)) = (n.duplex, ev.local_duplex)
            && theirs != ours
        {
            findings.push(f(
                Code::LinkDuplexMismatch,
                Severity::Warn,
                format!("{who} runs {} duplex, {} runs {} duplex", theirs.as_str(), ev.interface, ours.as_str()),
            ));
        }
        if let (Some(theirs), Some(ours)) = (n.speed_mbps, ev.local_speed_mbps)
            && theirs != ours
        {
            findings.push(f(
                Code::LinkSpeedMismatch,
                Severity::Warn,
                format!("{who} runs at {theirs} Mbit/s, {} at {ours} Mbit/s", ev.interface),
            ));
        }
        if let (Some(expected), Some(vlan)) = (settings.expected_vlan, n.port_vlan)
            && vlan != expected
        {
            findings.push(f(
                Code::LinkUnexpectedVlan,
                Severity::Fail,
                format!("{who} puts this port in VLAN {vlan}; this site expects VLAN {expected}"),
            ));
        }
        if let Some(p) = n.power
            && let (Some(requested), Some(allocated)) = (p.requested_mw, p.allocated_mw)
            && allocated < requested
        {
            findings.push(f(
                Code::LinkPoeInsufficient,
                Severity::Warn,
                format!(
                    "{who} allocated {:.1} W of the {:.1} W requested",
                    f64::from(allocated) / 1000.0,
                    f64::from(requested) / 1000.0
                ),
            ));
        }
    }
    findings
}

/// Whether the frames heard so far end the wait (pure): `each` once one LLDP and one CDP
/// frame came, `first` at the first LLDP frame (a CDP frame alone never ends it: a switch
/// that sends both says more in LLDP's 802.3 TLVs). `None`: keep listening.
pub fn heard_enough(wait: NeighboursWait, lldp_frames: u32, cdp_frames: u32) -> Option<Ended> {
    match wait {
        NeighboursWait::Each => (lldp_frames > 0 && cdp_frames > 0).then_some(Ended::EachHeard),
        NeighboursWait::First => (lldp_frames > 0).then_some(Ended::LldpHeard),
    }
}

#[cfg(feature = "live")]
pub use live::run;

#[cfg(feature = "live")]
mod live {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::check::{CheckContext, CheckError, Outcome};
    use crate::platform::lldp::{Heard, parse_lldpcli_json};
    use crate::platform::{packet, sysfs};
    use crate::report::{Evidence, SkipReason};
    use crate::types::MacAddr;

    /// Runs the neighbours check.
    pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
        let Some(iface) = ctx.interface else {
            return Ok(Outcome::Skipped {
                code: SkipReason::NoInterface,
                reason: "no interface under test".into(),
                blocked_by: None,
                evidence: Evidence::None,
            });
        };
        let settings = &ctx.config.neighbours;
        let local = sysfs::link_speed(&iface.name);
        let started = Instant::now();
        let window = Duration::from_secs(settings.window_secs);
        let until = if settings.listen { (started + window).min(ctx.cutoff()) } else { ctx.cutoff() };
        let answered = Arc::new(AtomicBool::new(false));
        let listener = {
            let (name, mac, answered) = (iface.name.clone(), iface.mac, answered.clone());
            let alone = ctx.facts.neighbours_alone.clone();
            let how = Wait { window: settings.listen, until: settings.wait };
            tokio::task::spawn_blocking(move || listen(&name, mac, started, until, how, &alone, &answered))
        };
        let (lldpd, lldpd_error, known) = if settings.lldpcli {
            query_lldpd(settings.lldpd_socket.as_deref(), &iface.name).await
        } else {
            (LldpdStatus::Disabled, None, Vec::new())
        };
        if !known.is_empty() {
            answered.store(true, Ordering::Release);
        }
        let heard = listener.await.map_err(|source| CheckError::Task { operation: "LLDP/CDP listener", source })?;
        let listen_error = match heard.error {
            Some(packet::PacketError::NoPrivilege(_)) if known.is_empty() => {
                return Err(CheckError::NoPrivilege {
                    capability: "CAP_NET_RAW",
                    operation: "listen for LLDP and CDP frames",
                });
            }
            Some(e) => Some(e.to_string()),
            None => None,
        };
        let mut neighbours = Vec::new();
        for n in heard.neighbours {
            merge(&mut neighbours, n);
        }
        for n in known {
            if !neighbours.iter().any(|o| o.same_port(&n)) {
                merge(&mut neighbours, n);
            }
        }
        let ended = if listen_error.is_some() { Ended::NotListened } else { heard.ended };
        let mut ev = NeighboursEvidence {
            interface: iface.name.clone(),
            neighbours,
            local_speed_mbps: local.speed_mbps,
            local_duplex: local.duplex.as_deref().and_then(Duplex::from_word),
            expected_vlan: settings.expected_vlan,
            waited: settings.listen,
            window_ms: settings.listen.then_some(window.as_millis() as u64),
            listened_ms: heard.listened_ms,
            ended,
            lldp_frames: heard.lldp_frames,
            cdp_frames: heard.cdp_frames,
            malformed_frames: heard.malformed,
            listen_error,
            lldpd,
            lldpd_error,
            notices: Vec::new(),
            capture: None,
        };
        ev.notices = notices(&ev);
        Ok(Outcome::Ran { findings: judge(&ev, settings), evidence: Evidence::Neighbours(Box::new(ev)) })
    }

    struct Listened {
        neighbours: Vec<Neighbour>,
        lldp_frames: u32,
        cdp_frames: u32,
        malformed: u32,
        listened_ms: u64,
        ended: Ended,
        error: Option<packet::PacketError>,
    }

    /// How the listener waits: for the window or only while the run lasts, and which
    /// frames end it early.
    #[derive(Clone, Copy)]
    struct Wait {
        window: bool,
        until: NeighboursWait,
    }

    /// Listens until `until`, the frames [`heard_enough`] asks for, lldpd's answer, or
    /// (without the window) the runner's word that every other check is done.
    fn listen(
        name: &str,
        own_mac: Option<MacAddr>,
        started: Instant,
        until: Instant,
        how: Wait,
        alone: &AtomicBool,
        answered: &AtomicBool,
    ) -> Listened {
        let wait_window = how.window;
        let mut out = Listened {
            neighbours: Vec::new(),
            lldp_frames: 0,
            cdp_frames: 0,
            malformed: 0,
            listened_ms: 0,
            ended: Ended::RunOver,
            error: None,
        };
        let mut rx = match packet::open_with(name, true) {
            Ok((_tx, rx)) => rx,
            Err(e) => {
                out.ended = Ended::NotListened;
                out.error = Some(e);
                return out;
            }
        };
        loop {
            let now = Instant::now();
            if let Some(ended) = heard_enough(how.until, out.lldp_frames, out.cdp_frames) {
                out.ended = ended;
                break;
            }
            if answered.load(Ordering::Acquire) {
                out.ended = Ended::LldpdAnswered;
                break;
            }
            if now >= until {
                out.ended = if wait_window { Ended::WindowOver } else { Ended::RunOver };
                break;
            }
            if !wait_window && alone.load(Ordering::Acquire) {
                out.ended = Ended::RunOver;
                break;
            }
            match rx.next() {
                Ok(frame) => {
                    if own_mac.is_some_and(|m| frame.get(6..12) == Some(&m.0[..])) {
                        continue;
                    }
                    match crate::platform::lldp::decode_frame(frame) {
                        None => {}
                        Some(Heard::Neighbour(mut n)) => {
                            match n.protocol {
                                Protocol::Lldp => out.lldp_frames = out.lldp_frames.saturating_add(1),
                                Protocol::Cdp => out.cdp_frames = out.cdp_frames.saturating_add(1),
                            }
                            n.heard_after_ms = Some(started.elapsed().as_millis() as u64);
                            tracing::debug!(protocol = n.protocol.as_str(), switch = ?n.switch_name(), "neighbour heard");
                            merge(&mut out.neighbours, *n);
                        }
                        Some(Heard::Malformed(protocol, error)) => {
                            tracing::debug!(protocol = protocol.as_str(), %error, "malformed discovery frame");
                            out.malformed = out.malformed.saturating_add(1);
                        }
                    }
                }
                Err(e) if packet::is_idle(&e) => {}
                Err(e) => {
                    out.error = Some(packet::PacketError::io(name, e));
                    break;
                }
            }
        }
        out.listened_ms = started.elapsed().as_millis() as u64;
        out
    }

    /// Asks lldpd (through lldpcli, bounded by [`LLDPCLI_TIMEOUT`]) for its neighbours on
    /// `interface`.
    async fn query_lldpd(
        socket: Option<&std::path::Path>,
        interface: &str,
    ) -> (LldpdStatus, Option<String>, Vec<Neighbour>) {
        let mut cmd = tokio::process::Command::new("lldpcli");
        if let Some(socket) = socket {
            cmd.arg("-u").arg(socket);
        }
        cmd.args(["-f", "json", "show", "neighbors", "details"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (LldpdStatus::NotInstalled, None, vec![]),
            Err(e) => return (LldpdStatus::Failed, Some(format!("starting lldpcli: {e}")), vec![]),
        };
        let output = match tokio::time::timeout(LLDPCLI_TIMEOUT, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => return (LldpdStatus::Failed, Some(format!("lldpcli: {e}")), vec![]),
            Err(_) => {
                return (LldpdStatus::Failed, Some(format!("lldpcli took longer than {LLDPCLI_TIMEOUT:?}")), vec![]);
            }
        };
        if !output.status.success() {
            return (LldpdStatus::NotRunning, None, vec![]);
        }
        // Bounded: a neighbour table is a few kilobytes.
        let text = String::from_utf8_lossy(&output.stdout[..output.stdout.len().min(1 << 20)]).into_owned();
        match parse_lldpcli_json(&text, Some(interface)) {
            Ok(found) => (LldpdStatus::Answered, None, found),
            Err(e) => (LldpdStatus::Failed, Some(e.to_string()), vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::lldp::{Power, decode_frame};

    fn lab_neighbour() -> Neighbour {
        let path = format!("{}/captures/lldp.pcap", env!("CARGO_MANIFEST_DIR"));
        let frame = crate::pcap::read_file(std::path::Path::new(&path)).unwrap().remove(0).data;
        match decode_frame(&frame) {
            Some(crate::platform::lldp::Heard::Neighbour(n)) => *n,
            other => panic!("{other:?}"),
        }
    }

    fn evidence(n: Vec<Neighbour>) -> NeighboursEvidence {
        NeighboursEvidence {
            interface: "eth0".into(),
            neighbours: n,
            local_speed_mbps: Some(10_000),
            local_duplex: Some(Duplex::Full),
            listened_ms: 1200,
            ..NeighboursEvidence::default()
        }
    }

    fn codes(ev: &NeighboursEvidence, settings: &NeighboursSettings) -> Vec<Code> {
        judge(ev, settings).iter().map(|f| f.code).collect()
    }

    #[test]
    fn the_lab_switch_agrees_with_the_veth_but_starves_the_power() {
        let ev = evidence(vec![lab_neighbour()]);
        // lldpd's port: 10GBASE-T full like the veth; 7 W allocated of 15.4 W requested.
        assert_eq!(codes(&ev, &NeighboursSettings::default()), [Code::LinkPoeInsufficient]);
        let line = line(&ev).unwrap();
        assert_eq!(
            (line.switch.as_deref(), line.port.as_deref(), line.vlan),
            (Some("sw-lab-1"), Some("Gi1/0/14"), Some(42))
        );
        assert!(notices(&ev).is_empty());
    }

    #[test]
    fn duplex_speed_and_vlan_disagreements_are_named() {
        let mut n = lab_neighbour();
        n.power = Some(Power { requested_mw: Some(5000), allocated_mw: Some(5000), ..Power::default() });
        (n.speed_mbps, n.duplex) = (Some(100), Some(Duplex::Half));
        let ev = evidence(vec![n]);
        let settings = NeighboursSettings { expected_vlan: Some(10), ..NeighboursSettings::default() };
        assert_eq!(
            codes(&ev, &settings),
            [Code::LinkDuplexMismatch, Code::LinkSpeedMismatch, Code::LinkUnexpectedVlan]
        );
        let vlan = judge(&ev, &settings).into_iter().find(|f| f.code == Code::LinkUnexpectedVlan).unwrap();
        assert_eq!(vlan.severity, Severity::Fail);
        // Unknown on either side: no verdict.
        let mut quiet = evidence(vec![Neighbour { port_vlan: None, ..lab_neighbour() }]);
        (quiet.local_duplex, quiet.local_speed_mbps) = (None, None);
        quiet.neighbours[0].power = None;
        assert!(codes(&quiet, &settings).is_empty());
    }

    #[test]
    fn nothing_heard_is_a_notice_and_no_line() {
        let ev = evidence(vec![]);
        assert!(judge(&ev, &NeighboursSettings::default()).is_empty());
        assert_eq!(notices(&ev).iter().map(|n| n.code).collect::<Vec<_>>(), [Code::NeighboursNoneHeard]);
        assert_eq!(line(&ev), None);
        let broken = NeighboursEvidence { malformed_frames: 3, ..evidence(vec![lab_neighbour()]) };
        assert_eq!(notices(&broken).iter().map(|n| n.code).collect::<Vec<_>>(), [Code::NeighboursMalformed]);
    }

    #[test]
    fn merging_keeps_one_record_per_port_lldp_first_and_bounded() {
        let mut list = Vec::new();
        let cdp = Neighbour {
            protocol: Protocol::Cdp,
            chassis_id: Some("sw".into()),
            port_id: Some("p".into()),
            ..Neighbour::default()
        };
        merge(&mut list, cdp.clone());
        merge(&mut list, lab_neighbour());
        merge(&mut list, Neighbour { ttl_secs: Some(9), ..lab_neighbour() });
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].protocol, Protocol::Lldp);
        assert_eq!(list[0].ttl_secs, Some(9), "the later frame replaced the earlier");
        assert_eq!(primary(&evidence(list.clone())).map(|n| n.protocol), Some(Protocol::Lldp));
        for i in 0..100 {
            merge(&mut list, Neighbour { port_id: Some(format!("p{i}")), ..cdp.clone() });
        }
        assert_eq!(list.len(), MAX_NEIGHBOURS);
    }

    #[test]
    fn each_waits_for_both_protocols_first_for_lldp_alone() {
        use NeighboursWait::{Each, First};
        assert_eq!(heard_enough(Each, 0, 0), None);
        assert_eq!(heard_enough(Each, 3, 0), None, "LLDP alone: CDP may still come");
        assert_eq!(heard_enough(Each, 0, 1), None);
        assert_eq!(heard_enough(Each, 1, 1), Some(Ended::EachHeard));
        assert_eq!(heard_enough(First, 1, 0), Some(Ended::LldpHeard));
        assert_eq!(heard_enough(First, 0, 2), None, "CDP alone does not end the first-LLDP wait");
    }

    #[test]
    fn the_line_reads_as_a_technician_copies_it() {
        let line = NeighbourLine {
            switch: Some("sw-lab-1".into()),
            port: Some("Gi1/0/14".into()),
            vlan: Some(42),
            protocol: Protocol::Lldp,
            via: Via::Frame,
            management_address: None,
        };
        assert_eq!(line.sentence(), "Switch: sw-lab-1 port Gi1/0/14 (VLAN 42)");
    }
}
