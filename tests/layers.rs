//! The layers of `src/lib.rs`: every top-level module uses only the modules below it. A `use`
//! or path that reaches up (or sideways, other than the gateway speaking the controller's
//! protocol) fails this test with the file that does it.

use std::collections::BTreeSet;
use std::path::Path;

/// What each layer may use (the table in `src/lib.rs`). `controller::protocol` is the one
/// part of the controller the gateway may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("progress", &[]),
    ("state", &["progress"]),
    ("docker", &["state", "progress"]),
    ("certs", &["state", "progress"]),
    ("backup", &["state", "docker", "progress"]),
    ("ha", &["state", "docker", "certs", "progress"]),
    ("controller", &["state", "progress"]),
    ("gateway", &["state", "certs", "progress", "controller::protocol"]),
    ("platform", &["state", "docker", "certs", "backup", "ha", "gateway", "controller", "progress"]),
    ("api", &["state", "docker", "certs", "backup", "ha", "gateway", "controller", "platform", "progress"]),
    ("cli", &["state", "docker", "certs", "backup", "ha", "gateway", "controller", "platform", "api", "progress"]),
];

/// The crate paths a file names outside its tests, as `module` or `module::item` (two
/// segments), from `crate::a::b` and from `use crate::{a::b, c}` groups.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let two = |s: &str| -> String {
        let first = ident(s);
        match s[first.len()..].strip_prefix("::") {
            Some(rest) if !ident(rest).is_empty() => format!("{first}::{}", ident(rest)),
            _ => first,
        }
    };
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The items at depth 1 of the group.
            let (mut depth, mut start) = (1, 0);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => {
                        found.insert(two(group[start..i].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        found.insert(two(group[start..i].trim()));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(two(rest));
        }
    }
    found.retain(|p| !p.is_empty());
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_layer_reaches_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for path in &all {
        let rel = path.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        let layer = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let Some((_, allowed)) = ALLOWED.iter().find(|(l, _)| *l == layer) else {
            assert!(["lib", "main"].contains(&layer), "{rel}: a top-level module missing from the table");
            continue;
        };
        for used in crate_paths(&std::fs::read_to_string(path).unwrap()) {
            let module = used.split("::").next().unwrap();
            let ok = module == layer || allowed.contains(&module) || allowed.contains(&used.as_str());
            if !ok {
                wrong.push(format!("{rel} uses crate::{used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layers reached up (see the table in src/lib.rs):\n{}", wrong.join("\n"));
}

#[test]
fn the_scanner_sees_paths_and_groups() {
    let paths = crate_paths(
        "use crate::state::{A, B};\nuse crate::{docker::Docker, gateway::route};\n// crate::cli::x\nfn f() { crate::progress::note(\"\"); }\n#[cfg(test)]\nmod tests { use crate::platform; }",
    );
    let want: BTreeSet<String> =
        ["state", "docker::Docker", "gateway::route", "progress::note"].iter().map(|s| s.to_string()).collect();
    assert_eq!(paths, want);
}
