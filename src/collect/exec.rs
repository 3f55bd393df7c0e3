//! `--exec-rules` (opt-in: it starts processes in pods, so it needs `create pods/exec`): each
//! node's rule dump, taken by running the dump tool of its mode inside the node's kube-proxy
//! pod, which shares the node's network namespace. Bounded in concurrency and in time.

use crate::model::{Cluster, CollectError, RuleSet};
use k8s_openapi::api::core::v1::Pod as ApiPod;
use kube::api::{Api, AttachParams};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// At most this many execs at once, each within `PER_EXEC`.
const CONCURRENCY: usize = 8;
const PER_EXEC: Duration = Duration::from_secs(30);
/// Larger than any real dump: a runaway output is cut, and said so.
const MAX_OUTPUT: u64 = 1 << 30;

pub const NEEDS: &str =
    "create pods/exec in kube-system (not in deploy/rbac.yaml's role: see docs/permissions.md)";

/// The dump tools for a node's kube-proxy mode (from the proxy answer): what kube-proxy's image
/// carries for that mode.
fn tools(mode: Option<&str>) -> &'static [&'static [&'static str]] {
    match mode {
        Some("nftables") => &[&["nft", "list", "ruleset"]],
        Some("ipvs") => &[&["ipvsadm-save", "-n"], &["iptables-save"]],
        _ => &[&["iptables-save"], &["ip6tables-save"]],
    }
}

pub async fn rules(client: kube::Client, c: &Cluster) -> (Vec<RuleSet>, Vec<CollectError>) {
    let proxy = crate::discover::proxy::discover(c);
    // One running kube-proxy pod per node.
    let mut targets: Vec<(String, String, String, Option<String>)> = Vec::new();
    for p in &c.pods {
        let Some(node) = p.spec.node_name.as_deref() else {
            continue;
        };
        let runs_proxy = p.spec.containers.iter().any(|k| k.name == "kube-proxy");
        if !runs_proxy
            || p.status.phase.as_deref() != Some("Running")
            || targets.iter().any(|t| t.0 == node)
        {
            continue;
        }
        let mode = proxy
            .nodes
            .iter()
            .find(|n| n.node == node)
            .and_then(|n| n.running.clone().or(n.configured.clone()));
        targets.push((
            node.to_string(),
            p.metadata.ns().to_string(),
            p.metadata.name.to_string(),
            mode,
        ));
    }
    let mut errors = Vec::new();
    if targets.is_empty() {
        errors.push(CollectError {
            what: "rules: exec into kube-proxy pods".into(),
            reason: "no running kube-proxy pod was found (kube-proxy may be embedded, replaced, run outside the cluster, or pods could not be read)".into(),
            needs: None,
        });
        return (vec![], errors);
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut jobs = tokio::task::JoinSet::new();
    for (node, ns, pod, mode) in targets {
        for argv in tools(mode.as_deref()) {
            let (client, gate) = (client.clone(), gate.clone());
            let (node, ns, pod) = (node.clone(), ns.clone(), pod.clone());
            jobs.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let cmd = argv.join(" ");
                let res = tokio::time::timeout(PER_EXEC, exec(client, &ns, &pod, argv)).await;
                let res = res.unwrap_or_else(|_| {
                    Err(format!("did not finish within {}s", PER_EXEC.as_secs()))
                });
                (node, format!("exec {ns}/{pod}: {cmd}"), res)
            });
        }
    }
    let mut sets = Vec::new();
    while let Some(done) = jobs.join_next().await {
        let Ok((node, source, res)) = done else {
            continue;
        };
        match res {
            // A family or tool the node does not use prints no kube-proxy rule: nothing to compare.
            Ok(text)
                if !text.contains("KUBE-")
                    && !text.contains("kube-proxy")
                    && !source.contains("ipvsadm") => {}
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => sets.push(RuleSet { node, source, text }),
            Err(reason) => errors.push(CollectError {
                what: format!("rules: {source}"),
                needs: reason.contains("403").then(|| NEEDS.to_string()),
                reason,
            }),
        }
    }
    sets.sort_by(|a, b| (&a.node, &a.source).cmp(&(&b.node, &b.source)));
    errors.sort_by(|a, b| a.what.cmp(&b.what));
    (sets, errors)
}

async fn exec(client: kube::Client, ns: &str, pod: &str, argv: &[&str]) -> Result<String, String> {
    let api: Api<ApiPod> = Api::namespaced(client, ns);
    let params = AttachParams::default()
        .container("kube-proxy")
        .stdin(false)
        .stdout(true)
        .stderr(true);
    let mut p = api
        .exec(pod, argv.iter().copied(), &params)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
            e => e.to_string(),
        })?;
    let (Some(out), Some(err)) = (p.stdout(), p.stderr()) else {
        return Err("the exec stream has no stdout".into());
    };
    let status = p.take_status();
    let read = |mut r: tokio::io::ReadHalf<tokio::io::SimplexStream>| async move {
        let mut buf = Vec::new();
        (&mut r)
            .take(MAX_OUTPUT)
            .read_to_end(&mut buf)
            .await
            .map(|_| buf)
    };
    let (out, err) = tokio::join!(read(out), read(err));
    let out = out.map_err(|e| format!("reading its output: {e}"))?;
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    let _ = p.join().await;
    if let Some(s) = status.filter(|s| s.status.as_deref() != Some("Success")) {
        let stderr = err
            .map(|e| String::from_utf8_lossy(&e).trim().to_string())
            .unwrap_or_default();
        return Err(format!(
            "{}{}",
            s.message.unwrap_or_else(|| "failed".into()),
            if stderr.is_empty() {
                String::new()
            } else {
                format!(": {stderr}")
            }
        ));
    }
    String::from_utf8(out).map_err(|_| "its output is not text".into())
}
