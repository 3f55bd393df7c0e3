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
fn completion_scripts_name_every_subcommand_and_complete_in_their_shells() {
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
    // Loaded into the shell, each script completes a subcommand and an enumerated value.
    let dir = scratch("completion");
    let want_sub: Vec<String> = subcommands()
        .into_iter()
        .filter(|s| s.starts_with("ser"))
        .collect();
    let want_fail_on = ["error", "info", "never", "warning"];
    let script = dir.join("netcheck.bash");
    std::fs::write(&script, netcheck(&["completion", "bash"]).stdout).unwrap();
    let bash = |words: &str, cword: usize| {
        let prog = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
             COMP_POINT=${{#COMP_LINE}}; _netcheck netcheck \"${{COMP_WORDS[$COMP_CWORD]}}\" \
             \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = succeeds(Command::new("bash").arg("-c").arg(prog));
        let mut v: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(bash("netcheck ser", 1), want_sub);
    assert_eq!(bash("netcheck services --fail-on ''", 3), want_fail_on);
    // zsh and fish too: .ci/run installs them; a machine without them fails here, saying so.
    for shell in ["zsh", "fish"] {
        assert!(
            has(shell),
            "this test needs {shell} (apt-get install zsh fish; .ci/run installs them)"
        );
    }
    {
        let script = dir.join("_netcheck");
        std::fs::write(&script, netcheck(&["completion", "zsh"]).stdout).unwrap();
        succeeds(Command::new("zsh").arg("-n").arg(&script));
    }
    {
        let script = dir.join("netcheck.fish");
        std::fs::write(&script, netcheck(&["completion", "fish"]).stdout).unwrap();
        let fish = |line: &str| {
            let prog = format!("source {}; complete -C '{line}'", script.display());
            let out = succeeds(Command::new("fish").arg("-c").arg(prog));
            let mut v: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| l.split('\t').next().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(fish("netcheck ser"), want_sub);
        assert_eq!(fish("netcheck services --fail-on "), want_fail_on);
    }
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
        .filter_map(|s| s.metadata.namespace.as_deref().map(String::from))
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
    assert!(
        has("kubectl"),
        "this test needs kubectl on PATH (installed on every machine of this project)"
    );
    let path = plugin_path();
    let dir = scratch("kubectl-home");
    let cluster = load(&root().join(CKA));
    let server = ApiServer::start(cluster.clone(), Options::default()).unwrap();
    let kc = kubeconfig_with_contexts(&dir, &server.url(), server.token(), &["lab", "prod"]);
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
    let (c, _) = run(&["--context", "prod", "services", "-n", ""]);
    for svc in &cluster.services {
        let ns = svc.metadata.ns().to_string();
        assert!(c.contains(&ns), "{ns} not in {c:?}");
    }
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
    assert!(
        has("man"),
        "this test needs man to render the page (apt-get install man-db; .ci/run installs it)"
    );
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
    // The exit codes of --help are in the page too (docs/usage.md says so).
    assert!(text.contains("Exit codes"), "{text}");
    for code in [netcheck::cli::EXIT_FINDINGS, netcheck::cli::EXIT_ERROR] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&code.to_string())),
            "exit code {code} missing:\n{text}"
        );
    }
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

// ---------- krew manifest ----------
//
// The rules below are krew's, read in kubernetes-sigs/krew: internal/index/validation/
// validate.go (ValidatePlugin, validatePlatform, validateFiles, validateSelector),
// internal/installation/semver/version.go (Parse: a leading v, then k8s.io's ParseSemantic),
// pkg/constants/constants.go (apiVersion, kind), and cmd/validate-krew-manifest/main.go (the
// file name gives the plugin name, .yaml; every platform's selector matches one of krew's
// os/arch pairs and no pair is matched twice). Restated here as code, not copied.

use serde_json::Value;

const KREW_API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
const WINDOWS_FORBIDDEN: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
/// The os/arch pairs validate-krew-manifest knows (allPlatforms).
const KREW_PLATFORMS: &[(&str, &str)] = &[
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];
/// krew only asks for "a few words" (developer guide, plugin-manifest.md) so that `kubectl
/// krew search` shows it whole; this bound is netcheck's reading of that, not krew code.
const SHORT_DESCRIPTION_MAX: usize = 50;

/// Semantic versioning 2.0 as k8s.io/apimachinery's ParseSemantic takes it, after krew's v.
fn krew_semver(v: &str) -> Result<(), String> {
    let rest = v
        .strip_prefix('v')
        .ok_or(format!("version {v:?} does not start with 'v'"))?;
    let re = regex::Regex::new(
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$",
    )
    .unwrap();
    if !re.is_match(rest) {
        return Err(format!("version {v:?} is not semver"));
    }
    // Numeric pre-release identifiers may not have leading zeros.
    if let Some(pre) = rest.split('+').next().unwrap().split_once('-').map(|x| x.1) {
        for id in pre.split('.') {
            if id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "version {v:?}: pre-release {id} has a leading zero"
                ));
            }
        }
    }
    Ok(())
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// metav1.LabelSelector against {os, arch}.
fn selector_matches(sel: &Value, os: &str, arch: &str) -> bool {
    let label = |k: &str| match k {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let exprs_ok = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|es| {
            es.iter().all(|e| {
                let have = label(str_of(e, "key"));
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match str_of(e, "operator") {
                    "In" => have.is_some_and(|h| values.contains(&h)),
                    "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    _ => false,
                }
            })
        });
    labels_ok && exprs_ok
}

