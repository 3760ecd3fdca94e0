//! nettriage: layered network diagnostics that name the root cause.
//!
//! One run checks the link, the addressing, the gateway, DNS and TCP services of one
//! interface as a dependency graph, decides which layer is the root cause, and produces a
//! [`report::Report`] for a ticket. See `docs/ARCHITECTURE.md` for the map; in short,
//! dependencies flow one way: `config` -> `app` -> `runner` -> `check` -> `platform`, with
//! `report` (and `codes`, `progress`, `types`, `files`) a leaf everyone may use and
//! `render` reading `report`. This library has no clap type and never prints: the
//! binary's command modules (`src/main.rs`, `src/cmd/`) parse arguments into plain
//! settings and write what the user sees.

pub mod analyze;
#[cfg(feature = "live")]
pub mod app;
pub mod check;
pub mod codes;
pub mod config;
pub mod diagnosis;
pub mod diff;
pub mod files;
#[cfg(feature = "live")]
pub mod history;
pub mod metrics;
pub mod pcap;
pub mod platform;
pub mod progress;
pub mod redact;
pub mod render;
pub mod report;
#[cfg(feature = "live")]
pub mod runner;
#[cfg(feature = "live")]
pub mod serve;
#[cfg(feature = "live")]
pub mod survey;
#[cfg(feature = "live")]
pub mod systemd;
#[cfg(feature = "live")]
pub mod ticket;
pub mod types;
pub mod wire;
