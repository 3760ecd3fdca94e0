//! The Wi-Fi layer: association, signal, SNR, rates, retries, channel congestion and
//! security of the interface under test, from nl80211.
//!
//! The I/O half (`run`) asks [`crate::platform::wifi`] for the interface, its radio's
//! bands, the station dump (the access point we are associated with), the survey dump
//! (noise and channel busy time) and the kernel's scan results (the current BSS's SSID,
//! security and advertised load), and, with `--wifi-scan`, triggers a scan first so the
//! neighbourhood can be judged. [`observe`] puts those readings together, including the
//! co- and adjacent-channel interference count (NetAlly AirCheck's model), and [`judge`]
//! turns them into findings; both are pure. A wired interface is `skipped` ("not a
//! wireless interface"); a wireless client that is not associated fails with
//! `wifi.not_connected`, which blocks `dhcp` and everything after it.

#[cfg(feature = "live")]
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::check::{CheckContext, finding};
#[cfg(feature = "live")]
use crate::check::{CheckError, Outcome};
use crate::config::WifiSettings;
use crate::platform::sysfs;
use crate::platform::wifi::{Band, Bss, ScanWait, Security, Station, Survey, WifiInterface};
#[cfg(feature = "live")]
use crate::platform::wifi::{Nl80211, WifiError};
use crate::report::{CheckId, Code, Finding, Severity};
#[cfg(feature = "live")]
use crate::report::{Evidence, SkipReason};
use crate::types::MacAddr;

/// The skip reason on a wired interface, in words (its code is
/// [`crate::report::SkipReason::NotWireless`]).
pub const NOT_WIRELESS: &str = "not a wireless interface";

/// The most access points listed in the evidence (strongest first).
pub const MAX_LISTED_APS: usize = 128;

/// A survey shorter than this (radio-on time on the channel) is too short a sample to judge
/// busy time from.
pub const MIN_SURVEY_ACTIVE_MS: u64 = 500;

/// Scan results older than the scan by more than this are stale (the kernel keeps a BSS
/// for 30 s after it was last heard).
const SCAN_FRESH_MARGIN_MS: u64 = 1000;

/// Extra age allowed when we waited for someone else's scan: it may have started this much
/// before our trigger (a full scan rarely takes longer).
const JOINED_SCAN_MARGIN_MS: u64 = 10_000;

/// What the Wi-Fi check saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WifiEvidence {
    /// Always `true` here (the skip evidence on a wired interface says `false`).
    #[serde(default)]
    pub wireless: bool,
    /// The interface as nl80211 reports it.
    pub interface: WifiInterface,
    /// Bands the radio supports.
    #[serde(default)]
    pub supported_bands: Vec<Band>,
    /// Associated with an access point.
    #[serde(default)]
    pub associated: bool,
    /// The current link, put together from the readings below; `null` when not associated.
    pub link: Option<WifiLink>,
    /// The station entry of the access point (raw).
    pub station: Option<Station>,
    /// The current BSS from the kernel's scan results (raw).
    pub bss: Option<Bss>,
    /// The survey entry of the current channel (raw).
    pub survey: Option<Survey>,
    /// The neighbourhood scan.
    pub scan: ScanReport,
    /// Readings that could not be taken (e.g. a driver without survey support).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What the Wi-Fi check saw before skipping: `{"wireless": false}` on a wired interface, or
/// `{"wireless": true, "interface": ...}` for a wireless interface that is not a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WifiSkipEvidence {
    /// Whether the interface is wireless.
    pub wireless: bool,
    /// The wireless interface, when it is one (omitted otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<WifiInterface>,
}

/// The current link: the values that are judged, with where each came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WifiLink {
    /// Network name (`null` when hidden and not known).
    pub ssid: Option<String>,
    /// The access point's BSSID.
    pub bssid: Option<MacAddr>,
    /// Primary channel frequency, MHz.
    pub freq_mhz: Option<u32>,
    /// Primary channel number.
    pub channel: Option<u16>,
    /// Band.
    pub band: Option<Band>,
    /// Channel width, MHz.
    pub width_mhz: Option<u32>,
    /// The signal judged, dBm.
    pub signal_dbm: Option<f64>,
    /// Where it came from: `station_average`, `station_last`, `beacon_average` or `scan`.
    pub signal_source: Option<String>,
    /// Noise floor of the channel, dBm (from the survey; many drivers do not report it).
    pub noise_dbm: Option<i32>,
    /// Signal minus noise, dB.
    pub snr_db: Option<f64>,
    /// Current transmit rate, Mbit/s.
    pub tx_bitrate_mbps: Option<f64>,
    /// Last receive rate, Mbit/s.
    pub rx_bitrate_mbps: Option<f64>,
    /// Transmitted packets since association.
    pub tx_packets: Option<u64>,
    /// Retries per transmitted packet since association.
    pub tx_retry_ratio: Option<f64>,
    /// Failed transmissions per transmitted packet since association.
    pub tx_failed_ratio: Option<f64>,
    /// Beacon losses since association.
    pub beacon_loss: Option<u64>,
    /// Seconds since association.
    pub connected_time_s: Option<u32>,
    /// The key handshake is complete, where the driver says.
    pub authorized: Option<bool>,
    /// Share of time the channel was busy, 0 to 1.
    pub channel_busy_ratio: Option<f64>,
    /// Where that came from: `survey` (our radio) or `bss_load` (the AP's BSS Load element).
    pub channel_busy_source: Option<String>,
    /// The current network's security.
    pub security: Option<Security>,
}