fn validate_selector(sel: Option<&Value>) -> Result<(), String> {
    let sel = sel.filter(|s| !s.is_null()).ok_or("nil selector")?;
    let labels = sel.get("matchLabels").filter(|v| !v.is_null());
    let exprs = sel.get("matchExpressions").filter(|v| !v.is_null());
    let exprs_empty = exprs.and_then(Value::as_array).is_none_or(Vec::is_empty);
    if labels.is_none() && exprs_empty {
        return Err("empty selector".into());
    }
    let mut keys: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for e in exprs.and_then(Value::as_array).into_iter().flatten() {
        keys.push(str_of(e, "key").to_string());
        if !["In", "NotIn", "Exists", "DoesNotExist"].contains(&str_of(e, "operator")) {
            return Err(format!("operator {:?}", str_of(e, "operator")));
        }
    }
    if let Some(k) = keys.iter().find(|k| *k != "os" && *k != "arch") {
        return Err(format!("selector key {k:?} not supported"));
    }
    if labels
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty())
    {
        return Err("matchLabels specified but empty".into());
    }
    if exprs.is_some() && exprs_empty {
        return Err("matchExpressions specified but empty".into());
    }
    Ok(())
}

/// krew's checks of a manifest file named `file_name`; the first broken rule.
fn validate_krew(file_name: &str, text: &str) -> Result<(), String> {
    let p: Value = serde_saphyr::from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let name = file_name
        .strip_suffix(".yaml")
        .ok_or("manifest extension is not .yaml")?;
    if str_of(&p, "apiVersion") != KREW_API_VERSION {
        return Err(format!("apiVersion {:?}", str_of(&p, "apiVersion")));
    }
    if str_of(&p, "kind") != "Plugin" {
        return Err(format!("kind {:?}", str_of(&p, "kind")));
    }
    let safe = regex::Regex::new(r"^[\w-]+$").unwrap();
    if !safe.is_match(name)
        || WINDOWS_FORBIDDEN
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
    {
        return Err(format!("plugin name {name:?} is not allowed"));
    }
    let meta_name = p.get("metadata").map(|m| str_of(m, "name")).unwrap_or("");
    if meta_name != name {
        return Err(format!(
            "plugin should be named {name:?}, not {meta_name:?}"
        ));
    }
    let spec = p.get("spec").ok_or("no spec")?;
    let short = str_of(spec, "shortDescription");
    if short.is_empty() {
        return Err("should have a short description".into());
    }
    if short.contains(['\r', '\n']) {
        return Err("line breaks in short description".into());
    }
    if short.chars().count() > SHORT_DESCRIPTION_MAX {
        return Err(format!(
            "short description longer than {SHORT_DESCRIPTION_MAX}"
        ));
    }
    let platforms = spec
        .get("platforms")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or("should have a platform specified")?;
    let version = str_of(spec, "version");
    if version.is_empty() {
        return Err("should have a version specified".into());
    }
    krew_semver(version)?;
    let sha = regex::Regex::new("^[a-f0-9]{64}$").unwrap();
    for (i, pl) in platforms.iter().enumerate() {
        let err = |m: String| format!("platform {i}: {m}");
        if str_of(pl, "uri").is_empty() {
            return Err(err("`uri` has to be set".into()));
        }
        if !sha.is_match(str_of(pl, "sha256")) {
            return Err(err(format!(
                "`sha256` {:?} is not valid",
                str_of(pl, "sha256")
            )));
        }
        if str_of(pl, "bin").is_empty() {
            return Err(err("`bin` has to be set".into()));
        }
        match pl.get("files").filter(|f| !f.is_null()) {
            None => {}
            Some(Value::Array(ops))
                if ops
                    .iter()
                    .any(|o| str_of(o, "from").is_empty() || str_of(o, "to").is_empty()) =>
            {
                return Err(err("`files` needs from and to".into()));
            }
            Some(Value::Array(ops)) if !ops.is_empty() => {}
            Some(_) => return Err(err("`files` has to be unspecified or non-empty".into())),
        }
        validate_selector(pl.get("selector")).map_err(err)?;
        if !KREW_PLATFORMS
            .iter()
            .any(|(os, arch)| selector_matches(&pl["selector"], os, arch))
        {
            return Err(err("selector matches no supported platform".into()));
        }
    }
    for (os, arch) in KREW_PLATFORMS {
        let n = platforms
            .iter()
            .filter(|pl| selector_matches(&pl["selector"], os, arch))
            .count();
        if n > 1 {
            return Err(format!("{n} platforms select {os}/{arch}"));
        }
    }
    Ok(())
}

