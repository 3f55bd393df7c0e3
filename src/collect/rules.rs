//! Rule dumps: files named with --rules NODE=FILE, and with --on-node this host's own tables,
//! read by running the dump tools (read-only: -save and list commands only).

use super::Fatal;
use crate::model::{CollectError, RuleSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Larger than any real dump (100,000 Services is about 200 MB of iptables-save).
const MAX_DUMP: u64 = 1 << 30;

pub fn read_files(files: &[(String, PathBuf)]) -> Result<Vec<RuleSet>, Fatal> {
    files
        .iter()
        .map(|(node, path)| {
            let what = format!("--rules {node}={}", path.display());
            let meta = std::fs::metadata(path).map_err(|e| Fatal(format!("{what}: cannot read the file: {e}")))?;
            if meta.len() > MAX_DUMP {
                return Err(Fatal(format!("{what}: {} bytes is larger than any rule dump ({MAX_DUMP} bytes at most)", meta.len())));
            }
            let bytes = std::fs::read(path).map_err(|e| Fatal(format!("{what}: cannot read the file: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Fatal(format!("{what}: not text; expected the output of iptables-save, nft list ruleset or ipvsadm -Ln"))
            })?;
            Ok(RuleSet { node: node.clone(), source: path.display().to_string(), text })
        })
        .collect()
}

/// The dump tools run on this host, and what each is called in the answers.
const TOOLS: &[&[&str]] = &[
    &["iptables-save"],
    &["ip6tables-save"],
    &["nft", "list", "ruleset"],
    &["ipvsadm-save", "-n"],
];

/// This host's rule dumps, named after the node (NODE_NAME, else the host name).
pub fn on_node(errors: &mut Vec<CollectError>) -> Vec<RuleSet> {
    let node = std::env::var("NODE_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "this-node".into());
    let mut out = Vec::new();
    // A node has the tools of its mode only: a missing one matters only if none answered.
    let mut absent = Vec::new();
    for argv in TOOLS {
        let cmd = argv.join(" ");
        let what = format!("rules: {cmd}");
        match run(argv, Duration::from_secs(30)) {
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => out.push(RuleSet {
                node: node.clone(),
                source: cmd,
                text,
            }),
            Err(Run::Absent(reason)) => absent.push(CollectError {
                what,
                reason,
                needs: None,
            }),
            Err(Run::Failed(reason)) => errors.push(CollectError {
                what,
                reason,
                needs: None,
            }),
        }
    }
    if out.is_empty() {
        errors.extend(absent);
    }
    out
}

enum Run {
    Absent(String),
    Failed(String),
}

fn run(argv: &[&str], limit: Duration) -> Result<String, Run> {
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Run::Absent(format!("{} is not installed", argv[0])),
            _ => Run::Failed(format!("cannot run {}: {e}", argv[0])),
        })?;
    // Read on threads so that a big dump cannot fill the pipe while we wait.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Run::Failed(format!(
                    "{} did not finish within {}s",
                    argv[0],
                    limit.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Run::Failed(format!("{}: {e}", argv[0]))),
        }
    };
    let stdout = out
        .join()
        .map_err(|_| Run::Failed("reader failed".into()))?
        .map_err(|e| Run::Failed(e.to_string()))?;
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let msg = String::from_utf8_lossy(&stderr);
        if msg.contains("Can't initialize ipvs") {
            return Err(Run::Absent("ipvs is not available in this kernel".into()));
        }
        return Err(Run::Failed(format!(
            "{} failed ({status}): {}",
            argv[0],
            msg.trim()
        )));
    }
    String::from_utf8(stdout)
        .map_err(|_| Run::Failed(format!("{} printed something that is not text", argv[0])))
}
