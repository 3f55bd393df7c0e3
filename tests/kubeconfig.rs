//! How netcheck finds and trusts the API server: kubeconfig files (as kubectl resolves them)
//! and the in-cluster service account, over TLS with the test PKI in tests/fixtures/tls.
//! Each broken set-up is one clear line on stderr naming the problem, exit code 2, no panic,
//! within a few seconds; working set-ups answer in full.

mod common;

use common::*;
use netcheck_testkit::{apiserver::base64, ApiServer, Options, Tls};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CKA: &str = "examples/cka-lab.json";
const TOKEN: &str = "kubeconfig-test-token";
/// "Within a few seconds": --request-timeout 2s plus generous slack for a loaded machine.
const BOUND: Duration = Duration::from_secs(12);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/tls").join(name)).unwrap()
}

fn tls_server() -> ApiServer {
    let opts = Options {
        tls: Some(Tls {
            cert_pem: fixture("server.crt"),
            key_pem: fixture("server.key"),
            ca_pem: Some(fixture("ca.crt")),
        }),
        token: Some(TOKEN.into()),
        ..Default::default()
    };
    ApiServer::start(load(&root().join(CKA)), opts).unwrap()
}

/// A kubeconfig with one cluster (server plus extra cluster fields), one user (YAML lines
/// under `user:`), and a current context joining them.
fn kubeconfig(dir: &Path, server: &str, cluster_extra: &str, user: &str) -> PathBuf {
    let p = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{cluster_extra}\
         contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\ncurrent-context: ctx\n\
         users:\n- name: u\n  user:\n{user}"
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn ca_data(pem: &[u8]) -> String {
    format!("    certificate-authority-data: {}\n", base64(pem))
}

fn token_user(token: &str) -> String {
    format!("    token: {token}\n")
}

/// The binary with a clean environment: no KUBECONFIG, an empty HOME, not in a cluster,
/// plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> (Run, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netcheck"));
    cmd.args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("NETCHECK_SERVICEACCOUNT_DIR")
        .env("HOME", scratch("home"))
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = Instant::now();
    let out = cmd.output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (r, t.elapsed())
}

/// Exit 2, nothing on stdout, one line on stderr containing every `want`.
fn assert_one_clear_line(case: &str, (r, took): &(Run, Duration), want: &[&str]) {
    assert!(!r.stderr.contains("panicked"), "{case}: {}", r.stderr);
    assert_eq!(r.code, 2, "{case}: {}", r.stderr);
    assert!(r.stdout.is_empty(), "{case}: {}", r.stdout);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{case}: {}", r.stderr);
    assert!(
        r.stderr.starts_with("netcheck: error: "),
        "{case}: {}",
        r.stderr
    );
    for w in want {
        assert!(r.stderr.contains(w), "{case}: want {w:?} in: {}", r.stderr);
    }
    assert!(*took < BOUND, "{case}: took {took:?}");
}

