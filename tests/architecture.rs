//! The rules of `docs/ARCHITECTURE.md` ("Architecture invariants"), checked on the source
//! tree the way rust-analyzer's `tidy` tests do: this test reads every file under `src/`,
//! finds the modules each one names through `crate::…` paths, and fails on an edge the
//! architecture forbids, naming the file. It also checks that clap and printing stay in the
//! binary's command layer and that every module has a `//!` header.
//!
//! The rules are a table ([`RULES`]): a module may name only the modules listed for it.
//! Adding a module means adding a row here and a line to docs/ARCHITECTURE.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Who may name whom: (module, modules it may name). A module is the first path component
/// below `src/` (`check/dns.rs` is `check`, `render/html.rs` is `render`). Naming oneself
/// is always allowed. `main.rs` and `cmd/` are the binary; they may name any library module
/// (through `nettriage::`, not `crate::`), and the library may name neither.
const RULES: &[(&str, &[&str])] = &[
    // Leaves: protocol newtypes, the one wire decoder, the atomic file writer.
    ("types", &[]),
    ("wire", &["types"]),
    ("pcap", &["wire", "types"]),
    ("files", &[]),
    // The report model. It names the checks' and platform's evidence types (data only:
    // `report::Evidence` carries them), never their I/O.
    ("codes", &["report"]),
    ("report", &["codes", "check", "platform", "types"]),
    ("progress", &["report"]),
    // Settings, resolved from a file and the command line by the binary.
    ("config", &["report", "codes", "types"]),
    // The operating system: sockets, netlink, nl80211, lease files. Never a check's verdict.
    ("platform", &["types", "wire", "config", "report", "codes"]),
    // One file per layer: an I/O half through platform, a pure judge half.
    ("check", &["config", "platform", "report", "codes", "types", "wire"]),
    ("diagnosis", &["report", "codes", "check"]),
    ("runner", &["check", "config", "progress", "report", "codes", "platform"]),
    // Captures judged by the checks' own judges.
    ("analyze", &["check", "config", "diagnosis", "pcap", "platform", "report", "codes", "types", "wire"]),
    // Reading and comparing reports, and hiding what a ticket must not show.
    ("diff", &["report", "codes", "check", "platform", "types"]),
    ("redact", &["report", "codes", "check", "platform", "types"]),
    // Output: reads the report model (and a history trend), writes to what it is given.
    ("render", &["report", "codes", "check", "platform", "types", "config", "progress", "history"]),
    // Surveys: stored runs, metrics, the survey loop, the /metrics server, unit texts.
    ("metrics", &["report", "codes", "check", "platform", "types", "files"]),
    ("history", &["report", "codes", "check", "platform", "types", "metrics", "files"]),
    // One run from config to report, as values (the binary prints).
    (
        "app",
        &[
            "analyze",
            "check",
            "codes",
            "config",
            "diagnosis",
            "diff",
            "files",
            "history",
            "pcap",
            "platform",
            "progress",
            "redact",
            "render",
            "report",
            "runner",
            "types",
        ],
    ),
    (
        "survey",
        &["app", "config", "history", "metrics", "render", "report", "files", "progress", "codes", "types", "ticket"],
    ),
    ("serve", &["app", "config", "history", "metrics", "report", "survey"]),
    ("systemd", &["config", "history"]),
    // Ticket hand-off: a finished report delivered to the site's ticket system, or queued.
    ("ticket", &["app", "config", "report", "codes", "render", "redact", "files", "types", "diagnosis", "platform"]),
];