/// The neighbourhood scan and the interference it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// `ran`, `not_run` or `failed`.
    pub status: String,
    /// Why it did not run or failed.
    pub reason: Option<String>,
    /// How the wait ended: `completed`, `aborted` or `timeout` (results may be partial).
    pub outcome: Option<String>,
    /// Time from trigger to results, ms.
    pub waited_ms: Option<u64>,
    /// Access points weaker than this are not counted as interference, dBm.
    pub floor_dbm: i32,
    /// Access points heard in this scan, strongest first (at most 128).
    #[serde(default)]
    pub access_points: Vec<Bss>,
    /// Access points beyond that cap.
    #[serde(default)]
    pub omitted: usize,
    /// Other AP radios above the floor on our primary channel.
    #[serde(default)]
    pub co_channel: Vec<Interferer>,
    /// Other AP radios above the floor on overlapping channels (2.4 GHz: within 4
    /// channels; 5/6 GHz: a primary inside our bonded channel).
    #[serde(default)]
    pub adjacent_channel: Vec<Interferer>,
    /// Candidate channels in our band, least interfered first (at most 3, ours included
    /// when it ranks).
    #[serde(default)]
    pub best_channels: Vec<ChannelScore>,
}

/// An access point radio that shares airtime with us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interferer {
    /// Its BSSID (the strongest one when a radio sends several).
    pub bssid: MacAddr,
    /// Its network name.
    pub ssid: Option<String>,
    /// Its primary channel.
    pub channel: Option<u16>,
    /// Its signal, dBm.
    pub signal_dbm: f64,
    /// Further BSSIDs the same radio sends (multi-SSID), not counted again.
    #[serde(default)]
    pub same_radio_bssids: usize,
}

/// How busy a candidate channel is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelScore {
    /// Channel number.
    pub channel: u16,
    /// Other AP radios above the floor on it.
    #[serde(default)]
    pub co_channel: usize,
    /// Other AP radios above the floor overlapping it (2.4 GHz only).
    #[serde(default)]
    pub overlapping: usize,
    /// The strongest of them, dBm.
    pub strongest_dbm: Option<f64>,
    /// This is the channel we are on.
    #[serde(default)]
    pub current: bool,
}

/// Whether and how the neighbourhood scan ran.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanRun {
    /// Not asked for.
    NotRequested,
    /// Asked for, but the process lacks CAP_NET_ADMIN.
    NoPrivilege,
    /// Triggering or waiting failed.
    Failed(String),
    /// It ran.
    Ran(ScanWait),
}

/// Everything read from nl80211, before judging.
#[derive(Debug, Clone)]
pub struct Readings {
    /// The interface.
    pub interface: WifiInterface,
    /// Its radio's bands.
    pub bands: Vec<Band>,
    /// The station dump.
    pub stations: Vec<Station>,
    /// The survey dump.
    pub surveys: Vec<Survey>,
    /// The kernel's scan results (after our scan, when one ran).
    pub bss_dump: Vec<Bss>,
    /// The scan.
    pub scan: ScanRun,
    /// Readings that failed.
    pub notes: Vec<String>,
}

#[cfg(feature = "live")]
fn skipped(code: SkipReason, reason: impl Into<String>, evidence: Evidence) -> Outcome {
    Outcome::Skipped { code, reason: reason.into(), blocked_by: None, evidence }
}

/// An early verdict the runner may use as this check's gate: only `wifi.not_connected`
/// blocks, and it cannot be found on an interface that is not wireless or that has carrier
/// (mac80211 turns carrier on only once associated and, with WPA/802.1X, authorized). An
/// interface without carrier fails `link.no_carrier` anyway, which blocks the same checks.
pub fn gate(ctx: &CheckContext<'_>) -> bool {
    // During the WPA/802.1X handshake a wireless link has carrier but operstate "dormant",
    // and the check reports it not connected (a blocking code): only "up" opens the gate.
    ctx.interface.is_none_or(|i| (i.has_carrier() && i.oper_state == "up") || !sysfs::is_wireless(&i.name))
}

/// Runs the Wi-Fi check.
#[cfg(feature = "live")]
pub async fn run(ctx: &CheckContext<'_>) -> Result<Outcome, CheckError> {
    let Some(iface) = ctx.interface else {
        return Ok(skipped(SkipReason::NoInterface, "no interface under test", Evidence::None));
    };
    let not_wireless = || {
        Ok(skipped(
            SkipReason::NotWireless,
            NOT_WIRELESS,
            Evidence::WifiSkipped(Box::new(WifiSkipEvidence { wireless: false, interface: None })),
        ))
    };
    // sysfs knows most wireless interfaces without a socket; nl80211 has the last word
    // (it also knows interfaces whose sysfs is not visible, e.g. in some containers).
    let sysfs_wireless = sysfs::is_wireless(&iface.name);
    let unusable = |source: WifiError| CheckError::Wifi { interface: iface.name.clone(), source };
    let nl = match Nl80211::open().await {
        Ok(nl) => nl,
        Err(_) if !sysfs_wireless => return not_wireless(),
        Err(e) => return Err(unusable(e)),
    };
    let interface = match nl.interface(iface.index).await {
        Ok(i) => i,
        Err(_) if !sysfs_wireless => return not_wireless(),
        Err(e) => return Err(unusable(e)),
    };
    if !matches!(interface.iftype.as_str(), "station" | "p2p_client") {
        let reason = format!(
            "{} is a Wi-Fi interface in {} mode; only client (station) interfaces are judged",
            iface.name, interface.iftype
        );
        let seen = WifiSkipEvidence { wireless: true, interface: Some(interface) };
        return Ok(skipped(SkipReason::NotStation, reason, Evidence::WifiSkipped(Box::new(seen))));
    }

    let settings = &ctx.config.wifi;
    let index = iface.index;
    let mut notes = Vec::new();
    let mut note = |e: WifiError| notes.push(e.to_string());
    let bands = match interface.wiphy {
        Some(wiphy) => nl.bands(wiphy).await.unwrap_or_else(|e| {
            note(e);
            Vec::new()
        }),
        None => Vec::new(),
    };
    let stations = nl.stations(index).await.map_err(unusable)?;
    let surveys = nl.survey(index).await.unwrap_or_else(|e| {
        note(e);
        Vec::new()
    });
    let scan = if !settings.scan {
        ScanRun::NotRequested
    } else if !ctx.privileges.net_admin {
        ScanRun::NoPrivilege
    } else {
        match nl.scan(index, Duration::from_millis(settings.scan_timeout_ms)).await {
            Ok(wait) => ScanRun::Ran(wait),
            Err(WifiError::NoPrivilege { .. }) => ScanRun::NoPrivilege,
            Err(e) => ScanRun::Failed(e.to_string()),
        }
    };
    let bss_dump = nl.scan_dump(index).await.unwrap_or_else(|e| {
        note(e);
        Vec::new()
    });
    drop(nl);

    let no_privilege = scan == ScanRun::NoPrivilege;
    let ev = observe(
        Readings { interface, bands, stations, surveys, bss_dump, scan, notes },
        settings.interference_floor_dbm,
    );
    let mut findings = judge(&ev, settings);
    if no_privilege {
        findings.push(finding(
            CheckId::Wifi,
            Code::ToolNoPrivilege,
            Severity::Warn,
            "the Wi-Fi scan needs CAP_NET_ADMIN; the link was judged without the neighbourhood",
        ));
    }
    Ok(Outcome::Ran { findings, evidence: Evidence::Wifi(Box::new(ev)) })
}

