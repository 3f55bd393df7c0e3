//! deploy/rbac.yaml and deploy/job.yaml, proven rather than trusted:
//! - the manifests are valid Kubernetes objects (typed round trip, so a misspelt field fails);
//! - the ClusterRole is read-only, names no secrets and no wildcards;
//! - with only the ClusterRole's permissions (the loopback API server answers 403 to anything
//!   its rules do not allow, as RBAC does) a full report of every scenario is complete and
//!   identical to one with full access: nothing denied, nothing skipped;
//! - every rule, resource and configmap name in it is needed: without it some scenario gets a
//!   "skipped" entry whose `needs` names what was removed (least privilege);
//! - the Job runs that report in-cluster with that ServiceAccount, and it works.

mod common;

use common::*;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use netcheck::report::{Report, Severity};
use netcheck_testkit::{ApiServer, Options, PolicyRule, Tls};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn docs(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// Deserialise as the typed Kubernetes object and back: a field the API does not have (a
/// typo) is dropped on the way, so the round trip differs from the file.
fn typed<T: DeserializeOwned + Serialize>(doc: &Value) -> T {
    let t: T = serde_json::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("not a valid {}: {e}\n{doc:#}", doc["kind"]));
    let back = serde_json::to_value(&t).unwrap();
    assert_eq!(&back, doc, "fields lost in the typed round trip");
    t
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

struct Rbac {
    namespace: Namespace,
    account: ServiceAccount,
    role: ClusterRole,
    binding: ClusterRoleBinding,
}

fn rbac() -> Rbac {
    let d = docs("deploy/rbac.yaml");
    let one = |kind: &str| {
        let v = of_kind(&d, kind);
        assert_eq!(v.len(), 1, "one {kind} in deploy/rbac.yaml");
        v[0].clone()
    };
    assert_eq!(
        d.len(),
        4,
        "Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding"
    );
    Rbac {
        namespace: typed(&one("Namespace")),
        account: typed(&one("ServiceAccount")),
        role: typed(&one("ClusterRole")),
        binding: typed(&one("ClusterRoleBinding")),
    }
}

/// The ClusterRole's rules in the testkit's authorizer form.
fn rules() -> Vec<PolicyRule> {
    let d = docs("deploy/rbac.yaml");
    let role = of_kind(&d, "ClusterRole")[0];
    serde_json::from_value(role["rules"].clone()).unwrap()
}

#[test]
fn cluster_role_is_read_only_without_secrets_or_wildcards() {
    let r = rbac();
    let rules = r.role.rules.expect("rules");
    assert!(!rules.is_empty());
    for rule in &rules {
        for v in &rule.verbs {
            assert!(
                ["get", "list"].contains(&v.as_str()),
                "verb {v} in {rule:?}"
            );
        }
        let all = rule
            .api_groups
            .iter()
            .flatten()
            .chain(rule.resources.iter().flatten())
            .chain(rule.resource_names.iter().flatten())
            .chain(rule.non_resource_urls.iter().flatten())
            .chain(&rule.verbs);
        for s in all {
            assert!(!s.contains('*'), "wildcard {s} in {rule:?}");
            assert!(!s.contains("secret"), "{s} in {rule:?}");
        }
    }
    // The binding grants exactly this role to exactly this account.
    assert_eq!(r.binding.role_ref.kind, "ClusterRole");
    assert_eq!(
        Some(&r.binding.role_ref.name),
        r.role.metadata.name.as_ref()
    );
    let subjects = r.binding.subjects.expect("subjects");
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].kind, "ServiceAccount");
    assert_eq!(Some(&subjects[0].name), r.account.metadata.name.as_ref());
    assert_eq!(subjects[0].namespace, r.account.metadata.namespace);
    assert_eq!(r.account.metadata.namespace, r.namespace.metadata.name);
}

struct Scenario {
    name: String,
    cluster: PathBuf,
    /// Reads the scenario's own identity may not make (its expected.json `skipped`): they are
    /// refused by design, whatever the role.
    skipped: Vec<String>,
    /// Group-versions its API server does not serve (its expected.json `liveWithout`), as in
    /// tests/scenarios.rs: an older server, where other grants are needed (core Endpoints).
    without: Vec<String>,
}