/// Binary-only modules: the command layer.
const BINARY: &[&str] = &["main", "cmd"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read src/").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/check/dns.rs` -> `check`; `src/main.rs` -> `main`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).expect("under src/");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without comments and string literals (so a doc comment that mentions
/// `crate::runner` or a message that says "println!" is not an edge).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') || (bytes.get(i + 1) == Some(&b'\\')) => {
                // A char literal such as '"' or '\n'; lifetimes ('a) do not close on i + 2.
                let end = text[i + 1..].find('\'').map_or(bytes.len(), |p| i + 1 + p + 1);
                out.push_str("' '");
                i = end;
            }
            _ => {
                let ch = text[i..].chars().next().expect("a char");
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// The code without its `#[cfg(test)]` items (test modules and fixtures may use anything):
/// each one is cut from its attribute to the end of the item it marks (its closing brace at
/// the same depth, or its `;`). Works on [`code_only`]'s output, where no brace hides in a
/// string or comment.
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The modules a file names through `crate::X` paths (including grouped `use crate::{X, ..}`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `nettriage_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn files() -> Vec<(PathBuf, String, String)> {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read a source file");
            let module = module_of(&p);
            (p, module, text)
        })
        .collect()
}

fn shown(path: &Path) -> String {
    path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or(path).display().to_string()
}

#[test]
fn every_library_module_has_a_rule_and_names_only_what_its_rule_allows() {
    let mut broken = Vec::new();
    for (path, module, text) in files() {
        if BINARY.contains(&module.as_str()) || module == "lib" {
            continue;
        }
        let Some((_, allowed)) = RULES.iter().find(|(m, _)| *m == module) else {
            broken.push(format!("{}: module `{module}` has no rule in tests/architecture.rs", shown(&path)));
            continue;
        };
        let code = code_only(&text);
        for named in named_modules(&without_tests(&code)) {
            if named != module && !allowed.contains(&named.as_str()) {
                broken.push(format!("{}: `{module}` may not name `crate::{named}`", shown(&path)));
            }
        }
    }
    assert!(broken.is_empty(), "forbidden dependencies:\n{}", broken.join("\n"));
}

#[test]
fn the_library_never_names_the_command_layer() {
    let mut broken = Vec::new();
    for (path, module, text) in files() {
        if BINARY.contains(&module.as_str()) {
            continue;
        }
        let code = code_only(&text);
        if named_modules(&code).contains("cmd") {
            broken.push(shown(&path));
        }
    }
    assert!(broken.is_empty(), "library files naming the binary's cmd module:\n{}", broken.join("\n"));
}

#[test]
fn clap_appears_only_in_the_command_layer() {
    let mut broken = Vec::new();
    for (path, module, text) in files() {
        if BINARY.contains(&module.as_str()) {
            continue;
        }
        let code = code_only(&text);
        if code.contains("clap::") || code.contains("use clap") || code.contains("clap_") {
            broken.push(shown(&path));
        }
    }
    assert!(broken.is_empty(), "clap outside src/main.rs and src/cmd/:\n{}", broken.join("\n"));
}

#[test]
fn only_the_command_layer_prints() {
    // Renderers write to a `&mut impl Write` they are given; the library logs with tracing.
    let forbidden = ["print!(", "println!(", "eprint!(", "eprintln!(", "dbg!(", "io::stdout()", "io::stderr()"];
    let mut broken = Vec::new();
    for (path, module, text) in files() {
        if BINARY.contains(&module.as_str()) {
            continue;
        }
        let code = code_only(&text);
        for f in forbidden {
            if without_tests(&code).contains(f) {
                broken.push(format!("{}: {f}", shown(&path)));
            }
        }
    }
    assert!(broken.is_empty(), "output written outside the command layer:\n{}", broken.join("\n"));
}

#[test]
fn every_module_starts_with_a_header() {
    let mut broken = Vec::new();
    for (path, _, text) in files() {
        if !text.trim_start().starts_with("//!") {
            broken.push(shown(&path));
        }
    }
    assert!(broken.is_empty(), "files without a `//!` module header:\n{}", broken.join("\n"));
}

#[test]
fn the_rules_table_names_only_modules_that_exist() {
    let modules: BTreeSet<String> = files().into_iter().map(|(_, m, _)| m).collect();
    for (module, allowed) in RULES {
        // A rule may exist ahead of its module only if docs say so; keep the table true.
        assert!(modules.contains(*module), "tests/architecture.rs has a rule for `{module}`, which does not exist");
        for a in *allowed {
            assert!(modules.contains(*a), "rule for `{module}` allows `{a}`, which does not exist");
        }
    }
}

#[test]
fn test_items_are_cut_exactly() {
    let code = code_only(
        "use crate::report;\n#[cfg(test)]\nfn fixture() { crate::runner::x(); }\nfn live() { crate::app::y(); }\n#[cfg(test)]\nmod tests { use crate::survey; }\n",
    );
    let named = named_modules(&without_tests(&code));
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["app", "report"]);
}

#[test]
fn the_scanner_sees_edges_and_ignores_comments_and_strings() {
    let code = code_only(
        "//! mentions crate::runner\nuse crate::{report::Report, check};\nlet s = \"crate::app\";\nfn f() { crate::types::MacAddr(x); }\n",
    );
    let named = named_modules(&code);
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["check", "report", "types"]);
}
