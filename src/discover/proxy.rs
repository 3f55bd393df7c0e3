//! kube-proxy's mode: configured (ConfigMap, flags, distribution args) and running (per node,
//! from the start of each kube-proxy log), and what replaces kube-proxy when it is absent.

use super::cni;
use crate::model::{what, Cluster, CollectError, FastMap, Pod};
use crate::parse::{config, flags, logs};
use crate::report::{ConfiguredMode, NodeProxy, ProxyAnswer};
use std::sync::Arc;

/// Which kube-proxy logs to read. Documented in docs/usage.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogPolicy {
    /// Every kube-proxy log up to 50 pods; beyond that one per pod-template revision plus every
    /// restarted or unready pod (at most 50).
    #[default]
    Auto,
    /// Every kube-proxy pod's log (bounded concurrency).
    All,
    /// No logs: running modes are assumed from configuration.
    None,
}

pub const SAMPLE_CAP: usize = 50;
pub const PREVIOUS_CAP: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

pub fn is_kube_proxy(p: &Pod) -> bool {
    p.metadata.label("k8s-app") == Some("kube-proxy")
        || p.metadata.label("component") == Some("kube-proxy")
        || p.controller()
            .is_some_and(|o| o.kind == "DaemonSet" && o.name == "kube-proxy")
        || (p.is_mirror() && p.name().starts_with("kube-proxy-"))
}

fn container_of<'a>(p: &'a Pod, name: &'a str) -> &'a str {
    let cs = &p.spec.containers;
    cs.iter()
        .find(|c| c.name == name)
        .or(cs.first())
        .map(|c| c.name.as_str())
        .unwrap_or(name)
}

/// The logs netcheck reads, decided from the pod list alone, so the live collector and tests agree.
pub fn logs_to_read(c: &Cluster, policy: LogPolicy) -> Vec<LogRequest> {
    let mut out = Vec::new();
    let req = |p: &Pod, container: &str, previous: bool| LogRequest {
        namespace: p.metadata.ns().to_string(),
        pod: p.name().to_string(),
        container: container_of(p, container).to_string(),
        previous,
    };
    // One weave log gives its ipalloc-range.
    if let Some(p) = c.pods.iter().find(|p| {
        p.controller().is_some_and(|o| o.name == "weave-net")
            && p.status.phase.as_deref() == Some("Running")
    }) {
        out.push(req(p, "weave", false));
    }
    if policy == LogPolicy::None {
        return out;
    }
    let proxies: Vec<&Pod> = c.pods.iter().filter(|p| is_kube_proxy(p)).collect();
    let troubled = |p: &Pod| p.restarts() > 0 || !p.ready();
    let chosen: Vec<&Pod> = if policy == LogPolicy::All || proxies.len() <= SAMPLE_CAP {
        proxies.clone()
    } else {
        let mut seen = std::collections::HashSet::new();
        let mut v: Vec<&Pod> = proxies
            .iter()
            .copied()
            .filter(|p| troubled(p))
            .take(SAMPLE_CAP)
            .collect();
        for p in &proxies {
            let rev = p.metadata.label("controller-revision-hash").unwrap_or("");
            if seen.insert(rev) && v.len() < SAMPLE_CAP && !v.iter().any(|x| x.name() == p.name()) {
                v.push(p);
            }
        }
        v
    };
    let mut previous = 0;
    for p in chosen {
        out.push(req(p, "kube-proxy", false));
        if p.restarts() > 0 && (policy == LogPolicy::All || previous < PREVIOUS_CAP) {
            out.push(req(p, "kube-proxy", true));
            previous += 1;
        }
    }
    out
}

fn normalise(mode: &str, os: &str) -> String {
    match mode.trim().to_ascii_lowercase().as_str() {
        "" => if os == "windows" {
            "kernelspace"
        } else {
            "iptables"
        }
        .to_string(),
        m => m.to_string(),
    }
}