fn manifest_template() -> String {
    std::fs::read_to_string(root().join("plugins/netcheck.yaml")).unwrap()
}

fn filled(template: &str) -> String {
    let mut s = template
        .replace("@VERSION@", &format!("v{}", env!("CARGO_PKG_VERSION")))
        .replace("@BASE_URL@", "https://example.invalid/releases")
        .replace("@HOMEPAGE@", "https://example.invalid/netcheck");
    for (i, key) in ["LINUX_AMD64", "LINUX_ARM64", "DARWIN_AMD64", "DARWIN_ARM64"]
        .iter()
        .enumerate()
    {
        s = s.replace(&format!("@SHA256_{key}@"), &format!("{i:x}").repeat(64));
    }
    s
}

#[test]
fn the_krew_manifest_passes_krews_rules_once_the_release_script_fills_it() {
    let template = manifest_template();
    let placeholders: BTreeSet<&str> = regex::Regex::new("@[A-Z0-9_]+@")
        .unwrap()
        .find_iter(&template)
        .map(|m| m.as_str())
        .collect();
    let script = std::fs::read_to_string(root().join(".ci/release.sh")).unwrap();
    for p in &placeholders {
        // Each placeholder is one the script fills (the hashes by their key's prefix).
        let key = p.trim_matches('@');
        let known = script.contains(&format!("@{key}@")) || key.starts_with("SHA256_");
        assert!(known, "{p} is not filled by .ci/release.sh");
    }
    let sel: Value = serde_saphyr::from_str(&filled(&template)).unwrap();
    let platforms: BTreeSet<(String, String)> = sel["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let l = &p["selector"]["matchLabels"];
            (str_of(l, "os").to_string(), str_of(l, "arch").to_string())
        })
        .collect();
    for want in [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
    ] {
        assert!(
            platforms.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} missing"
        );
    }
    assert_eq!(validate_krew("netcheck.yaml", &filled(&template)), Ok(()));
    // Unfilled, it is not a manifest krew takes; with all but the hashes filled, the
    // placeholders are not hashes.
    assert!(validate_krew("netcheck.yaml", &template).is_err());
    let v = format!("v{}", env!("CARGO_PKG_VERSION"));
    let no_hashes = template
        .replace("@VERSION@", &v)
        .replace("@BASE_URL@", "https://example.invalid");
    assert!(validate_krew("netcheck.yaml", &no_hashes)
        .unwrap_err()
        .contains("sha256"));
}