/// Two BSSIDs on one channel belong to the same AP radio when they differ only in the low
/// four bits of the last octet (multi-SSID radios count up from a base address, 16 at
/// most) or only in the first octet (vendors that vary its locally administered bits):
/// such a radio sends several networks but takes the air once.
fn same_radio(a: &Bss, b: &Bss) -> bool {
    let (x, y) = (a.bssid.0, b.bssid.0);
    a.freq_mhz == b.freq_mhz && ((x[..5] == y[..5] && x[5] >> 4 == y[5] >> 4) || x[1..] == y[1..])
}

/// Distinct radios among `aps` (strongest first), with how many further BSSIDs each sends.
fn radios<'a>(aps: impl Iterator<Item = &'a Bss>) -> Vec<(&'a Bss, usize)> {
    let mut sorted: Vec<&Bss> = aps.collect();
    sorted.sort_by(|a, b| b.signal_dbm.unwrap_or(f64::MIN).total_cmp(&a.signal_dbm.unwrap_or(f64::MIN)));
    let mut out: Vec<(&Bss, usize)> = Vec::new();
    for ap in sorted {
        match out.iter_mut().find(|(r, _)| same_radio(r, ap)) {
            Some((_, extra)) => *extra += 1,
            None => out.push((ap, 0)),
        }
    }
    out
}

/// Whether a 2.4 GHz AP on `f` overlaps a 20 MHz channel on `ours` (5 MHz spacing, 22 MHz
/// wide DSSS / 20 MHz OFDM channels: within 4 channels of each other).
fn overlaps_2ghz(ours: u32, f: u32) -> bool {
    f != ours && ours.abs_diff(f) <= 20
}

fn interferer(ap: &Bss, extra: usize) -> Interferer {
    Interferer {
        bssid: ap.bssid,
        ssid: ap.ssid.clone(),
        channel: ap.channel,
        signal_dbm: ap.signal_dbm.unwrap_or(f64::NAN),
        same_radio_bssids: extra,
    }
}

/// Candidate primary channels in a band: 2.4 GHz the three non-overlapping ones; 5 GHz
/// every 20 MHz channel of UNII-1 to UNII-3 (whether DFS channels are allowed depends on
/// the country, which this does not know); 6 GHz the preferred scanning channels.
fn candidates(band: Band) -> Vec<u16> {
    match band {
        Band::Ghz2 => vec![1, 6, 11],
        Band::Ghz5 => (36..=64).step_by(4).chain((100..=144).step_by(4)).chain((149..=165).step_by(4)).collect(),
        Band::Ghz6 => (5..=229).step_by(16).collect(),
        _ => Vec::new(),
    }
}

fn freq_of(band: Band, channel: u16) -> u32 {
    let ch = u32::from(channel);
    match band {
        Band::Ghz2 if channel == 14 => 2484,
        Band::Ghz2 => 2407 + 5 * ch,
        Band::Ghz5 => 5000 + 5 * ch,
        Band::Ghz6 => 5950 + 5 * ch,
        _ => 0,
    }
}

