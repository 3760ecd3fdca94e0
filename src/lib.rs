//! nettriage: layered network diagnostics that name the root cause.
//!
//! One run checks the link, the addressing, the gateway, DNS and TCP services of one
//! interface as a dependency graph, decides which layer is the root cause, and produces a
//! [`report::Report`] for a ticket. See `docs/ARCHITECTURE.md` for the map; in short,
//! dependencies flow one way: `cli` -> `config` -> `app` -> `runner` -> `check` ->
//! `platform`, with `report` (and `codes`) a leaf everyone may use and `render` reading only
//! `report`.

pub mod analyze;
pub mod app;
pub mod check;
pub mod cli;
pub mod codes;
pub mod config;
pub mod diagnosis;
pub mod diff;
pub mod history;
pub mod metrics;
pub mod pcap;
pub mod platform;
pub mod redact;
pub mod render;
pub mod report;
pub mod runner;
pub mod survey;
pub mod types;
pub mod wire;
