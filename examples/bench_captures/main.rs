//! Writes the captures of the analyze benchmark (tests/bench_analyze.sh); see
//! `generate.rs` for what they hold and why they are generated in Rust.
//!
//! ```text
//! cargo run --release --example bench_captures -- dns EXCHANGES OUT.pcap [SEED]
//! cargo run --release --example bench_captures -- replicate IN.pcap BYTES OUT.pcap
//! ```
//!
//! Prints one line of `key=value` counts (what was written) for the script to read.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a developer tool: its output is for the script running it

mod generate;

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;

fn run(args: &[String]) -> Result<String, String> {
    let number = |s: &str| s.parse::<u64>().map_err(|e| format!("{s}: {e}"));
    let create = |path: &str| File::create(path).map(BufWriter::new).map_err(|e| format!("create {path}: {e}"));
    match args {
        [cmd, n, out, rest @ ..] if cmd == "dns" && rest.len() <= 1 => {
            let seed = rest.first().map_or(Ok(10), |s| number(s))?;
            let s =
                generate::dns_capture(number(n)?, seed, &mut create(out)?).map_err(|e| format!("write {out}: {e}"))?;
            let answered: u64 = s.per_server.iter().map(|(_, _, a)| a).sum();
            Ok(format!(
                "exchanges={} answered={answered} nxdomain={} packets={} bytes={}",
                s.exchanges, s.nxdomain, s.packets, s.bytes
            ))
        }
        [cmd, input, bytes, out] if cmd == "replicate" => {
            let mut reader = File::open(input).map(BufReader::new).map_err(|e| format!("open {input}: {e}"))?;
            let s = generate::replicate(&mut reader, number(bytes)?, &mut create(out)?)
                .map_err(|e| format!("{input} -> {out}: {e}"))?;
            Ok(format!("copies={} packets={} bytes={}", s.copies, s.packets, s.bytes))
        }
        _ => Err("usage: bench_captures dns EXCHANGES OUT [SEED] | replicate IN BYTES OUT".to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_captures: {e}");
            ExitCode::FAILURE
        }
    }
}