/// Every scenario cluster, the CKA lab first.
fn scenarios() -> Vec<Scenario> {
    let mut v: Vec<Scenario> = std::fs::read_dir(root().join("tests/scenarios"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.json").exists())
        .map(|dir| {
            let exp: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                    .unwrap();
            let cluster = dir.join(exp["cluster"].as_str().unwrap_or("cluster.json"));
            let strings = |key: &str| {
                exp[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            };
            Scenario {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                cluster,
                skipped: strings("skipped"),
                without: strings("liveWithout"),
            }
        })
        .collect();
    v.sort_by_key(|s| (s.name != "cka-lab", s.name.clone()));
    assert!(v.len() > 1);
    v
}

struct Live {
    run: Run,
    server: ApiServer,
}

fn live(
    cluster: &Path,
    without: &[String],
    allow: Option<Vec<PolicyRule>>,
    extra: &[&str],
) -> Live {
    let server = ApiServer::start(
        load(cluster),
        Options {
            allow,
            without: without.to_vec(),
            ..Default::default()
        },
    )
    .unwrap();
    let kc = scratch("deploy").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let mut args = vec!["report", "-o", "json", "--kubeconfig", kc.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = netcheck(&args);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    Live { run, server }
}

/// The documented exit code (docs/usage.md): 1 if a finding is at or above --fail-on
/// (default warning), else 0.
fn documented_code(rep: &Report) -> i32 {
    i32::from(rep.findings.iter().any(|f| f.severity >= Severity::Warning))
}

/// The answers, without where they were read from.
fn answers(rep: &Report) -> Value {
    serde_json::json!({
        "cidrs": rep.cidrs, "proxy": rep.proxy, "deployments": rep.deployments,
        "findings": rep.findings, "skipped": rep.skipped,
    })
}

#[test]
fn full_report_with_only_the_cluster_role_is_complete_for_every_scenario() {
    let rules = rules();
    for Scenario {
        name,
        cluster,
        skipped,
        without,
    } in scenarios()
    {
        let l = live(&cluster, &without, Some(rules.clone()), &[]);
        let rep = report(&l.run);
        let unplanned: Vec<_> = rep
            .skipped
            .iter()
            .filter(|s| !skipped.contains(&s.what))
            .collect();
        assert!(unplanned.is_empty(), "{name}: skipped {unplanned:?}");
        assert_eq!(
            l.run.code,
            documented_code(&rep),
            "{name}: {}",
            l.run.stderr
        );
        let reqs = l.server.requests();
        let denied = reqs.iter().filter(|q| q.status == 403).count();
        assert_eq!(denied, rep.skipped.len(), "{name}: denied {reqs:?}");
        assert!(reqs.iter().all(|q| q.method == "GET"), "{name}: {reqs:?}");
        assert!(!reqs.iter().any(|q| q.path.contains("secrets")), "{name}");
        // The same answers as with full access, where the role is the only limit.
        if skipped.is_empty() {
            let full = live(&cluster, &without, None, &[]);
            assert_eq!(answers(&rep), answers(&report(&full.run)), "{name}");
        }
    }
}

#[test]
fn the_probe_is_outside_the_cluster_role_and_says_what_it_needs() {
    let cka = &scenarios()[0].cluster;
    let l = live(
        cka,
        &[],
        Some(rules()),
        &["--probe-service-cidr", "--fail-on", "never"],
    );
    assert_eq!(l.run.code, 0, "{}", l.run.stderr);
    let rep = report(&l.run);
    assert_eq!(rep.skipped.len(), 1, "{:?}", rep.skipped);
    let s = &rep.skipped[0];
    assert_eq!(s.what, "service-cidr probe");
    assert!(s.reason.starts_with("403"), "{s:?}");
    assert_eq!(
        s.needs.as_deref(),
        Some("create services in default (dry run)")
    );
    let header = std::fs::read_to_string(root().join("deploy/rbac.yaml")).unwrap();
    assert!(header.contains("create services in default"));
}

/// One thing the role grants: a rule minus one of its resources, names or URLs.
struct Grant {
    rule: usize,
    field: &'static str,
    value: String,
}

fn grants(rules: &[PolicyRule]) -> Vec<Grant> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        // With resourceNames, each name is a grant of its own; else each resource.
        let (field, values) = if !r.resource_names.is_empty() {
            ("resourceNames", &r.resource_names)
        } else if !r.resources.is_empty() {
            ("resources", &r.resources)
        } else {
            ("nonResourceURLs", &r.non_resource_urls)
        };
        for v in values {
            out.push(Grant {
                rule: i,
                field,
                value: v.clone(),
            });
        }
    }
    out
}

fn without(rules: &[PolicyRule], g: &Grant) -> Vec<PolicyRule> {
    let mut rules = rules.to_vec();
    let r = &mut rules[g.rule];
    let list = match g.field {
        "resourceNames" => &mut r.resource_names,
        "resources" => &mut r.resources,
        _ => &mut r.non_resource_urls,
    };
    list.retain(|v| v != &g.value);
    if list.is_empty() {
        rules.remove(g.rule);
    }
    rules
}

#[test]
fn every_grant_in_the_cluster_role_is_needed_and_named_in_needs() {
    let rules = rules();
    let scenarios = scenarios();
    // A CNI no scenario runs can't be exercised here; it is still read only when detected.
    let unexercised_ok = ["antrea-config"];
    let mut unexercised = Vec::new();
    for g in grants(&rules) {
        let fewer = without(&rules, &g);
        let rule = &rules[g.rule];
        // What the `needs` text must name: the resource (or URL) and the verb.
        let resource = match g.field {
            "resourceNames" => rule.resources[0].clone(),
            _ => g.value.clone(),
        };
        let mut proven = false;
        for sc in &scenarios {
            let name = &sc.name;
            let l = live(
                &sc.cluster,
                &sc.without,
                Some(fewer.clone()),
                &["--fail-on", "never"],
            );
            assert_eq!(l.run.code, 0, "{name}: {}", l.run.stderr);
            let rep = report(&l.run);
            let caused: Vec<_> = rep
                .skipped
                .iter()
                .filter(|s| !sc.skipped.contains(&s.what))
                .collect();
            if caused.is_empty() {
                continue;
            }
            for s in caused {
                let needs = s.needs.as_deref().unwrap_or_else(|| {
                    panic!("{name} without {}: skipped without needs: {s:?}", g.value)
                });
                // Where EndpointSlices are not served (404), the refused read is the fallback's.
                assert!(
                    s.reason.starts_with("403") || s.reason.contains("core Endpoints: 403"),
                    "{s:?}"
                );
                assert!(
                    needs.contains(resource.split('/').next().unwrap())
                        && rule.verbs.iter().any(|v| needs.starts_with(v.as_str())),
                    "{name} without {} {}: needs {needs:?} does not name {resource} and a verb of {:?}",
                    g.field,
                    g.value,
                    rule.verbs
                );
                if g.field == "resourceNames" {
                    assert!(s.what.ends_with(&format!("/{}", g.value)), "{s:?}");
                }
            }
            proven = true;
            break;
        }
        if !proven {
            unexercised.push(g.value.clone());
        }
    }
    for u in &unexercised {
        assert!(
            unexercised_ok.contains(&u.as_str()),
            "{u} is granted but no scenario needs it"
        );
    }
}

// ---------- the Job ----------

fn job() -> (Value, Job) {
    let d = docs("deploy/job.yaml");
    assert_eq!(d.len(), 1, "one Job in deploy/job.yaml");
    (d[0].clone(), typed(&d[0]))
}

#[test]
fn job_runs_the_json_report_as_the_service_account_of_rbac_yaml() {
    let r = rbac();
    let (_, job) = job();
    assert_eq!(job.metadata.namespace, r.account.metadata.namespace);
    let spec = job.spec.expect("spec");
    assert_eq!(spec.backoff_limit, Some(0));
    let deadline = spec.active_deadline_seconds.expect("activeDeadlineSeconds");
    let pod = spec.template.spec.expect("pod spec");
    assert_eq!(pod.service_account_name, r.account.metadata.name);
    assert_ne!(
        pod.automount_service_account_token,
        Some(false),
        "needs its token"
    );
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let psc = pod.security_context.expect("pod securityContext");
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(pod.containers.len(), 1);
    let c = &pod.containers[0];
    let mut argv: Vec<String> = c.command.clone().unwrap_or_default();
    argv.extend(c.args.clone().unwrap_or_default());
    assert!(argv[0].ends_with("netcheck"), "{argv:?}");
    assert_eq!(&argv[1..4], ["report", "-o", "json"], "{argv:?}");
    // Longer than netcheck's own bound, so netcheck reports rather than being killed.
    let timeout = argv
        .iter()
        .position(|a| a == "--timeout")
        .map(|i| argv[i + 1].trim_end_matches('s').parse::<i64>().unwrap())
        .unwrap_or(60);
    assert!(
        deadline > timeout,
        "activeDeadlineSeconds {deadline} <= --timeout {timeout}"
    );
    let sc = c
        .security_context
        .as_ref()
        .expect("container securityContext");
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.run_as_non_root.or(psc.run_as_non_root), Some(true));
    let caps = sc.capabilities.as_ref().expect("capabilities");
    assert_eq!(caps.drop.as_deref(), Some(&["ALL".to_string()][..]));
    assert!(caps.add.as_ref().is_none_or(Vec::is_empty));
    let res = c.resources.as_ref().expect("resources");
    let limits = res.limits.as_ref().expect("limits");
    assert_eq!(limits["memory"].0, "256Mi");
    assert!(res
        .requests
        .as_ref()
        .is_some_and(|r| r.contains_key("memory") && r.contains_key("cpu")));
    // The placeholder image is obviously one.
    let image = c.image.as_deref().unwrap();
    assert!(image.contains("example"), "{image}");
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/tls").join(name)).unwrap()
}

#[test]
fn job_command_works_in_cluster_with_only_the_cluster_role() {
    // The Job as the kubelet would run it: the ServiceAccount's token and the cluster CA
    // mounted, KUBERNETES_SERVICE_HOST/PORT set, no kubeconfig, a read-only root filesystem
    // (netcheck writes nothing), and an API server that authenticates the token over TLS and
    // authorizes by the ClusterRole's rules alone.
    let (_, job) = job();
    let pod = job.spec.unwrap().template.spec.unwrap();
    let c = &pod.containers[0];
    let args = c.args.clone().unwrap_or_default();
    let cka = &scenarios()[0].cluster;
    let token = "job-token";
    let server = ApiServer::start(
        load(cka),
        Options {
            tls: Some(Tls {
                cert_pem: fixture("server.crt"),
                key_pem: fixture("server.key"),
                ca_pem: None,
            }),
            token: Some(token.into()),
            allow: Some(rules()),
            ..Default::default()
        },
    )
    .unwrap();
    let sa = scratch("job-sa");
    std::fs::write(sa.join("token"), token).unwrap();
    std::fs::write(sa.join("ca.crt"), fixture("ca.crt")).unwrap();
    std::fs::write(sa.join("namespace"), "netcheck").unwrap();
    let port = server.url().rsplit(':').next().unwrap().to_string();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_netcheck"));
    cmd.args(&args)
        .env_clear()
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", &port)
        .env("NETCHECK_SERVICEACCOUNT_DIR", &sa);
    for e in c.env.iter().flatten() {
        cmd.env(&e.name, e.value.as_deref().unwrap_or(""));
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let rep = report(&run);
    assert_eq!(run.code, documented_code(&rep), "{}", run.stderr);
    assert!(rep.skipped.is_empty(), "{:?}", rep.skipped);
    assert_eq!(
        rep.source.server.as_deref(),
        Some(format!("{}/", server.url()).as_str())
    );
    let reqs = server.requests();
    assert!(
        reqs.iter().all(|q| q.status != 401 && q.status != 403),
        "{reqs:?}"
    );
    assert!(reqs.iter().all(|q| q.method == "GET"));
}
