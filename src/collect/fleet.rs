//! `netcheck fleet`: many clusters collected at once. Each kubeconfig context is read as
//! `live::collect` reads one (its own client, its own deadline), at most `parallel` at a time;
//! saved files (`netcheck snapshot`, `netcheck report -o json`) are read beside them. A
//! cluster that fails becomes a [`ClusterError`] for that cluster alone.

use super::{kubeconfig, live, snapshot, Fatal};
use crate::model::{what, Cluster, SNAPSHOT_KIND};
use crate::report::{ClusterError, ErrorKind, Report, FLEET_KIND, REPORT_API_VERSION};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// One cluster to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A context of a kubeconfig: the `--kubeconfig` file that holds it (of several given),
    /// else the one kubectl would use.
    Context(Context),
    /// A file given to `--from`.
    File(PathBuf),
}

/// A context as the fleet shows it: `name`, or `name (FILE)` when two of the files given hold
/// one by that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    pub kubeconfig: Option<PathBuf>,
    pub shown: String,
}

impl Context {
    pub fn new(name: &str, kubeconfig: Option<PathBuf>) -> Context {
        Context {
            name: name.into(),
            kubeconfig,
            shown: name.into(),
        }
    }
}

impl Target {
    pub fn name(&self) -> String {
        match self {
            Target::Context(c) => c.shown.clone(),
            Target::File(p) => p.display().to_string(),
        }
    }
}

/// What a target gave: a cluster model to analyse, or a report already analysed.
pub enum Loaded {
    Cluster(Box<Cluster>),
    Report(Box<Report>),
}

pub type Outcome = Result<Loaded, ClusterError>;

/// The contexts of the kubeconfig netcheck would use (`--kubeconfig`, else `KUBECONFIG`, whose
/// files are merged, else `~/.kube/config`), in file order, each with its cluster's server.
pub fn contexts(path: Option<&Path>) -> Result<Vec<(String, Option<String>)>, Fatal> {
    use kube::config::Kubeconfig;
    let (kc, from) = match path {
        Some(p) => (
            Kubeconfig::read_from(p),
            format!("kubeconfig {}", p.display()),
        ),
        None => (
            Kubeconfig::read(),
            match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
                Some(v) => format!("kubeconfig {} (KUBECONFIG)", v.to_string_lossy()),
                None => "kubeconfig ~/.kube/config".into(),
            },
        ),
    };
    let kc = kc.map_err(|e| Fatal(format!("{from}: {}", kubeconfig::chain(&e))))?;
    Ok(kc
        .contexts
        .iter()
        .map(|c| {
            let server = c.context.as_ref().and_then(|x| {
                kc.clusters
                    .iter()
                    .find(|k| k.name == x.cluster)
                    .and_then(|k| k.cluster.as_ref()?.server.clone())
            });
            (c.name.clone(), server)
        })
        .collect())
}

/// Starts every target on the current runtime, at most `parallel` at once, and returns the
/// outcomes as they come, each with its index in `targets`. A collected cluster is handed
/// over before its slot is given to the next one, so at most about twice `parallel` cluster
/// models are held at any time, however large the fleet.
pub fn spawn(
    targets: Vec<Target>,
    base: &live::Options,
    parallel: usize,
) -> mpsc::Receiver<(usize, Outcome)> {
    let parallel = parallel.max(1);
    let (tx, rx) = mpsc::channel(parallel);
    let slots = Arc::new(Semaphore::new(parallel));
    for (i, t) in targets.into_iter().enumerate() {
        let (tx, slots, base) = (tx.clone(), slots.clone(), base.clone());
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            let out = one(t, base).await;
            let _ = tx.send((i, out)).await;
        });
    }
    rx
}