#[test]
fn a_bad_edit_of_the_krew_manifest_is_caught() {
    let good = filled(&manifest_template());
    let v = format!("v{}", env!("CARGO_PKG_VERSION"));
    let edits: Vec<(&str, String, &str)> = vec![
        (
            "version without v",
            good.replace(&format!("\"{v}\""), &v[1..]),
            "start with 'v'",
        ),
        (
            "version not semver",
            good.replace(&format!("\"{v}\""), "v1.2"),
            "semver",
        ),
        (
            "wrong name",
            good.replace("name: netcheck", "name: net-check"),
            "should be named",
        ),
        (
            "short description on two lines",
            good.replace(
                "shortDescription: Explain",
                "shortDescription: |\n    Explain\n    more",
            ),
            "line breaks",
        ),
        (
            "a long short description",
            good.replace(
                "shortDescription: Explain",
                &format!("shortDescription: {} Explain", "very ".repeat(10)),
            ),
            "longer",
        ),
        (
            "a selector key krew does not know",
            good.replacen("os: linux", "platform: linux", 1),
            "not supported",
        ),
        (
            "an uppercase hash",
            good.replacen(&"0".repeat(64), &"A".repeat(64), 1),
            "sha256",
        ),
        (
            "no bin",
            good.replacen("bin: kubectl-netcheck", "bin: \"\"", 1),
            "bin",
        ),
        (
            "two platforms for one os/arch",
            good.replacen("arch: arm64", "arch: amd64", 1),
            "platforms select linux/amd64",
        ),
        (
            "an os krew does not have",
            good.replacen("os: darwin", "os: plan9", 1),
            "no supported platform",
        ),
        (
            "wrong apiVersion",
            good.replace("/v1alpha2", "/v1"),
            "apiVersion",
        ),
    ];
    for (what, text, want) in edits {
        assert_ne!(text, good, "{what}: the edit did not apply");
        let e = validate_krew("netcheck.yaml", &text).expect_err(what);
        assert!(e.contains(want), "{what}: {e}");
    }
    assert!(validate_krew("netcheck.yml", &good).is_err());
}

