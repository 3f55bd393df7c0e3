//! Names for shell completion: the namespaces of a cluster, a snapshot or a support bundle.
//! Completion runs while the user waits at a prompt, so every read here is bounded by one
//! short time limit and any failure is simply an empty answer for the caller to ignore.

use super::api::{Api, Item};
use super::Fatal;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct Namespace {
    metadata: NamespaceMeta,
}

#[derive(Deserialize)]
struct NamespaceMeta {
    name: String,
}

impl Item for Namespace {}

/// The cluster's namespaces (one `list namespaces`, as `kubectl get namespaces` does), within
/// `limit` from the start, credential plugins included.
pub async fn live(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    limit: Duration,
) -> Result<Vec<String>, Fatal> {
    let end = Instant::now() + limit;
    let read = async {
        let (client, _) = super::kubeconfig::client(kubeconfig, context, limit).await?;
        let api = Arc::new(Api {
            client,
            request_timeout: limit,
            page_size: 500,
            end,
            versions: Default::default(),
            absent: None,
            unkept: Default::default(),
        });
        api.list::<Namespace>("/api/v1/namespaces", Some)
            .await
            .map_err(|e| Fatal(e.describe()))
    };
    let list = tokio::time::timeout(limit, read)
        .await
        .map_err(|_| Fatal("timed out".into()))??;
    Ok(sorted(list.into_iter().map(|n| n.metadata.name)))
}

/// The namespaces a snapshot holds Services or pods in.
pub fn snapshot(path: &Path) -> Result<Vec<String>, Fatal> {
    let c = super::snapshot::load(path)?;
    let services = c
        .services
        .iter()
        .filter_map(|s| s.metadata.namespace.as_deref().map(String::from));
    let pods = c
        .pods
        .iter()
        .filter_map(|p| p.metadata.namespace.as_deref().map(String::from));
    let workload = c.workload_pods.iter().map(|p| p.namespace.to_string());
    Ok(sorted(services.chain(pods).chain(workload)))
}

/// A `kubectl cluster-info dump` directory has one subdirectory per namespace it dumped.
pub fn dump(dir: &Path) -> Result<Vec<String>, Fatal> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Fatal(format!("cannot read the directory {}: {e}", dir.display())))?;
    Ok(sorted(entries.filter_map(|e| {
        let e = e.ok()?;
        e.file_type().ok()?.is_dir().then_some(())?;
        e.file_name().into_string().ok()
    })))
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = names.filter(|n| !n.is_empty()).collect();
    v.sort_unstable();
    v.dedup();
    v
}
