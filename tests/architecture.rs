//! The layering that docs/architecture.md describes, checked on the source: which top-level
//! module may name which. A new `use crate::...` that breaks it fails here, naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules, lowest first. A module may use only modules listed before it. The live
/// collector sits above discovery because it plans its second round with discovery's pure
/// functions (which CNI runs, which logs matter).
const LAYERS: &[&str] = &[
    "cidr", "model", "parse", "report", "discover", "collect", "checks", "explain", "analyze",
    "practice", "render", "cli", "app",
];

/// Modules whose code is pure analysis or rendering: they must never reach the collector,
/// the command line or the run (only the collector touches the network).
const PURE: &[&str] = &[
    "cidr", "model", "parse", "report", "discover", "checks", "explain", "analyze", "practice",
    "render",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (module, file) -> the other top-level modules it names as `crate::x`.
fn edges() -> BTreeMap<(String, String), BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let re = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = rel.split(['/', '.']).next().unwrap().to_string();
        if !LAYERS.contains(&module.as_str()) {
            continue; // lib.rs, main.rs, bin/
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let used: BTreeSet<String> = re
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .filter(|m| *m != module && LAYERS.contains(&m.as_str()))
            .collect();
        out.insert((module, rel), used);
    }
    out
}

#[test]
fn every_top_level_module_is_in_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for e in std::fs::read_dir(&src).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        let stem = name.trim_end_matches(".rs");
        if ["lib", "main", "bin"].contains(&stem) {
            continue;
        }
        assert!(
            LAYERS.contains(&stem),
            "src/{name} is not placed in tests/architecture.rs LAYERS (nor in docs/architecture.md)"
        );
    }
}

#[test]
fn modules_use_only_lower_layers() {
    let rank = |m: &str| LAYERS.iter().position(|x| *x == m).unwrap();
    let mut bad = Vec::new();
    for ((module, file), used) in edges() {
        for u in used {
            if rank(&u) > rank(&module) {
                bad.push(format!(
                    "src/{file} ({module}) uses crate::{u}, a higher layer"
                ));
            }
            if PURE.contains(&module.as_str()) && !PURE.contains(&u.as_str()) {
                bad.push(format!("src/{file} ({module}) is pure but uses crate::{u}"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