/// The neighbourhood from the scan results: APs heard, interference on our channel and the
/// quietest candidate channels (pure).
fn neighbourhood(r: &Readings, current: Option<&Bss>, link: Option<&WifiLink>, floor_dbm: i32) -> ScanReport {
    let mut report = ScanReport {
        status: "not_run".to_string(),
        reason: None,
        outcome: None,
        waited_ms: None,
        floor_dbm,
        access_points: Vec::new(),
        omitted: 0,
        co_channel: Vec::new(),
        adjacent_channel: Vec::new(),
        best_channels: Vec::new(),
    };
    let wait = match &r.scan {
        ScanRun::NotRequested => {
            report.reason = Some("not requested (--wifi-scan or [wifi] scan = true)".into());
            return report;
        }
        ScanRun::NoPrivilege => {
            report.reason = Some("needs CAP_NET_ADMIN to trigger a scan".into());
            return report;
        }
        ScanRun::Failed(why) => {
            report.status = "failed".to_string();
            report.reason = Some(why.clone());
            return report;
        }
        ScanRun::Ran(wait) => wait,
    };
    report.status = "ran".to_string();
    report.outcome = Some(wait.outcome.clone());
    report.waited_ms = Some(wait.waited_ms);
    // A scan we joined (EBUSY) started before our trigger, so its results can be older.
    let joined_ms = if wait.joined_running_scan { JOINED_SCAN_MARGIN_MS } else { 0 };
    let fresh_ms = wait.waited_ms + SCAN_FRESH_MARGIN_MS + joined_ms;
    let mut heard: Vec<Bss> =
        r.bss_dump.iter().filter(|b| b.seen_ms_ago.is_none_or(|ms| u64::from(ms) <= fresh_ms)).cloned().collect();
    heard.sort_by(|a, b| b.signal_dbm.unwrap_or(f64::MIN).total_cmp(&a.signal_dbm.unwrap_or(f64::MIN)));

    let floor = f64::from(floor_dbm);
    let own = |ap: &Bss| current.is_some_and(|c| c.bssid == ap.bssid || same_radio(c, ap));
    let others = || heard.iter().filter(|ap| !own(ap) && ap.signal_dbm.is_some_and(|s| s >= floor));
    if let (Some(link), Some(freq), Some(band)) = (link, link.and_then(|l| l.freq_mhz), link.and_then(|l| l.band)) {
        // Our occupied span for 5/6 GHz bonded channels, from the interface's centre frequency.
        let span = match (r.interface.center_freq1_mhz, link.width_mhz) {
            (Some(center), Some(width)) if width > 20 => Some((center - width / 2, center + width / 2)),
            _ => None,
        };
        for (ap, extra) in radios(others().filter(|ap| ap.band == band)) {
            if ap.freq_mhz == freq {
                report.co_channel.push(interferer(ap, extra));
            } else if match band {
                Band::Ghz2 => overlaps_2ghz(freq, ap.freq_mhz),
                _ => span.is_some_and(|(lo, hi)| ap.freq_mhz > lo && ap.freq_mhz < hi),
            } {
                report.adjacent_channel.push(interferer(ap, extra));
            }
        }
        let mut scores: Vec<ChannelScore> = candidates(band)
            .into_iter()
            .map(|channel| {
                let f = freq_of(band, channel);
                let same: Vec<(&Bss, usize)> = radios(others().filter(|ap| ap.freq_mhz == f));
                let near: Vec<(&Bss, usize)> = if band == Band::Ghz2 {
                    radios(others().filter(|ap| overlaps_2ghz(f, ap.freq_mhz)))
                } else {
                    vec![]
                };
                let strongest = same.iter().chain(&near).filter_map(|(ap, _)| ap.signal_dbm).reduce(f64::max);
                ChannelScore {
                    channel,
                    co_channel: same.len(),
                    overlapping: near.len(),
                    strongest_dbm: strongest,
                    current: f == freq,
                }
            })
            .collect();
        scores.sort_by(|a, b| {
            (a.co_channel + a.overlapping)
                .cmp(&(b.co_channel + b.overlapping))
                .then(a.strongest_dbm.unwrap_or(f64::MIN).total_cmp(&b.strongest_dbm.unwrap_or(f64::MIN)))
                .then(a.channel.cmp(&b.channel))
        });
        scores.truncate(3);
        report.best_channels = scores;
    }
    report.omitted = heard.len().saturating_sub(MAX_LISTED_APS);
    heard.truncate(MAX_LISTED_APS);
    report.access_points = heard;
    report
}

fn ratio(part: Option<u64>, whole: Option<u64>) -> Option<f64> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0 => Some(p as f64 / w as f64),
        _ => None,
    }
}