fn configmap_mode(c: &Cluster) -> Option<ConfiguredMode> {
    for (name, key) in [
        ("kube-proxy", "config.conf"),
        ("kube-proxy-config", "config"),
    ] {
        let Some(text) = c
            .config_map("kube-system", name)
            .and_then(|m| m.data.get(key))
        else {
            continue;
        };
        let ev = format!("configmap kube-system/{name}: {key}");
        return Some(match config::kube_proxy_config(text) {
            Ok(cfg) => {
                let raw = cfg.mode.unwrap_or_default();
                let mode = normalise(&raw, "linux");
                let said = if raw.trim().is_empty() {
                    "mode: \"\" (empty: the platform default, iptables on Linux)".to_string()
                } else {
                    format!("mode: {raw}")
                };
                ConfiguredMode {
                    source: "kube-proxy-configmap".into(),
                    mode,
                    evidence: format!("{ev} {said}"),
                    ignored: false,
                }
            }
            Err(e) => ConfiguredMode {
                source: "kube-proxy-configmap".into(),
                mode: "unknown".into(),
                evidence: format!("{ev}: {e}"),
                ignored: false,
            },
        });
    }
    None
}

/// What one kube-proxy pod is configured to run: --config wins over --proxy-mode.
fn pod_configured(p: &Pod, cm: Option<&ConfiguredMode>, os: &str) -> (Option<String>, String) {
    let ct = p
        .spec
        .containers
        .iter()
        .find(|c| c.name == "kube-proxy")
        .or(p.spec.containers.first());
    let Some(ct) = ct else {
        return (
            cm.map(|m| m.mode.clone()),
            "no container spec visible".into(),
        );
    };
    let words = flags::words(ct.argv());
    let flag = flags::last(&words, "proxy-mode");
    match (flags::last(&words, "config"), flag) {
        (Some(cfg), Some(f)) => (
            cm.map(|m| m.mode.clone()),
            format!(
                "{} given with {}: the flag is ignored, the config file decides",
                f.text, cfg.text
            ),
        ),
        (Some(cfg), None) => (
            cm.map(|m| m.mode.clone()),
            format!("{} (from the ConfigMap)", cfg.text),
        ),
        (None, Some(f)) => (Some(normalise(&f.value, os)), f.text),
        (None, None) if !ct.command.is_empty() || !ct.args.is_empty() => (
            Some(normalise("", os)),
            "no --proxy-mode and no --config: platform default".into(),
        ),
        (None, None) => (cm.map(|m| m.mode.clone()), "no command line visible".into()),
    }
}

/// What implements Services instead of kube-proxy, as its configuration says.
pub struct Replacement {
    pub name: &'static str,
    pub mode: &'static str,
    pub evidence: String,
    /// The DaemonSet whose pods do it, on each node.
    pub agent: &'static str,
}

pub fn replacement(c: &Cluster) -> Option<Replacement> {
    for ns in ["kube-system", "cilium"] {
        if let Some(v) = c
            .config_map(ns, "cilium-config")
            .and_then(|m| m.data.get("kube-proxy-replacement"))
        {
            if matches!(v.as_str(), "true" | "strict") {
                return Some(Replacement {
                    name: "cilium",
                    mode: "ebpf",
                    evidence: format!("configmap {ns}/cilium-config: kube-proxy-replacement={v}"),
                    agent: "cilium",
                });
            }
        }
    }
    for (ns, name) in [
        ("kube-system", "antrea-config"),
        ("kube-system", "antrea-config-map"),
    ] {
        if let Some(t) = c
            .config_map(ns, name)
            .and_then(|m| m.data.get("antrea-agent.conf"))
        {
            if t.lines()
                .any(|l| l.trim().replace(' ', "") == "proxyAll:true")
            {
                return Some(Replacement {
                    name: "antrea-proxy",
                    mode: "antrea-proxy",
                    evidence: format!(
                        "configmap {ns}/{name}: antrea-agent.conf antreaProxy.proxyAll: true"
                    ),
                    agent: "antrea-agent",
                });
            }
        }
    }
    // The agent's DaemonSet; where the DaemonSets could not be read, a pod it controls.
    let seen = |name: &str| -> Option<String> {
        if let Some(d) = c.daemon_sets.iter().find(|d| d.metadata.name == name) {
            return Some(format!("daemonset {}/{name}", d.metadata.ns()));
        }
        c.error_for(what::DAEMONSETS)?;
        c.pods
            .iter()
            .find(|p| {
                p.controller()
                    .is_some_and(|o| o.kind == "DaemonSet" && o.name == name)
            })
            .map(|p| {
                format!(
                    "pod {}/{} controlled by DaemonSet/{name}",
                    p.metadata.ns(),
                    p.name()
                )
            })
    };
    if let Some(at) = seen("anetd") {
        return Some(Replacement {
            name: "gke-dataplane-v2",
            mode: "ebpf",
            evidence: format!("{at} (GKE Dataplane V2, Cilium-based, no kube-proxy)"),
            agent: "anetd",
        });
    }
    if let Some(at) = seen("ovnkube-node") {
        return Some(Replacement {
            name: "ovn-kubernetes",
            mode: "ovn",
            evidence: format!(
                "{at} (OVN-Kubernetes programs Services as OVN load balancers; OpenShift deploys no kube-proxy with it)"
            ),
            agent: "ovnkube-node",
        });
    }
    None
}

