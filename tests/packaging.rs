//! How netcheck is installed and met outside a cluster run (issue #14): shell completion (its
//! scripts, and the executable kubectl runs for `kubectl netcheck <TAB>`, also through the
//! real kubectl), the man page, `--version`, the krew manifest and the release script that
//! fills it, and the container image that deploy/job.yaml runs.

mod common;

use clap::CommandFactory;
use common::*;
use netcheck_testkit::{ApiServer, Options};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CKA: &str = "examples/cka-lab.json";

fn complete_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl_complete-netcheck")
}

/// The subcommands a user can type, from the clap definitions (not from any output).
fn subcommands() -> Vec<String> {
    netcheck::cli::Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect()
}

/// Runs `c` and fails the test, with its stderr, unless it exits 0.
fn succeeds(c: &mut Command) -> std::process::Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn has(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

// ---------- completion scripts ----------

#[test]
fn completion_scripts_name_every_subcommand_and_bash_parses_its_own() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = netcheck(&["completion", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        for sub in subcommands() {
            assert!(r.stdout.contains(&sub), "{shell} script lacks {sub}");
        }
        for flag in ["context", "namespace", "snapshot"] {
            // fish names long flags as `-l NAME`, the others as `--NAME`.
            let form = match shell {
                "fish" => format!("-l {flag}"),
                _ => format!("--{flag}"),
            };
            assert!(r.stdout.contains(&form), "{shell} script lacks {form}");
        }
    }
    let script = scratch("completion").join("netcheck.bash");
    std::fs::write(&script, netcheck(&["completion", "bash"]).stdout).unwrap();
    succeeds(Command::new("bash").arg("-n").arg(&script));
}

#[test]
fn a_shell_that_is_not_one_is_a_clear_error() {
    let r = netcheck(&["completion", "tcsh"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tcsh"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

// ---------- kubectl_complete-netcheck ----------

struct Completed {
    candidates: Vec<String>,
    directive: u32,
    stderr: String,
}

fn parse_completion(stdout: &str) -> (Vec<String>, u32) {
    let mut lines: Vec<&str> = stdout.lines().collect();
    let last = lines.pop().unwrap_or_default();
    let directive = last
        .strip_prefix(':')
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no :DIRECTIVE last line in {stdout:?}"));
    let candidates = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    (candidates, directive)
}

/// As kubectl runs it: the words after `kubectl netcheck`, the last one the word being
/// completed; stdin and the environment passed on.
fn complete_with(words: &[&str], env: &[(&str, &Path)]) -> Completed {
    let mut c = Command::new(complete_bin());
    c.args(words)
        .env_remove("KUBECONFIG")
        .env("HOME", scratch("home"));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{words:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (candidates, directive) = parse_completion(&stdout);
    Completed {
        candidates,
        directive,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn complete(words: &[&str]) -> Completed {
    complete_with(words, &[])
}

const NO_FILE_COMP: u32 = 4;

#[test]
fn subcommands_complete_from_the_clap_definitions() {
    let c = complete(&[""]);
    let want: BTreeSet<String> = subcommands().into_iter().collect();
    let got: BTreeSet<String> = c.candidates.iter().cloned().collect();
    assert!(want.is_subset(&got), "{got:?} lacks some of {want:?}");
    assert_eq!(c.directive, NO_FILE_COMP);

    let c = complete(&["se"]);
    let want: Vec<String> = subcommands()
        .into_iter()
        .filter(|s| s.starts_with("se"))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(c.candidates, want);
}

#[test]
fn flags_of_the_subcommand_and_the_global_ones_complete() {
    let c = complete(&["services", "-"]);
    for f in [
        "-n",
        "--namespace",
        "-A",
        "--all-namespaces",
        "--context",
        "--snapshot",
    ] {
        assert!(
            c.candidates.iter().any(|x| x == f),
            "{f} not in {:?}",
            c.candidates
        );
    }
    // --exec-rules is global too, but trace's --port is not services'.
    assert!(!c.candidates.iter().any(|x| x == "--port"));
    let c = complete(&["trace", "x", "--po"]);
    assert_eq!(c.candidates, ["--port"]);
}

#[test]
fn values_of_enumerated_flags_complete_and_file_flags_leave_it_to_the_shell() {
    let c = complete(&["cidrs", "--fail-on", ""]);
    let want: Vec<String> = ["error", "warning", "info", "never"]
        .map(String::from)
        .to_vec();
    assert_eq!(c.candidates, want);
    let c = complete(&["cidrs", "--color=a"]);
    assert_eq!(c.candidates, ["--color=auto", "--color=always"]);
    let c = complete(&["--snapshot", ""]);
    assert!(c.candidates.is_empty());
    assert_eq!(c.directive, 0, "files: the shell's default completion");
    let c = complete(&["--dump", ""]);
    assert_eq!(c.directive, 16, "directories only");
}

fn kubeconfig_with_contexts(dir: &Path, server: &str, token: &str, names: &[&str]) -> PathBuf {
    let mut s = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n\
         users:\n- name: u\n  user:\n    token: {token}\ncontexts:\n"
    );
    for n in names {
        s.push_str(&format!(
            "- name: {n}\n  context:\n    cluster: c\n    user: u\n"
        ));
    }
    s.push_str(&format!("current-context: {}\n", names[0]));
    let p = dir.join("kubeconfig");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn contexts_complete_from_the_kubeconfig_netcheck_would_use() {
    let dir = scratch("contexts");
    let kc = kubeconfig_with_contexts(
        &dir,
        "http://127.0.0.1:9",
        "t",
        &["prod-eu", "prod-us", "lab"],
    );
    let c = complete_with(&["--context", "prod"], &[("KUBECONFIG", &kc)]);
    assert_eq!(c.candidates, ["prod-eu", "prod-us"]);
    assert_eq!(c.directive, NO_FILE_COMP);
    // --kubeconfig on the line wins over KUBECONFIG, as it does for a run.
    let other = scratch("contexts-other");
    let kc2 = kubeconfig_with_contexts(&other, "http://127.0.0.1:9", "t", &["staging"]);
    let c = complete_with(
        &[
            "--kubeconfig",
            kc2.to_str().unwrap(),
            "services",
            "--context",
            "",
        ],
        &[("KUBECONFIG", &kc)],
    );
    assert_eq!(c.candidates, ["staging"]);
}

#[test]
fn namespaces_complete_from_the_live_cluster() {
    let cluster = load(&root().join(CKA));
    let server = ApiServer::start(cluster.clone(), Options::default()).unwrap();
    let dir = scratch("ns");
    let kc = kubeconfig_with_contexts(&dir, &server.url(), server.token(), &["lab"]);
    let c = complete_with(&["services", "-n", ""], &[("KUBECONFIG", &kc)]);
    assert!(c.stderr.is_empty(), "{}", c.stderr);
    let got: BTreeSet<&str> = c.candidates.iter().map(String::as_str).collect();
    for s in &cluster.services {
        let ns = s.metadata.namespace.as_deref().unwrap();
        assert!(got.contains(ns), "{ns} not in {got:?}");
    }
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "completion only reads"
    );
    let c = complete_with(&["services", "--namespace=kube-"], &[("KUBECONFIG", &kc)]);
    assert_eq!(c.candidates, ["--namespace=kube-system"]);
}

#[test]
fn namespaces_complete_from_a_snapshot_typed_on_the_line() {
    let cka = root().join(CKA);
    let c = complete(&["--snapshot", cka.to_str().unwrap(), "services", "-n", ""]);
    let cluster = load(&cka);
    let want: BTreeSet<String> = cluster
        .services
        .iter()
        .filter_map(|s| s.metadata.namespace.clone())
        .collect();
    let got: BTreeSet<String> = c.candidates.into_iter().collect();
    assert!(want.is_subset(&got), "{want:?} not in {got:?}");
}

#[test]
fn a_broken_or_unreachable_cluster_completes_nothing_quietly_and_quickly() {
    let dir = scratch("broken");
    // Nothing listens on the discard port; the kubeconfig below it is not YAML.
    let down = kubeconfig_with_contexts(&dir, "http://127.0.0.1:9", "t", &["down"]);
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, "{{{ not a kubeconfig").unwrap();
    let missing = dir.join("missing");
    for (kc, words) in [
        (&down, vec!["services", "-n", ""]),
        (&garbage, vec!["services", "-n", ""]),
        (&garbage, vec!["--context", ""]),
        (&missing, vec!["--context", ""]),
    ] {
        let t = Instant::now();
        let c = complete_with(&words, &[("KUBECONFIG", kc)]);
        assert!(c.candidates.is_empty(), "{:?}", c.candidates);
        assert!(
            c.stderr.is_empty(),
            "stderr reaches the user's prompt: {}",
            c.stderr
        );
        assert_eq!(c.directive, NO_FILE_COMP);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }
    // A server that never answers is cut at the completion time limit.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    let kc = kubeconfig_with_contexts(&scratch("silent"), &silent, "t", &["silent"]);
    let t = Instant::now();
    let c = complete_with(&["services", "-n", ""], &[("KUBECONFIG", &kc)]);
    assert!(c.candidates.is_empty() && c.stderr.is_empty());
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    drop(listener);
}

/// A directory with the plugin and its completion executable, as krew's bin directory holds
/// them, to put first on PATH.
fn plugin_path() -> String {
    let dir = scratch("plugin-bin");
    let bins = [
        ("kubectl-netcheck", env!("CARGO_BIN_EXE_kubectl-netcheck")),
        ("kubectl_complete-netcheck", complete_bin()),
    ];
    for (name, bin) in bins {
        std::os::unix::fs::symlink(bin, dir.join(name)).unwrap();
    }
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn the_real_kubectl_completes_kubectl_netcheck_through_the_completion_executable() {
    if !has("kubectl") {
        eprintln!("kubectl is not installed: skipped");
        return;
    }
    let path = plugin_path();
    let dir = scratch("kubectl-home");
    let kc = kubeconfig_with_contexts(&dir, "http://127.0.0.1:9", "t", &["lab", "prod"]);
    let run = |words: &[&str]| {
        let out = succeeds(
            Command::new("kubectl")
                .arg("__complete")
                .arg("netcheck")
                .args(words)
                .env("PATH", &path)
                .env("HOME", &dir)
                .env("KUBECONFIG", &kc),
        );
        parse_completion(&String::from_utf8(out.stdout).unwrap())
    };
    let (c, d) = run(&["ser"]);
    assert_eq!(c, ["services"]);
    assert_eq!(d, NO_FILE_COMP);
    let (c, _) = run(&["services", "--context", ""]);
    assert_eq!(c, ["lab", "prod"]);
    let (c, _) = run(&["report", "-o", ""]);
    assert!(
        c.contains(&"json".to_string()) && c.contains(&"yaml".to_string()),
        "{c:?}"
    );
}

// ---------- man page and --version ----------

#[test]
fn the_man_page_has_every_subcommand_and_renders() {
    let r = netcheck(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\n.TH "), "not roff");
    // roff writes a hyphen as \-.
    let text = r.stdout.replace("\\-", "-");
    for sub in subcommands() {
        assert!(text.contains(&sub), "man page lacks {sub}");
    }
    if !has("man") {
        eprintln!("man is not installed: rendering skipped");
        return;
    }
    let page = scratch("man").join("netcheck.1");
    std::fs::write(&page, &r.stdout).unwrap();
    let out = succeeds(
        Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Rendered, not echoed: section headings without their roff macros.
    assert!(text.contains("SYNOPSIS") && !text.contains(".SH"), "{text}");
    assert!(text.contains("--request-timeout"), "{text}");
}

#[test]
fn version_names_the_kubernetes_api_types_and_every_api_version_read() {
    let r = netcheck(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(env!("CARGO_PKG_VERSION")));
    // The k8s-openapi feature of Cargo.toml, e.g. v1_33 -> Kubernetes 1.33.
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let feature = regex::Regex::new(r#"k8s-openapi = \{[^}]*features = \["v1_(\d+)"\]"#)
        .unwrap()
        .captures(&toml)
        .expect("k8s-openapi's v1_* feature in Cargo.toml")[1]
        .to_string();
    assert!(
        r.stdout.contains(&format!("Kubernetes 1.{feature}")),
        "{}",
        r.stdout
    );
    // Every group/version that src/collect sends a request to is listed.
    let mut paths = BTreeSet::new();
    let re = regex::Regex::new(r#""/apis/([a-z0-9.-]+)/(v[0-9a-z]+)/|"/api/(v1)/"#).unwrap();
    for e in std::fs::read_dir(root().join("src/collect")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for c in re.captures_iter(&text) {
            paths.insert(match (c.get(1), c.get(2), c.get(3)) {
                (Some(g), Some(v), _) => format!("{}/{}", g.as_str(), v.as_str()),
                _ => "core/v1".to_string(),
            });
        }
    }
    assert!(paths.len() >= 5, "{paths:?}");
    for gv in &paths {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.split_whitespace().next() == Some(gv)),
            "--version does not list {gv}:\n{}",
            r.stdout
        );
    }
    // -V stays one line, for scripts.
    let short = netcheck(&["-V"]);
    assert_eq!(short.stdout.trim().lines().count(), 1, "{}", short.stdout);
}