/// Puts the readings together into the evidence (pure): finds the current BSS (the one
/// the kernel marks associated, else the station's), its station entry and the survey of
/// its channel, derives SNR and busy time, and analyses the neighbourhood with APs at or
/// above `floor_dbm`.
pub fn observe(r: Readings, floor_dbm: i32) -> WifiEvidence {
    let station_mac = r.stations.first().map(|s| s.mac);
    let bss = r
        .bss_dump
        .iter()
        .find(|b| b.status == Some("associated".to_string()))
        .or_else(|| r.bss_dump.iter().find(|b| Some(b.bssid) == station_mac))
        .cloned();
    let station =
        r.stations.iter().find(|s| bss.as_ref().is_some_and(|b| b.bssid == s.mac)).or(r.stations.first()).cloned();
    let associated = station.is_some() || bss.is_some();
    let freq = r.interface.freq_mhz.or(bss.as_ref().map(|b| b.freq_mhz));
    let survey = r
        .surveys
        .iter()
        .find(|s| s.in_use)
        .or_else(|| r.surveys.iter().find(|s| Some(s.freq_mhz) == freq))
        .cloned()
        .filter(|_| associated);

    let link = associated.then(|| {
        let st = station.as_ref();
        let (signal_dbm, signal_source) = [
            (st.and_then(|s| s.signal_avg_dbm).map(f64::from), "station_average"),
            (st.and_then(|s| s.signal_dbm).map(f64::from), "station_last"),
            (st.and_then(|s| s.beacon_signal_avg_dbm).map(f64::from), "beacon_average"),
            (bss.as_ref().and_then(|b| b.signal_dbm), "scan"),
        ]
        .into_iter()
        .find_map(|(v, src)| v.map(|v| (Some(v), Some(src))))
        .unwrap_or((None, None));
        let noise_dbm = survey.as_ref().and_then(|s| s.noise_dbm);
        let (channel_busy_ratio, channel_busy_source) = match (
            survey
                .as_ref()
                .filter(|s| s.active_ms.is_some_and(|a| a >= MIN_SURVEY_ACTIVE_MS))
                .and_then(Survey::busy_ratio),
            bss.as_ref().and_then(|b| b.bss_load),
        ) {
            (Some(busy), _) => (Some(busy), Some("survey")),
            (None, Some(load)) => (Some(load.channel_utilization), Some("bss_load")),
            (None, None) => (None, None),
        };
        WifiLink {
            ssid: r.interface.ssid.clone().or_else(|| bss.as_ref().and_then(|b| b.ssid.clone())),
            bssid: bss.as_ref().map(|b| b.bssid).or(station_mac),
            freq_mhz: freq,
            channel: freq.and_then(crate::platform::wifi::channel_of),
            band: freq.map(Band::of_freq),
            width_mhz: r.interface.width_mhz.or(bss.as_ref().and_then(|b| b.width_mhz)),
            signal_dbm,
            signal_source: signal_source.map(str::to_string),
            noise_dbm,
            snr_db: signal_dbm.zip(noise_dbm).map(|(s, n)| s - f64::from(n)),
            tx_bitrate_mbps: st.and_then(|s| s.tx_bitrate.as_ref()).and_then(|r| r.mbps),
            rx_bitrate_mbps: st.and_then(|s| s.rx_bitrate.as_ref()).and_then(|r| r.mbps),
            tx_packets: st.and_then(|s| s.tx_packets),
            tx_retry_ratio: ratio(st.and_then(|s| s.tx_retries), st.and_then(|s| s.tx_packets)),
            tx_failed_ratio: ratio(st.and_then(|s| s.tx_failed), st.and_then(|s| s.tx_packets)),
            beacon_loss: st.and_then(|s| s.beacon_loss),
            connected_time_s: st.and_then(|s| s.connected_time_s),
            authorized: st.and_then(|s| s.authorized),
            channel_busy_ratio,
            channel_busy_source: channel_busy_source.map(str::to_string),
            security: bss.as_ref().map(|b| b.security.clone()),
        }
    });
    let scan = neighbourhood(&r, bss.as_ref(), link.as_ref(), floor_dbm);
    WifiEvidence {
        wireless: true,
        interface: r.interface,
        supported_bands: r.bands,
        associated,
        link,
        station,
        bss,
        survey,
        scan,
        notes: r.notes,
    }
}

fn pct(ratio: f64) -> String {
    format!("{:.1} %", ratio * 100.0)
}

fn dbm(v: f64) -> String {
    format!("{v:.0} dBm")
}

fn rate_text(st: Option<&Station>) -> String {
    let Some(rate) = st.and_then(|s| s.tx_bitrate.as_ref()) else { return String::new() };
    let mut parts = vec![rate.phy.to_uppercase()];
    if let Some(mcs) = rate.mcs {
        parts.push(format!("MCS {mcs}"));
    }
    if let Some(nss) = rate.nss {
        parts.push(format!("{nss} stream{}", if nss == 1 { "" } else { "s" }));
    }
    parts.push(format!("{} MHz", rate.width_mhz));
    format!(" ({})", parts.join(", "))
}