// ---------- release script ----------

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_release_script_packs_hashes_and_fills_a_manifest_krew_accepts() {
    // Small stand-ins for the three binaries, so the test packs bytes it knows.
    let bins = scratch("release-bins");
    let names = ["netcheck", "kubectl-netcheck", "kubectl_complete-netcheck"];
    for n in names {
        let p = bins.join(n);
        std::fs::write(&p, format!("#!/bin/sh\necho {n}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |out: &Path, extra: &[&str]| {
        Command::new("bash")
            .arg(root().join(".ci/release.sh"))
            .args([
                "--base-url",
                "https://example.invalid/rel/",
                "--homepage",
                "https://example.invalid/h",
            ])
            .args([
                "--out",
                out.to_str().unwrap(),
                "--no-build",
                "--from",
                bins.to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = scratch("release-out");
    let r = run(&out, &[]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    let manifest = std::fs::read_to_string(out.join("netcheck.yaml")).unwrap();
    assert_eq!(
        validate_krew("netcheck.yaml", &manifest),
        Ok(()),
        "{manifest}"
    );
    assert!(!manifest.contains('@'), "a placeholder is left: {manifest}");
    let m: Value = serde_saphyr::from_str(&manifest).unwrap();
    let v = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(m["spec"]["version"], v.as_str());
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert!(!platforms.is_empty());
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), platforms.len());
    for pl in platforms {
        let uri = str_of(pl, "uri");
        let file = uri.rsplit('/').next().unwrap();
        assert_eq!(uri, format!("https://example.invalid/rel/{v}/{file}"));
        let bytes = std::fs::read(out.join(file)).unwrap();
        assert_eq!(str_of(pl, "sha256"), sha256_hex(&bytes), "{file}");
        assert!(sums.contains(&format!("{}  {file}", sha256_hex(&bytes))));
        // krew links `bin` from the archive's root, where the binaries sit, executable.
        let listing = Command::new("tar")
            .arg("tzvf")
            .arg(out.join(file))
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&listing.stdout);
        for n in names {
            let line = listing
                .lines()
                .find(|l| l.split_whitespace().last() == Some(n))
                .unwrap_or_else(|| panic!("{n} not at the root of {file}: {listing}"));
            assert!(line.starts_with("-rwx"), "{line}");
        }
        assert_eq!(str_of(pl, "bin"), "kubectl-netcheck");
        // krew's index wants the license inside the archive.
        assert!(
            listing
                .lines()
                .any(|l| l.split_whitespace().last() == Some("LICENSE")),
            "no LICENSE in {file}: {listing}"
        );
    }
    // The same binaries give the same archives.
    let again = scratch("release-again");
    assert!(run(&again, &[]).status.success());
    assert_eq!(
        std::fs::read_to_string(again.join("SHA256SUMS")).unwrap(),
        sums
    );
    // Bad arguments are named, exit 2.
    let r = run(&scratch("release-bad"), &["--base-url", "ftp://x"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("ftp://x"));
}

// ---------- container image ----------

#[test]
fn the_dockerfile_builds_the_static_nonroot_image_that_deploy_job_yaml_runs() {
    let df = std::fs::read_to_string(root().join("deploy/Dockerfile")).unwrap();
    // Instructions, continuation lines joined, comments dropped.
    let joined = df.replace("\\\n", " ");
    let lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let (build, last) = lines.split_at(last_from);
    let base = last[0].split_whitespace().nth(1).unwrap();
    assert!(
        base == "scratch" || base.starts_with("gcr.io/distroless/static"),
        "not a minimal base without a C library: {base}"
    );
    assert!(
        build.iter().any(|l| l.contains("linux-musl")),
        "the binary is not built for musl (static)"
    );
    let instr = |name: &str| {
        last.iter()
            .find_map(|l| l.strip_prefix(name).map(str::trim))
            .unwrap_or_else(|| panic!("no {name} in the final stage"))
    };
    let user = instr("USER ");
    let (uid, gid) = user.split_once(':').unwrap_or((user, user));
    let uid: i64 = uid.parse().expect("numeric USER");
    let gid: i64 = gid.parse().expect("numeric group");
    assert_ne!(uid, 0);
    let entrypoint: Vec<String> = serde_json::from_str(instr("ENTRYPOINT ")).unwrap();
    let cmd: Vec<String> = serde_json::from_str(instr("CMD ")).unwrap();
    let copied = instr("COPY ").split_whitespace().last().unwrap();
    assert_eq!(entrypoint, [copied]);

    let job: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("deploy/job.yaml")).unwrap())
            .unwrap();
    let pod = &job["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["command"], serde_json::json!(entrypoint));
    // `docker run IMAGE` does what the Job does: its args are the image's CMD.
    assert_eq!(c["args"], serde_json::json!(cmd));
    assert_eq!(pod["securityContext"]["runAsUser"], uid);
    assert_eq!(pod["securityContext"]["runAsGroup"], gid);
    // The report goes to stdout, which is what `kubectl logs job/netcheck` shows: no file.
    let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
    assert!(!args.contains(&"snapshot"), "{args:?}");
    let r = netcheck(
        &[
            args.as_slice(),
            &["--snapshot", &root().join(CKA).to_string_lossy()],
        ]
        .concat(),
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    report(&r);

    // What the build needs is not in the ignore file: every path Cargo.toml names.
    let ignore = std::fs::read_to_string(root().join("deploy/Dockerfile.dockerignore")).unwrap();
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let needed = regex::Regex::new(r#"path = "([^"]+)""#).unwrap();
    let mut paths: Vec<String> = needed
        .captures_iter(&toml)
        .map(|c| c[1].to_string())
        .collect();
    paths.extend(["Cargo.toml", "Cargo.lock", "src/lib.rs"].map(String::from));
    for p in paths {
        let hit = ignored
            .iter()
            .find(|i| p == **i || p.starts_with(&format!("{i}/")));
        assert!(
            hit.is_none(),
            "{p} is needed by the build but ignored by {hit:?}"
        );
    }
}