async fn one(t: Target, base: live::Options) -> Outcome {
    match t {
        Target::Context(c) => {
            let o = live::Options {
                context: Some(c.name),
                kubeconfig: c.kubeconfig.or(base.kubeconfig.clone()),
                ..base
            };
            // live::collect stops asking at the deadline; this bounds what it cannot (a
            // credential plugin that hangs, a server that accepts and never answers).
            let limit = o.deadline + o.request_timeout + Duration::from_secs(2);
            match tokio::time::timeout(limit, live::collect(&o)).await {
                Err(_) => Err(ClusterError {
                    kind: ErrorKind::Timeout,
                    message: format!(
                        "no answer within --timeout {} (plus --request-timeout {})",
                        secs(o.deadline),
                        secs(o.request_timeout)
                    ),
                }),
                Ok(Err(Fatal(m))) => Err(ClusterError {
                    kind: classify(&m),
                    message: m,
                }),
                Ok(Ok(c)) => match refused(&c) {
                    Some(m) => Err(ClusterError {
                        kind: ErrorKind::Forbidden,
                        message: m,
                    }),
                    None => Ok(Loaded::Cluster(Box::new(c))),
                },
            }
        }
        Target::File(p) => tokio::task::spawn_blocking(move || load(&p))
            .await
            .unwrap_or_else(|e| {
                Err(ClusterError {
                    kind: ErrorKind::File,
                    message: format!("reading the file failed: {e}"),
                })
            }),
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The messages of `live::collect` and `kubeconfig::client` name their cause; the kind is
/// read from them.
fn classify(m: &str) -> ErrorKind {
    if m.contains("cannot reach the API server") {
        ErrorKind::Unreachable
    } else if m.contains("(401 Unauthorized)") {
        ErrorKind::Unauthorized
    } else {
        ErrorKind::Config
    }
}

/// Credentials that may read none of nodes, pods and Services leave nothing to analyse: that
/// cluster is an error, not a report of unknowns. Some reads refused is an ordinary report.
fn refused(c: &Cluster) -> Option<String> {
    let errs = [what::NODES, what::PODS, what::SERVICES]
        .iter()
        .map(|w| c.error_for(w))
        .collect::<Option<Vec<_>>>()?;
    if !errs.iter().all(|e| e.reason.starts_with("403")) {
        return None;
    }
    let needs: Vec<&str> = errs.iter().filter_map(|e| e.needs.as_deref()).collect();
    Some(format!(
        "every read was refused: {} (needs at least: {}; deploy/rbac.yaml grants what netcheck reads)",
        errs[0].reason,
        needs.join(", ")
    ))
}

/// A `--from` file: a snapshot (analysed like `--snapshot`) or a report (taken as written).
pub fn load(path: &Path) -> Outcome {
    let shown = path.display().to_string();
    let fail = |m: String| ClusterError {
        kind: ErrorKind::File,
        message: m,
    };
    let f = std::fs::File::open(path).map_err(|e| fail(format!("{shown}: cannot open: {e}")))?;
    let mut bytes = Vec::new();
    f.take(snapshot::MAX_SNAPSHOT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("{shown}: read failed: {e}")))?;
    if bytes.len() as u64 > snapshot::MAX_SNAPSHOT_BYTES {
        return Err(fail(format!(
            "{shown} is larger than {} MiB: not a netcheck snapshot or report",
            snapshot::MAX_SNAPSHOT_BYTES >> 20
        )));
    }
    /// The two fields that tell the documents apart; the rest is skipped over.
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default, rename = "apiVersion")]
        api_version: String,
        #[serde(default)]
        kind: String,
    }
    let head: Head = serde_json::from_slice(&bytes).map_err(|e| {
        fail(format!(
            "{shown} is not a JSON document ({e}); expected a file written by `netcheck snapshot` or `netcheck report -o json`"
        ))
    })?;
    match head.kind.as_str() {
        SNAPSHOT_KIND => {
            let mut c = snapshot::from_reader(&bytes[..], &shown).map_err(|e| fail(e.0))?;
            drop(bytes);
            c.source.mode = "snapshot".into();
            c.source.file = Some(shown);
            Ok(Loaded::Cluster(Box::new(c)))
        }
        "Report" => {
            if head.api_version != REPORT_API_VERSION {
                return Err(fail(format!(
                    "{shown}: report apiVersion {:?} is not supported; expected {REPORT_API_VERSION:?}",
                    head.api_version
                )));
            }
            let r: Report = serde_json::from_slice(&bytes).map_err(|e| {
                fail(format!(
                    "{shown} does not match the netcheck/v1 report format: {e}"
                ))
            })?;
            Ok(Loaded::Report(Box::new(r)))
        }
        FLEET_KIND => Err(fail(format!(
            "{shown} is a fleet document (netcheck fleet -o json); pass each cluster's snapshot or report instead"
        ))),
        k => Err(fail(format!(
            "{shown}: kind {k:?} is neither a snapshot (netcheck snapshot) nor a report (netcheck report -o json)"
        ))),
    }
}