/// Judges the Wi-Fi evidence (pure). Findings come cause first: association, then signal,
/// SNR and congestion, then their symptoms (rate, retries), then band and security. Messages
/// name BSSIDs and channels but never SSIDs, so `--redact` (which replaces evidence fields
/// called `ssid`) leaves no network name in a report.
pub fn judge(ev: &WifiEvidence, s: &WifiSettings) -> Vec<Finding> {
    let f = |code, severity, message: String| finding(CheckId::Wifi, code, severity, message);
    let name = ev.interface.name.clone().unwrap_or_else(|| format!("interface {}", ev.interface.ifindex));
    let mut out = Vec::new();
    let Some(link) = ev.link.as_ref().filter(|_| ev.associated) else {
        let heard = match ev.scan.status.as_str() {
            "ran" => format!("; the scan heard {} access point(s)", ev.scan.access_points.len()),
            _ => String::new(),
        };
        return vec![f(
            Code::WifiNotConnected,
            Severity::Fail,
            format!("{name} is a Wi-Fi client but is not associated with any access point{heard}"),
        )];
    };
    let ap = link.bssid.map(|b| b.to_string()).unwrap_or_else(|| "the access point".into());
    if link.authorized == Some(false) {
        out.push(f(
            Code::WifiNotConnected,
            Severity::Fail,
            format!(
                "{name} is associated with {ap} but not authorized: the WPA/802.1X key handshake has not completed (wrong passphrase, rejected credentials, or still connecting)"
            ),
        ));
    }
    if let Some(signal) = link.signal_dbm {
        let (warn, fail) = (f64::from(s.signal_warn_dbm), f64::from(s.signal_fail_dbm));
        let source = link.signal_source.as_deref().unwrap_or("signal").replace('_', " ");
        if signal < fail {
            out.push(f(
                Code::WifiWeakSignal,
                Severity::Fail,
                format!("signal from {ap} is {} ({source}), below {}: barely usable", dbm(signal), dbm(fail)),
            ));
        } else if signal < warn {
            out.push(f(
                Code::WifiWeakSignal,
                Severity::Warn,
                format!("signal from {ap} is {} ({source}), below {} (weak)", dbm(signal), dbm(warn)),
            ));
        }
    }
    if let (Some(snr), Some(noise)) = (link.snr_db, link.noise_dbm) {
        let detail =
            format!("SNR {snr:.0} dB (signal {} over noise {noise} dBm)", dbm(link.signal_dbm.unwrap_or(f64::NAN)));
        if snr < f64::from(s.snr_fail_db) {
            out.push(f(Code::WifiLowSnr, Severity::Fail, format!("{detail}, below {} dB", s.snr_fail_db)));
        } else if snr < f64::from(s.snr_warn_db) {
            out.push(f(Code::WifiLowSnr, Severity::Warn, format!("{detail}, below {} dB", s.snr_warn_db)));
        }
    }
    let crowd = ev.scan.co_channel.len() + ev.scan.adjacent_channel.len();
    let crowded = ev.scan.status == "ran" && crowd >= s.congested_ap_count as usize;
    let busy = link.channel_busy_ratio.filter(|b| *b > s.busy_ratio_warn);
    if crowded || busy.is_some() {
        let channel = match (link.channel, link.band) {
            (Some(c), Some(b)) => format!("channel {c} ({})", b.label()),
            _ => "the channel".into(),
        };
        let mut why = Vec::new();
        if crowded {
            why.push(format!(
                "{} co-channel and {} overlapping AP radio(s) above {} dBm",
                ev.scan.co_channel.len(),
                ev.scan.adjacent_channel.len(),
                ev.scan.floor_dbm
            ));
        }
        if let Some(b) = busy {
            let by =
                if link.channel_busy_source == Some("bss_load".to_string()) { "the AP's BSS Load" } else { "survey" };
            why.push(format!("busy {} of the time ({by})", pct(b)));
        }
        let better: Vec<String> = ev
            .scan
            .best_channels
            .iter()
            .filter(|c| !c.current)
            .map(|c| format!("{} ({} AP radio(s))", c.channel, c.co_channel + c.overlapping))
            .collect();
        let hint = if better.is_empty() { String::new() } else { format!("; quieter: {}", better.join(", ")) };
        out.push(f(Code::WifiCongestedChannel, Severity::Warn, format!("{channel}: {}{hint}", why.join("; "))));
    }
    if let Some(tx) = link.tx_bitrate_mbps
        && tx < s.bitrate_warn_mbps
    {
        let rx = link.rx_bitrate_mbps.map(|r| format!(", receive {r:.1} Mbit/s")).unwrap_or_default();
        out.push(f(
            Code::WifiLowBitrate,
            Severity::Warn,
            format!(
                "transmit rate to {ap} is {tx:.1} Mbit/s{}{rx}, below {:.0} Mbit/s",
                rate_text(ev.station.as_ref()),
                s.bitrate_warn_mbps
            ),
        ));
    }
    if let Some(packets) = link.tx_packets.filter(|p| *p >= s.retry_min_packets.max(1)) {
        let retries = link.tx_retry_ratio.filter(|r| *r > s.retry_ratio_warn);
        let failed = link.tx_failed_ratio.filter(|r| *r > s.failed_ratio_warn);
        if retries.is_some() || failed.is_some() {
            let st = ev.station.as_ref();
            out.push(f(
                Code::WifiHighRetries,
                Severity::Warn,
                format!(
                    "{} retries and {} failed in {packets} transmitted packets ({} and {}; warns above {} and {})",
                    st.and_then(|s| s.tx_retries).unwrap_or(0),
                    st.and_then(|s| s.tx_failed).unwrap_or(0),
                    pct(link.tx_retry_ratio.unwrap_or(0.0)),
                    pct(link.tx_failed_ratio.unwrap_or(0.0)),
                    pct(s.retry_ratio_warn),
                    pct(s.failed_ratio_warn),
                ),
            ));
        }
    }
    if link.band == Some(Band::Ghz2) && ev.supported_bands.iter().any(|b| matches!(b, Band::Ghz5 | Band::Ghz6)) {
        let faster: Vec<&str> =
            ev.supported_bands.iter().filter(|b| matches!(b, Band::Ghz5 | Band::Ghz6)).map(|b| b.label()).collect();
        let same_net = ev
            .scan
            .access_points
            .iter()
            .filter(|b| b.band != Band::Ghz2 && b.ssid.is_some() && b.ssid == link.ssid)
            .filter_map(|b| b.signal_dbm.map(|s| (b.band, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let hint = same_net
            .map(|(band, sig)| format!("; the same network is heard on {} at {}", band.label(), dbm(sig)))
            .unwrap_or_default();
        out.push(f(
            Code::WifiBand2ghzOnly,
            Severity::Warn,
            format!("associated on 2.4 GHz although the adapter supports {}{hint}", faster.join(" and ")),
        ));
    }
    if let Some(sec) = &link.security {
        let weakness = match sec.protocol.as_str() {
            "open" => Some("an open network: traffic is not encrypted over the air".to_string()),
            "wep" => Some("WEP, which has been broken since 2001 and is deprecated by IEEE 802.11-2012".to_string()),
            "wpa" => Some("WPA (version 1) with TKIP, deprecated by IEEE 802.11-2012".to_string()),
            _ if sec.tkip() => Some(format!(
                "{} with TKIP (group cipher {}), deprecated by IEEE 802.11-2012",
                sec.protocol.to_uppercase().replace('_', "/"),
                sec.group.as_deref().unwrap_or("unknown")
            )),
            _ => None,
        };
        if let Some(w) = weakness {
            out.push(f(Code::WifiInsecure, Severity::Warn, format!("{ap} is {w}")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::wifi::{bands_from, bss_from, decode_dump, interface_from, station_from, survey_from};
    use crate::report::Evidence;

    fn read(name: &str) -> Vec<wl_nl80211::Nl80211Message> {
        let path = format!("{}/captures/wifi/{name}", env!("CARGO_MANIFEST_DIR"));
        decode_dump(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
    }

    /// Readings decoded from the byte fixtures in `captures/wifi/` (see its README).
    fn readings(iface: &str, station: &str, survey: &str, scan: &str, ran: bool) -> Readings {
        let interface = read(iface).iter().find_map(|m| interface_from(&m.attributes)).unwrap();
        Readings {
            interface,
            bands: bands_from(&read("wiphy_dualband.bin")),
            stations: read(station).iter().filter_map(|m| station_from(&m.attributes)).collect(),
            surveys: read(survey).iter().filter_map(|m| survey_from(&m.attributes)).collect(),
            bss_dump: read(scan).iter().filter_map(|m| bss_from(&m.attributes)).collect(),
            scan: if ran {
                ScanRun::Ran(ScanWait { outcome: "completed".to_string(), waited_ms: 3100, joined_running_scan: false })
            } else {
                ScanRun::NotRequested
            },
            notes: vec![],
        }
    }

    fn judged(r: Readings) -> (WifiEvidence, Vec<Finding>) {
        let s = WifiSettings::default();
        let ev = observe(r, s.interference_floor_dbm);
        let findings = judge(&ev, &s);
        (ev, findings)
    }

    fn codes(findings: &[Finding]) -> Vec<(Code, Severity)> {
        findings.iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn strong_5ghz_link_passes_and_reads_every_value() {
        let (ev, findings) =
            judged(readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", true));
        assert!(findings.is_empty(), "{findings:#?}");
        let l = ev.link.as_ref().unwrap();
        assert_eq!(l.ssid.as_deref(), Some("lab-5g"));
        assert_eq!(l.bssid.unwrap().to_string(), "02:aa:00:00:01:00");
        assert_eq!((l.freq_mhz, l.channel, l.band, l.width_mhz), (Some(5180), Some(36), Some(Band::Ghz5), Some(80)));
        assert_eq!(
            (l.signal_dbm, l.signal_source.as_deref(), l.noise_dbm, l.snr_db),
            (Some(-57.0), Some("station_average"), Some(-95), Some(38.0))
        );
        assert_eq!((l.tx_bitrate_mbps, l.rx_bitrate_mbps), (Some(433.3), Some(390.0)));
        assert_eq!((l.channel_busy_ratio, l.channel_busy_source.as_deref()), (Some(0.18), Some("survey")));
        assert_eq!(l.security.as_ref().unwrap().protocol, "wpa2_wpa3");
        assert_eq!(l.authorized, Some(true));
        // The guest network of our own radio is not interference; the neighbour on 36 is,
        // the one on 40 is under the floor.
        assert_eq!(ev.scan.co_channel.len(), 1);
        assert_eq!(ev.scan.co_channel[0].bssid.to_string(), "02:bb:00:00:00:01");
        assert!(ev.scan.adjacent_channel.is_empty());
        assert_eq!(ev.scan.access_points.len(), 5);
        assert_eq!(ev.scan.access_points[0].status.as_deref(), Some("associated"));
        assert!(ev.scan.access_points.iter().any(|b| b.hidden));
        assert_eq!(ev.supported_bands, [Band::Ghz2, Band::Ghz5]);
    }

    #[test]
    fn weak_link_fails_on_signal_and_warns_on_its_symptoms() {
        let (ev, findings) =
            judged(readings("interface_5ghz.bin", "station_weak.bin", "survey_5ghz.bin", "scan_5ghz.bin", false));
        assert_eq!(
            codes(&findings),
            [
                (Code::WifiWeakSignal, Severity::Fail),
                (Code::WifiLowSnr, Severity::Warn),
                (Code::WifiLowBitrate, Severity::Warn),
                (Code::WifiHighRetries, Severity::Warn),
            ]
        );
        // What the findings are about, from the evidence they were judged on.
        let link = ev.link.as_ref().unwrap();
        assert_eq!(link.signal_dbm.map(f64::round), Some(-82.0));
        assert_eq!(link.tx_bitrate_mbps, Some(6.5));
        let rate = ev.station.as_ref().and_then(|s| s.tx_bitrate.as_ref()).unwrap();
        assert_eq!((rate.phy.as_str(), rate.mcs, rate.nss, rate.width_mhz), ("vht", Some(0), Some(1), 20));
        assert_eq!(ev.scan.status, "not_run");
    }

    #[test]
    fn congested_2ghz_channel_warns_and_names_quieter_channels() {
        let (ev, findings) = judged(readings(
            "interface_2ghz.bin",
            "station_2ghz.bin",
            "survey_2ghz_busy.bin",
            "scan_2ghz_congested.bin",
            true,
        ));
        assert_eq!(
            codes(&findings),
            [(Code::WifiCongestedChannel, Severity::Warn), (Code::WifiBand2ghzOnly, Severity::Warn)]
        );
        // Three co-channel radios (one sends two BSSIDs; one is under the floor), two on
        // overlapping channels 4 and 8; channel 1 is 25 MHz away and does not overlap.
        assert_eq!(ev.scan.co_channel.len(), 3);
        assert_eq!(ev.scan.co_channel.iter().map(|i| i.same_radio_bssids).sum::<usize>(), 1);
        assert_eq!(ev.scan.adjacent_channel.iter().map(|i| i.channel.unwrap()).collect::<Vec<_>>(), [4, 8]);
        let best: Vec<u16> = ev.scan.best_channels.iter().map(|c| c.channel).collect();
        assert_eq!(best, [1, 11, 6]);
        let link = ev.link.as_ref().unwrap();
        assert_eq!((link.channel_busy_ratio, link.channel_busy_source.as_deref()), (Some(0.64), Some("survey")));
        let quieter: Vec<(u16, usize)> = ev
            .scan
            .best_channels
            .iter()
            .filter(|c| !c.current)
            .map(|c| (c.channel, c.co_channel + c.overlapping))
            .collect();
        assert_eq!(quieter, [(1, 2), (11, 2)]);
        // band_2ghz_only: the same network is heard on 5 GHz too.
        let same_net_5ghz = ev.scan.access_points.iter().find(|b| b.band == Band::Ghz5 && b.ssid == link.ssid);
        assert_eq!(same_net_5ghz.and_then(|b| b.signal_dbm), Some(-64.0));
        // Privacy, not wording: an SSID never appears in a message.
        assert!(!findings.iter().any(|f| f.message.contains("lab-2g")), "SSIDs stay out of messages");
    }

    #[test]
    fn open_network_warns_insecure() {
        let (ev, findings) =
            judged(readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_open.bin", true));
        assert_eq!(codes(&findings), [(Code::WifiInsecure, Severity::Warn)]);
        assert_eq!(ev.link.as_ref().and_then(|l| l.security.as_ref()).map(|s| s.protocol.as_str()), Some("open"));
        let protocols: Vec<&str> = ev.scan.access_points.iter().map(|b| b.security.protocol.as_str()).collect();
        assert_eq!(protocols, ["open", "wpa", "wep"]);
    }

    #[test]
    fn disconnected_client_fails_not_connected_and_lists_the_neighbourhood() {
        let (ev, findings) =
            judged(readings("interface_idle.bin", "station_none.bin", "survey_5ghz.bin", "scan_idle.bin", true));
        assert_eq!(codes(&findings), [(Code::WifiNotConnected, Severity::Fail)]);
        assert_eq!(ev.scan.access_points.len(), 3);
        assert!(!ev.associated && ev.link.is_none() && ev.survey.is_none());
        assert!(Code::WifiNotConnected.blocks());
    }

    #[test]
    fn unauthorized_association_fails_not_connected() {
        let mut r = readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", false);
        r.stations[0].authorized = Some(false);
        let (ev, findings) = judged(r);
        assert_eq!(codes(&findings), [(Code::WifiNotConnected, Severity::Fail)]);
        // Associated, but the key handshake is not complete.
        assert!(ev.associated);
        assert_eq!(ev.link.as_ref().and_then(|l| l.authorized), Some(false));
    }

    #[test]
    fn thresholds_are_strict_and_follow_the_settings() {
        let r = readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", true);
        let ev = observe(r, -82);
        let mut s = WifiSettings { signal_warn_dbm: -57, ..WifiSettings::default() };
        assert!(judge(&ev, &s).is_empty(), "-57 dBm is not below -57 dBm");
        s.signal_warn_dbm = -50;
        assert_eq!(codes(&judge(&ev, &s)), [(Code::WifiWeakSignal, Severity::Warn)]);
        let s = WifiSettings { congested_ap_count: 1, ..WifiSettings::default() };
        assert_eq!(codes(&judge(&ev, &s)), [(Code::WifiCongestedChannel, Severity::Warn)]);
        let s = WifiSettings {
            snr_warn_db: 40,
            bitrate_warn_mbps: 500.0,
            retry_ratio_warn: 0.01,
            ..WifiSettings::default()
        };
        assert_eq!(
            codes(&judge(&ev, &s)),
            [
                (Code::WifiLowSnr, Severity::Warn),
                (Code::WifiLowBitrate, Severity::Warn),
                (Code::WifiHighRetries, Severity::Warn)
            ]
        );
    }

    #[test]
    fn missing_privilege_and_failed_scans_are_reported_not_invented() {
        let mut r = readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", false);
        r.scan = ScanRun::NoPrivilege;
        let ev = observe(r.clone(), -82);
        assert_eq!(
            (ev.scan.status.as_str(), ev.scan.reason.as_deref()),
            ("not_run", Some("needs CAP_NET_ADMIN to trigger a scan"))
        );
        assert!(ev.scan.access_points.is_empty() && ev.scan.co_channel.is_empty());
        r.scan = ScanRun::Failed("nl80211 trigger scan: the device is busy".into());
        let ev = observe(r, -82);
        assert_eq!(ev.scan.status, "failed");
        assert!(judge(&ev, &WifiSettings::default()).is_empty());
    }

    #[test]
    fn signal_falls_back_from_average_to_last_to_beacon_to_scan() {
        let mut r = readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", false);
        r.stations[0].signal_avg_dbm = None;
        let ev = observe(r.clone(), -82);
        assert_eq!(ev.link.unwrap().signal_source.as_deref(), Some("station_last"));
        r.stations.clear();
        let ev = observe(r, -82);
        let l = ev.link.unwrap();
        assert_eq!((l.signal_dbm, l.signal_source.as_deref()), (Some(-57.0), Some("scan")));
    }

    #[test]
    fn report_details_summarise_the_link_in_one_line() {
        let line = |r: Readings| {
            let (ev, findings) = judged(r);
            crate::render::details(&crate::report::CheckResult {
                id: CheckId::Wifi,
                status: crate::check::status_of(&findings),
                duration_ms: 4,
                blocked_by: None,
                reason: None,
                reason_code: None,
                findings,
                evidence: Evidence::Wifi(Box::new(ev)),
            })
        };
        let strong = readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", true);
        assert_eq!(line(strong), "lab-5g 5 GHz ch 36, -57 dBm, SNR 38 dB, 433 Mbit/s");
        let idle = readings("interface_idle.bin", "station_none.bin", "survey_5ghz.bin", "scan_idle.bin", true);
        assert_eq!(line(idle), "not associated");
    }

    #[test]
    fn evidence_serialises_with_raw_dbm_and_band_names() {
        let (ev, _) =
            judged(readings("interface_5ghz.bin", "station_strong.bin", "survey_5ghz.bin", "scan_5ghz.bin", true));
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["wireless"], true);
        assert_eq!(json["link"]["signal_dbm"], -57.0);
        assert_eq!(json["link"]["band"], "5GHz");
        assert_eq!(json["scan"]["access_points"][0]["ssid"], "lab-5g");
        assert_eq!(json["station"]["tx_bitrate"]["phy"], "vht");
    }
}
