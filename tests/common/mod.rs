//! Shared by the integration tests: run the real binary, parse its JSON report strictly.
#![allow(dead_code)]

use netcheck::model::Cluster;
use netcheck::report::Report;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn netcheck(args: &[&str]) -> Run {
    run_bin(env!("CARGO_BIN_EXE_netcheck"), args)
}

pub fn run_bin(bin: &str, args: &[&str]) -> Run {
    let out = Command::new(bin)
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", scratch("home"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run netcheck");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The report, deserialised with unknown fields denied: the JSON schema is public API.
pub fn report(r: &Run) -> Report {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "not a netcheck/v1 report ({e}); stderr: {}\nstdout: {}",
            r.stderr,
            &r.stdout[..r.stdout.len().min(2000)]
        )
    })
}

/// A fresh directory under cargo's per-test scratch space.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn load(path: &Path) -> Cluster {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The scenario directories under tests/scenarios (those with an expected.json), sorted.
pub fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(root().join("tests/scenarios"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.json").exists())
        .collect();
    dirs.sort();
    dirs
}