/// A failed read of a ConfigMap that says whether Cilium or Antrea replaces kube-proxy: with
/// it, "no replacement" is unknown.
fn replacement_unseen(c: &Cluster) -> Option<&CollectError> {
    [
        ("kube-system", "cilium-config"),
        ("cilium", "cilium-config"),
        ("kube-system", "antrea-config"),
        ("kube-system", "antrea-config-map"),
    ]
    .iter()
    .find_map(|(ns, name)| c.error_for(&what::config_map(ns, name)))
}

pub fn discover(c: &Cluster) -> ProxyAnswer {
    let cm = configmap_mode(c);
    let mut configured: Vec<ConfiguredMode> = cm.iter().cloned().collect();
    let proxies: Vec<&Pod> = c.pods.iter().filter(|p| is_kube_proxy(p)).collect();
    let repl = replacement(c);
    let k3s = cni::k3s_flavour(c);

    // The DaemonSet's own flags, for the record (pods carry the same).
    if let Some(ds) = c.daemon_set("kube-system", "kube-proxy") {
        if let Some(ct) = ds
            .spec
            .template
            .spec
            .containers
            .iter()
            .find(|c| c.name == "kube-proxy")
        {
            let words = flags::words(ct.argv());
            if let Some(f) = flags::last(&words, "proxy-mode") {
                let ignored = flags::last(&words, "config").is_some();
                configured.push(ConfiguredMode {
                    source: "kube-proxy-flag".into(),
                    mode: normalise(&f.value, "linux"),
                    evidence: format!("daemonset kube-system/kube-proxy: {}", f.text),
                    ignored,
                });
            }
        }
    }
    let mut k3s_mode = None;
    if let Some((flavour, _)) = &k3s {
        for n in &c.nodes {
            let key = format!("{flavour}.io/node-args");
            let Some(args) = n
                .metadata
                .annotations
                .get(&key)
                .and_then(|a| config::node_args(a).ok())
            else {
                continue;
            };
            let ev = format!("node {} annotation {key}", n.name());
            if flags::last(&args, "disable-kube-proxy").is_some() {
                k3s_mode = Some(("none".to_string(), format!("{ev}: --disable-kube-proxy")));
            } else if let Some(h) = flags::passthrough(&args, "kube-proxy-arg", "proxy-mode") {
                k3s_mode = Some((h.value.clone(), format!("{ev}: {}", h.text)));
            } else if k3s_mode.is_none() {
                k3s_mode = Some((
                    "iptables".into(),
                    format!("{ev}: no --kube-proxy-arg=proxy-mode, default iptables"),
                ));
            }
        }
        if let Some((m, ev)) = &k3s_mode {
            configured.push(ConfiguredMode {
                source: "k3s-args".into(),
                mode: m.clone(),
                evidence: ev.clone(),
                ignored: false,
            });
        }
    }
    if let Some(r) = &repl {
        configured.push(ConfiguredMode {
            source: "replacement".into(),
            mode: r.mode.into(),
            evidence: r.evidence.clone(),
            ignored: false,
        });
    }

    let pods_unread = c.error_for(what::PODS);
    // With the pods unread, the DaemonSet's status still says whether kube-proxy pods run.
    let kp_ds = c
        .daemon_set("kube-system", "kube-proxy")
        .filter(|d| pods_unread.is_some() && d.status.current_number_scheduled > 0);
    let (implementation, implementation_evidence) = if !proxies.is_empty() {
        let p = proxies[0];
        (
            "kube-proxy".to_string(),
            format!(
                "{} kube-proxy pod(s), e.g. {}/{}",
                proxies.len(),
                p.metadata.ns(),
                p.name()
            ),
        )
    } else if let (Some(ds), Some(e)) = (kp_ds, pods_unread) {
        let st = &ds.status;
        (
            "kube-proxy".to_string(),
            format!(
                "daemonset kube-system/kube-proxy: {} pod(s) scheduled, {} ready, of {} desired (its status); the pods could not be read ({})",
                st.current_number_scheduled, st.number_ready, st.desired_number_scheduled, e.reason
            ),
        )
    } else if let Some(r) = &repl {
        (r.name.to_string(), r.evidence.clone())
    } else if let (Some((flavour, _)), Some((m, ev))) = (&k3s, &k3s_mode) {
        if m == "none" {
            ("none".into(), ev.clone())
        } else {
            (
                format!("{flavour}-embedded"),
                format!("{ev}; kube-proxy runs inside the {flavour} process, no pod"),
            )
        }
    } else if let Some(n) = c
        .nodes
        .iter()
        .find(|n| n.metadata.labels.contains_key("microk8s.io/cluster"))
    {
        (
            "microk8s-embedded".into(),
            format!("node {} label microk8s.io/cluster: MicroK8s runs kube-proxy inside its kubelite daemon, no pod; its flags are in /var/snap/microk8s/current/args/kube-proxy on each node (iptables unless --proxy-mode is set there)", n.name()),
        )
    } else if c.error_for(what::PODS).is_some() {
        ("unknown".into(), "pods could not be listed".into())
    } else if c.daemon_set("kube-system", "kube-proxy").is_some() {
        (
            "kube-proxy".into(),
            "daemonset kube-system/kube-proxy exists but has no pods".into(),
        )
    } else if let Some(e) = replacement_unseen(c) {
        (
            "unknown".into(),
            format!("no kube-proxy pod or DaemonSet, and no replacement found, but {} could not be read ({}), which would show one", e.what, e.reason),
        )
    } else {
        (
            "none".into(),
            "no kube-proxy pod, DaemonSet, embedded proxy or replacement found".into(),
        )
    };

    let mut nodes = Vec::with_capacity(c.nodes.len());
    let configured_mode: Option<String> = match implementation.as_str() {
        "kube-proxy" => cm.as_ref().map(|m| m.mode.clone()).or_else(|| {
            proxies
                .first()
                .and_then(|p| pod_configured(p, None, "linux").0)
        }),
        "none" => None,
        _ => repl
            .as_ref()
            .map(|r| r.mode.to_string())
            .or_else(|| k3s_mode.as_ref().map(|m| m.0.clone())),
    };
    let by_node = Pod::by_node(proxies.iter().copied());
    let logs = c.log_index();
    // One DaemonSet's pods share their containers (see `Pod::prune`): their flags are read
    // once, not once a node (perf, issue #20).
    let mut configured_of: FastMap<(usize, &str), (Option<String>, String)> = FastMap::default();
    // A node's failed-log key is made only when some log read failed (callgrind: a formatted
    // key per node, to look up failures the cluster did not have).
    let log_failed = c.errors.iter().any(|e| what::is_log(&e.what));
    for n in &c.nodes {
        let os = n.os();
        let Some(p) = by_node.get(n.name()).and_then(|v| v.first()) else {
            if implementation != "kube-proxy" {
                // With nothing implementing Services there is nothing to assume either.
                let basis = match (implementation.as_str(), &configured_mode) {
                    ("none", _) => "none",
                    (_, Some(_)) => "assumed",
                    (_, None) => "unknown",
                };
                nodes.push(NodeProxy {
                    node: n.name().into(),
                    pod: None,
                    configured: configured_mode.clone(),
                    running: configured_mode.clone().filter(|_| basis == "assumed"),
                    basis: basis.into(),
                    evidence: implementation_evidence.clone(),
                    failure: None,
                    restarts: 0,
                    fell_back_from_ipvs: None,
                    deprecation: None,
                });
            } else {
                let evidence = match pods_unread {
                    Some(e) => format!(
                        "pods could not be read ({}): which kube-proxy pod runs here, and in which mode, is unknown",
                        e.reason
                    ),
                    None => "no kube-proxy pod on this node".into(),
                };
                nodes.push(NodeProxy {
                    node: n.name().into(),
                    pod: None,
                    configured: configured_mode.clone(),
                    running: None,
                    basis: "unknown".into(),
                    evidence,
                    failure: None,
                    restarts: 0,
                    fell_back_from_ipvs: None,
                    deprecation: None,
                });
            }
            continue;
        };
        let (conf, conf_ev) = configured_of
            .entry((Arc::as_ptr(&p.spec.containers) as *const u8 as usize, os))
            .or_insert_with(|| pod_configured(p, cm.as_ref(), os))
            .clone();
        let ns = p.metadata.ns();
        let container = container_of(p, "kube-proxy");
        let cur = logs.get(&(ns, p.name(), container, false)).copied();
        let prev = logs.get(&(ns, p.name(), container, true)).copied();
        let parsed = cur.map(|l| logs::kube_proxy(&l.text));
        let prev_parsed = prev.map(|l| logs::kube_proxy(&l.text));
        let waiting = p
            .status
            .container_statuses
            .iter()
            .find_map(|s| s.state.as_ref()?.waiting.as_ref()?.reason.clone());
        let crashloop = waiting.as_deref() == Some("CrashLoopBackOff")
            || (p.restarts() > 0
                && !p.ready()
                && parsed.as_ref().is_none_or(|l| l.running.is_none()));
        let failure = crashloop.then(|| {
            let fatal = parsed
                .as_ref()
                .and_then(|l| l.fatal_line.clone())
                .or_else(|| prev_parsed.as_ref().and_then(|l| l.fatal_line.clone()));
            let last = p.status.container_statuses.iter().find_map(|s| {
                let t = s.last_state.as_ref()?.terminated.as_ref()?;
                Some(format!(
                    "last terminated: {} (exit {})",
                    t.reason.clone().unwrap_or_default(),
                    t.exit_code.unwrap_or(0)
                ))
            });
            let w = waiting.as_deref().unwrap_or("restarting").to_string();
            match (fatal, last) {
                (Some(f), _) => format!("{w}: {f}"),
                (None, Some(l)) => format!("{w}; {l}; no error line in the log read"),
                (None, None) => w,
            }
        });
        let log_note = || -> String {
            let key = || what::log(ns, p.name(), container, false);
            match log_failed.then(key).and_then(|w| c.error_for(&w)) {
                Some(e) => format!("log not read: {}", e.reason),
                None => "log not read (not selected by --logs)".into(),
            }
        };
        let (running, basis, evidence) = match (&parsed, cur) {
            (Some(l), _) if l.running.is_some() => (l.running.clone(), "log", format!("log {ns}/{} [{container}]: {}", p.name(), l.running_line.clone().unwrap_or_default())),
            (_, _) if failure.is_some() => (None, "failing", format!("pod {ns}/{} is not running kube-proxy", p.name())),
            (Some(_), Some(l)) if l.text.trim().is_empty() => (conf.clone(), "assumed", format!("log {ns}/{} is empty (kube-proxy may log to a file on the host, as GCE static pods do): assumed from configuration ({conf_ev})", p.name())),
            (Some(_), _) => (conf.clone(), "assumed", format!("log {ns}/{} has no 'Using ... Proxier' line (rotated or truncated): assumed from configuration ({conf_ev})", p.name())),
            (None, _) => (conf.clone(), "assumed", format!("{}: assumed from configuration ({conf_ev})", log_note())),
        };
        let fell_back = parsed
            .as_ref()
            .and_then(|l| l.ipvs_unusable_line.clone().filter(|_| l.running.is_some()));
        nodes.push(NodeProxy {
            node: n.name().into(),
            pod: Some(format!("{ns}/{}", p.name())),
            configured: conf,
            running,
            basis: basis.into(),
            evidence,
            failure,
            restarts: p.restarts(),
            fell_back_from_ipvs: fell_back,
            deprecation: parsed.as_ref().and_then(|l| l.deprecation_line.clone()),
        });
    }
    let mut running_modes: Vec<String> = nodes
        .iter()
        .filter(|n| n.basis == "log")
        .filter_map(|n| n.running.clone())
        .collect();
    running_modes.sort();
    running_modes.dedup();
    ProxyAnswer {
        implementation,
        implementation_evidence,
        configured_mode,
        configured,
        nodes,
        running_modes,
    }
}