fn report_args(kc: &Path) -> Vec<String> {
    [
        "report",
        "-o",
        "json",
        "--request-timeout",
        "2s",
        "--kubeconfig",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([kc.to_string_lossy().into_owned()])
    .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The CKA lab's answers (tests/scenarios/cka-lab/expected.json), complete.
fn assert_full_answers(r: &Run) {
    // The lab's pending LoadBalancer is an error finding: exit 1, with complete answers.
    assert_eq!(r.code, 1, "{}", r.stderr);

    let rep = report(r);
    assert!(rep.skipped.is_empty(), "{:?}", rep.skipped);
    let exp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/scenarios/cka-lab/expected.json")).unwrap(),
    )
    .unwrap();
    let c = rep.cidrs.unwrap();
    for (got, key) in [(&c.pod_cidr, "podCidr"), (&c.service_cidr, "serviceCidr")] {
        let cidrs: Vec<String> = got.cidrs.iter().map(|c| c.to_string()).collect();
        let want: Vec<String> = serde_json::from_value(exp[key]["cidrs"].clone()).unwrap();
        assert_eq!(cidrs, want, "{key}");
    }
    let p = rep.proxy.unwrap();
    assert_eq!(
        p.configured_mode.as_deref(),
        exp["proxy"]["configuredMode"].as_str()
    );
    assert_eq!(
        p.nodes.len(),
        exp["proxy"]["nodes"].as_object().unwrap().len()
    );
}

// ---------- kubeconfig over TLS ----------

#[test]
fn kubeconfig_with_certificate_authority_data_works_over_tls() {
    let server = tls_server();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let dir = scratch("tls-ok");
    let kc = kubeconfig(
        &dir,
        &server.url(),
        &ca_data(&fixture("ca.crt")),
        &token_user(TOKEN),
    );
    let (r, _) = run(&args(&report_args(&kc)), &[]);
    assert_full_answers(&r);
    let reqs = server.requests();
    assert!(reqs.iter().all(|q| q.status != 401), "{reqs:?}");
    assert!(reqs.iter().any(|q| q.path == "/api/v1/pods"));
}

#[test]
fn kubeconfig_with_a_certificate_authority_file_and_localhost_works() {
    let server = tls_server();
    let dir = scratch("tls-file");
    let ca = dir.join("ca.crt");
    std::fs::write(&ca, fixture("ca.crt")).unwrap();
    // By name this time: the certificate's DNS SAN must match too.
    let url = server.url().replace("127.0.0.1", "localhost");
    let extra = format!("    certificate-authority: {}\n", ca.display());
    let kc = kubeconfig(&dir, &url, &extra, &token_user(TOKEN));
    let (r, _) = run(&args(&report_args(&kc)), &[]);
    assert_full_answers(&r);
}

#[test]
fn server_certificate_from_another_ca_is_refused() {
    let server = tls_server();
    let dir = scratch("tls-other-ca");
    let kc = kubeconfig(
        &dir,
        &server.url(),
        &ca_data(&fixture("other-ca.crt")),
        &token_user(TOKEN),
    );
    let r = run(&args(&report_args(&kc)), &[]);
    assert_one_clear_line("unknown issuer", &r, &[&server.url(), "certificate"]);
    // Nothing was answered over the untrusted connection.
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn server_without_a_ca_in_the_kubeconfig_is_refused() {
    // No certificate-authority at all: the system roots do not know the test CA.
    let server = tls_server();
    let dir = scratch("tls-no-ca");
    let kc = kubeconfig(&dir, &server.url(), "", &token_user(TOKEN));
    let r = run(&args(&report_args(&kc)), &[]);
    assert_one_clear_line("no CA", &r, &[&server.url(), "certificate"]);
}

#[test]
fn garbage_certificate_authority_data_is_named() {
    let server = tls_server();
    let cases = [
        // Not base64 at all.
        (
            "not base64",
            "    certificate-authority-data: '!!not base64!!'\n".to_string(),
        ),
        // Base64 of something that is not a PEM certificate.
        ("not a certificate", ca_data(b"this is not a certificate")),
        // A PEM block whose body is garbage.
        (
            "broken PEM",
            ca_data(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ),
    ];
    for (case, extra) in cases {
        let dir = scratch("tls-garbage");
        let kc = kubeconfig(&dir, &server.url(), &extra, &token_user(TOKEN));
        let r = run(&args(&report_args(&kc)), &[]);
        assert_one_clear_line(case, &r, &["certificate"]);
    }
}

#[test]
fn wrong_token_is_rejected_credentials_exit_2() {
    let server = tls_server();
    let dir = scratch("tls-401");
    let kc = kubeconfig(
        &dir,
        &server.url(),
        &ca_data(&fixture("ca.crt")),
        &token_user("wrong"),
    );
    let r = run(&args(&report_args(&kc)), &[]);
    assert_one_clear_line("401", &r, &["rejected the credentials", "401"]);
}

// ---------- exec plugins ----------

#[test]
fn exec_plugin_that_fails_is_named_with_its_message() {
    let server = tls_server();
    let dir = scratch("exec-fail");
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      \
                args: [\"-c\", \"echo half-written-secret; echo 'login expired: run sso-login' >&2; exit 1\"]\n      \
                interactiveMode: Never\n";
    let kc = kubeconfig(&dir, &server.url(), &ca_data(&fixture("ca.crt")), user);
    let r = run(&args(&report_args(&kc)), &[]);
    assert_one_clear_line(
        "exec exit 1",
        &r,
        &["/bin/sh", "exit status: 1", "login expired: run sso-login"],
    );
    // What the plugin wrote to stdout is where a credential would be: never echoed.
    assert!(
        !r.0.stderr.contains("half-written-secret"),
        "{}",
        r.0.stderr
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn exec_plugin_that_does_not_exist_is_named() {
    let server = tls_server();
    let dir = scratch("exec-missing");
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      \
                command: netcheck-no-such-credential-plugin\n      interactiveMode: Never\n";
    let kc = kubeconfig(&dir, &server.url(), &ca_data(&fixture("ca.crt")), user);
    let r = run(&args(&report_args(&kc)), &[]);
    assert_one_clear_line("exec missing", &r, &["netcheck-no-such-credential-plugin"]);
}

#[test]
fn exec_plugin_that_works_gives_full_answers() {
    let server = tls_server();
    let dir = scratch("exec-ok");
    let cred = format!(
        "{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}"
    );
    let user = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      \
         args: [\"-c\", {}]\n      interactiveMode: Never\n",
        serde_json::to_string(&format!("echo '{cred}'")).unwrap()
    );
    let kc = kubeconfig(&dir, &server.url(), &ca_data(&fixture("ca.crt")), &user);
    let (r, _) = run(&args(&report_args(&kc)), &[]);
    assert_full_answers(&r);
}

// ---------- files, contexts, servers ----------

#[test]
fn missing_kubeconfig_file_is_named() {
    let dir = scratch("kc-missing");
    let missing = dir.join("no-such-kubeconfig");
    let m = missing.to_str().unwrap();
    let r = run(&["report", "--kubeconfig", m], &[]);
    assert_one_clear_line("--kubeconfig", &r, &[m]);
    // The same through KUBECONFIG.
    let r = run(&["report"], &[("KUBECONFIG", m)]);
    assert_one_clear_line("KUBECONFIG", &r, &[m]);
}

#[test]
fn missing_context_is_named() {
    let server = tls_server();
    let dir = scratch("kc-context");
    let kc = kubeconfig(
        &dir,
        &server.url(),
        &ca_data(&fixture("ca.crt")),
        &token_user(TOKEN),
    );
    let k = kc.to_str().unwrap();
    let r = run(
        &["report", "--kubeconfig", k, "--context", "no-such-ctx"],
        &[],
    );
    assert_one_clear_line("--context", &r, &["no-such-ctx"]);
    // A current-context that names nothing.
    let text = std::fs::read_to_string(&kc)
        .unwrap()
        .replace("current-context: ctx", "current-context: gone-ctx");
    std::fs::write(&kc, text).unwrap();
    let r = run(&["report", "--kubeconfig", k], &[]);
    assert_one_clear_line("current-context", &r, &["gone-ctx"]);
    assert!(server.requests().is_empty());
}

#[test]
fn context_without_any_kubeconfig_is_an_error_not_in_cluster_use() {
    let r = run(&["report", "--context", "prod"], &[]);
    assert_one_clear_line("--context only", &r, &["prod", "kubeconfig"]);
}

#[test]
fn kubeconfig_that_is_not_yaml_is_named() {
    let dir = scratch("kc-garbage");
    let p = dir.join("kubeconfig");
    std::fs::write(&p, "clusters: [\n  - {{{\n").unwrap();
    let k = p.to_str().unwrap();
    let r = run(&["report", "--kubeconfig", k], &[]);
    assert_one_clear_line("not YAML", &r, &[k]);
}

#[test]
fn unreachable_servers_are_named_within_the_request_timeout() {
    let dir = scratch("kc-unreachable");
    for server in [
        // Refused: nothing listens on the discard port.
        "https://127.0.0.1:9",
        // A name that cannot resolve (.invalid is reserved for that).
        "https://api.netcheck.invalid:6443",
    ] {
        let kc = kubeconfig(
            &dir,
            server,
            &ca_data(&fixture("ca.crt")),
            &token_user(TOKEN),
        );
        let r = run(&args(&report_args(&kc)), &[]);
        assert_one_clear_line(server, &r, &["cannot reach the API server", server]);
    }
}

#[test]
fn no_kubeconfig_and_not_in_a_cluster_says_what_was_tried() {
    let r = run(&["report"], &[]);
    assert_one_clear_line(
        "nothing",
        &r,
        &[
            "KUBECONFIG",
            "~/.kube/config",
            "KUBERNETES_SERVICE_HOST",
            "--snapshot",
        ],
    );
}

#[test]
fn home_kube_config_is_used_when_there_is_no_flag_or_env() {
    let server = tls_server();
    let home = scratch("home-kc");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    let kc = kubeconfig(
        &home.join(".kube"),
        &server.url(),
        &ca_data(&fixture("ca.crt")),
        &token_user(TOKEN),
    );
    std::fs::rename(&kc, home.join(".kube/config")).unwrap();
    let (r, _) = run(
        &["report", "-o", "json"],
        &[("HOME", home.to_str().unwrap())],
    );
    assert_full_answers(&r);
}

// ---------- in-cluster ----------

/// A service-account directory as the kubelet mounts it.
fn service_account(token: &str, ca: &[u8]) -> PathBuf {
    let d = scratch("serviceaccount");
    std::fs::write(d.join("token"), token).unwrap();
    std::fs::write(d.join("ca.crt"), ca).unwrap();
    std::fs::write(d.join("namespace"), "netcheck").unwrap();
    d
}

fn in_cluster_env(server: &ApiServer, sa: &Path) -> Vec<(String, String)> {
    let port = server.url().rsplit(':').next().unwrap().to_string();
    vec![
        ("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into()),
        ("KUBERNETES_SERVICE_PORT".into(), port),
        (
            "NETCHECK_SERVICEACCOUNT_DIR".into(),
            sa.to_string_lossy().into_owned(),
        ),
    ]
}

fn run_in_cluster(args: &[&str], env: &[(String, String)]) -> (Run, Duration) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run(args, &env)
}

#[test]
fn in_cluster_service_account_gives_full_answers() {
    let server = tls_server();
    let sa = service_account(TOKEN, &fixture("ca.crt"));
    let (r, _) = run_in_cluster(&["report", "-o", "json"], &in_cluster_env(&server, &sa));
    assert_full_answers(&r);
    let rep = report(&r);
    assert_eq!(rep.source.mode, "live");
    assert_eq!(
        rep.source.server.as_deref(),
        Some(format!("{}/", server.url()).as_str())
    );
}

#[test]
fn in_cluster_token_is_read_without_its_trailing_newline() {
    let server = tls_server();
    let sa = service_account(&format!("{TOKEN}\n"), &fixture("ca.crt"));
    let (r, _) = run_in_cluster(&["report", "-o", "json"], &in_cluster_env(&server, &sa));
    assert_full_answers(&r);
}

#[test]
fn in_cluster_wrong_token_is_rejected_credentials_exit_2() {
    let server = tls_server();
    let sa = service_account("not-the-token", &fixture("ca.crt"));
    let r = run_in_cluster(&["report"], &in_cluster_env(&server, &sa));
    assert_one_clear_line("401", &r, &["rejected the credentials", "401"]);
}

#[test]
fn in_cluster_ca_that_did_not_sign_the_server_is_refused() {
    let server = tls_server();
    let sa = service_account(TOKEN, &fixture("other-ca.crt"));
    let r = run_in_cluster(
        &["report", "--request-timeout", "2s"],
        &in_cluster_env(&server, &sa),
    );
    assert_one_clear_line("other CA", &r, &["certificate"]);
}

#[test]
fn in_cluster_broken_set_ups_are_named() {
    let server = tls_server();
    let good = in_cluster_env(&server, &service_account(TOKEN, &fixture("ca.crt")));
    let with = |k: &str, v: Option<&str>| -> Vec<(String, String)> {
        let mut e: Vec<_> = good.iter().filter(|(x, _)| x != k).cloned().collect();
        if let Some(v) = v {
            e.push((k.into(), v.into()));
        }
        e
    };
    // No token file.
    let sa = service_account(TOKEN, &fixture("ca.crt"));
    std::fs::remove_file(sa.join("token")).unwrap();
    let e = with("NETCHECK_SERVICEACCOUNT_DIR", Some(sa.to_str().unwrap()));
    let r = run_in_cluster(&["report"], &e);
    assert_one_clear_line("no token", &r, &["token", sa.to_str().unwrap()]);
    // No ca.crt.
    let sa = service_account(TOKEN, &fixture("ca.crt"));
    std::fs::remove_file(sa.join("ca.crt")).unwrap();
    let e = with("NETCHECK_SERVICEACCOUNT_DIR", Some(sa.to_str().unwrap()));
    let r = run_in_cluster(&["report"], &e);
    assert_one_clear_line("no ca.crt", &r, &["ca.crt"]);
    // A ca.crt without a certificate in it.
    let sa = service_account(TOKEN, b"garbage\n");
    let e = with("NETCHECK_SERVICEACCOUNT_DIR", Some(sa.to_str().unwrap()));
    let r = run_in_cluster(&["report"], &e);
    assert_one_clear_line("garbage ca.crt", &r, &["ca.crt", "certificate"]);
    // The host without the port: client-go needs both.
    let r = run_in_cluster(&["report"], &with("KUBERNETES_SERVICE_PORT", None));
    assert_one_clear_line("no port", &r, &["KUBERNETES_SERVICE_PORT"]);
    let r = run_in_cluster(&["report"], &with("KUBERNETES_SERVICE_PORT", Some("https")));
    assert_one_clear_line("bad port", &r, &["KUBERNETES_SERVICE_PORT", "https"]);
}

#[test]
fn a_kubeconfig_wins_over_the_in_cluster_service_account() {
    // Like kubectl: an explicit kubeconfig is used even inside a pod.
    let server = tls_server();
    let sa = service_account("not-the-token", &fixture("ca.crt"));
    let dir = scratch("kc-wins");
    let kc = kubeconfig(
        &dir,
        &server.url(),
        &ca_data(&fixture("ca.crt")),
        &token_user(TOKEN),
    );
    let (r, _) = run_in_cluster(
        &["report", "-o", "json", "--kubeconfig", kc.to_str().unwrap()],
        &in_cluster_env(&server, &sa),
    );
    assert_full_answers(&r);
}
