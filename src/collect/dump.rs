//! Reading a support bundle: the directory `kubectl cluster-info dump --output-directory DIR`
//! writes (with `-o json`, the default, or `-o yaml`), offline.
//!
//! kubectl writes `nodes.EXT`, then for each namespace it dumps (`--all-namespaces`, or
//! `--namespaces`, or kube-system and the current one) `NS/events.EXT`,
//! `NS/replication-controllers.EXT`, `NS/services.EXT`, `NS/daemonsets.EXT`,
//! `NS/deployments.EXT`, `NS/replicasets.EXT`, `NS/pods.EXT`, and `NS/POD/logs.txt`: the current
//! log of every init container and container of the pod, in spec order, each framed by
//! `==== START logs for container C of pod NS/POD ====` and `==== END logs ... ====` (a failed
//! request leaves `Request log error: ...` inside the frame). EXT is `json` or `yaml`.
//!
//! Nodes, pods, Services and DaemonSets map onto the model; the rest of what netcheck reads is
//! not in a dump (ConfigMaps, EndpointSlices, ServiceCIDRs, the server version, previous
//! logs, CRDs) and is recorded as skipped, with that reason, so the answers say so.

use super::live::{NODE_ANNOTATIONS, POD_ANNOTATIONS};
use super::Fatal;
use crate::discover::{plan, proxy::LogPolicy};
use crate::model::{
    what, Cluster, CollectError, DaemonSet, Event, Node, Pod, PodLog, Service, EVENT_REASONS,
    MAX_EVENTS,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The reason given for everything a dump does not hold.
pub const NOT_IN_DUMP: &str = "not in a cluster-info dump";

/// Larger files are refused before parsing (as snapshots are).
const MAX_FILE_BYTES: u64 = super::snapshot::MAX_SNAPSHOT_BYTES;

use super::live::FIRST_ROUND_CONFIG_MAPS;

#[derive(Deserialize)]
struct List<T> {
    /// kubectl prints `items: null` for an empty list.
    #[serde(default = "Option::default")]
    items: Option<Vec<T>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

pub fn load(dir: &Path, logs: LogPolicy, log_bytes: usize) -> Result<Cluster, Fatal> {
    let shown = dir.display();
    let meta =
        std::fs::metadata(dir).map_err(|e| Fatal(format!("dump {shown}: cannot read: {e}")))?;
    if !meta.is_dir() {
        return Err(Fatal(format!(
            "dump {shown} is not a directory; expected the --output-directory of `kubectl cluster-info dump`"
        )));
    }
    let format = if dir.join("nodes.json").is_file() {
        Format::Json
    } else if dir.join("nodes.yaml").is_file() {
        Format::Yaml
    } else {
        return Err(Fatal(format!(
            "dump {shown} holds no nodes.json or nodes.yaml; expected the --output-directory of `kubectl cluster-info dump` (-o json or -o yaml)"
        )));
    };

    let mut c = Cluster::new_snapshot();
    c.source.mode = "dump".into();
    c.source.file = Some(dir.display().to_string());
    let nodes_file = dir.join(format!("nodes.{}", format.ext()));
    c.nodes = read_list::<Node>(&nodes_file, format)?;
    for n in &mut c.nodes {
        n.metadata
            .annotations
            .retain(|k, _| NODE_ANNOTATIONS.iter().any(|p| k.starts_with(p)));
    }

    // Every subdirectory is a namespace; kubectl writes all its lists into each.
    let mut namespaces: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Fatal(format!("dump {shown}: cannot list: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    namespaces.sort();
    // Events kept so far, per reason of EVENT_REASONS.
    let mut kept = [0usize; EVENT_REASONS.len()];
    for ns in &namespaces {
        let file = |name: &str| ns.join(format!("{name}.{}", format.ext()));
        let pods = file("pods");
        if pods.exists() {
            for mut p in read_list::<Pod>(&pods, format)? {
                p.metadata
                    .annotations
                    .retain(|k, _| POD_ANNOTATIONS.contains(&k.as_str()));
                p.prune();
                c.pods.push(p);
            }
        }
        let services = file("services");
        if services.exists() {
            c.services.extend(read_list::<Service>(&services, format)?);
        }
        // Every event is in the dump; only those the live collector selects are kept.
        let events = file("events");
        if events.exists() {
            for e in read_list::<Event>(&events, format)? {
                if let Some(i) = EVENT_REASONS.iter().position(|r| *r == e.reason) {
                    if kept[i] < MAX_EVENTS {
                        kept[i] += 1;
                        c.events.push(e.clipped());
                    }
                }
            }
        }
        let daemon_sets = file("daemonsets");
        if daemon_sets.exists() {
            c.daemon_sets
                .extend(read_list::<DaemonSet>(&daemon_sets, format)?);
        }
    }
    c.compact();

    let lacks = |what: String| CollectError {
        what,
        reason: NOT_IN_DUMP.into(),
        needs: None,
    };
    for w in [
        what::VERSION,
        what::ENDPOINTSLICES,
        what::SERVICECIDRS,
        what::NETWORKPOLICIES,
        what::NAMESPACES,
    ] {
        c.errors.push(lacks(w.into()));
    }
    // What the live collector would read next, as it plans it: the CNI's ConfigMaps and
    // objects, and the logs; a dump holds only the logs.
    let plan = plan::second_round(&c, logs);
    let mut config_maps: Vec<(String, String)> = FIRST_ROUND_CONFIG_MAPS
        .iter()
        .map(|n| ("kube-system".to_string(), n.to_string()))
        .collect();
    for cm in plan.config_maps {
        if !config_maps.contains(&cm) {
            config_maps.push(cm);
        }
    }
    for (ns, name) in config_maps {
        c.errors.push(lacks(what::config_map(&ns, &name)));
    }
    for r in &plan.objects {
        c.errors.push(lacks(what::object(&r.api, r.name)));
    }
    if plan.ip_pools {
        c.errors.push(lacks(what::IPPOOLS.into()));
    }
    // Each pod's logs.txt is read once, whichever of its containers are asked for.
    let mut files: Vec<(PathBuf, Option<Sections>)> = Vec::new();
    for req in plan.logs {
        let w = what::log(&req.namespace, &req.pod, &req.container, req.previous);
        if req.previous {
            c.errors.push(CollectError {
                what: w,
                reason: format!("{NOT_IN_DUMP} (it holds the current containers' logs only)"),
                needs: None,
            });
            continue;
        }
        let path = dir.join(&req.namespace).join(&req.pod).join("logs.txt");
        let sections = match files.iter().find(|(p, _)| *p == path) {
            Some((_, s)) => s.clone(),
            None => {
                let s = read_text(&path)?.map(|t| log_sections(&t, &req.namespace, &req.pod));
                files.push((path.clone(), s.clone()));
                s
            }
        };
        let found = sections
            .as_ref()
            .and_then(|s| s.iter().find(|(ct, _)| *ct == req.container));
        match found {
            None => c.errors.push(CollectError {
                what: w,
                reason: format!(
                    "{NOT_IN_DUMP} ({} holds no log of this container)",
                    path.display()
                ),
                needs: None,
            }),
            Some((_, text)) => match log_error(text) {
                Some(e) => c.errors.push(CollectError {
                    what: w,
                    reason: format!("kubectl could not read it when dumping: {e}"),
                    needs: None,
                }),
                None => {
                    let (text, truncated) = bounded(text, log_bytes);
                    c.logs.push(PodLog {
                        namespace: req.namespace,
                        pod: req.pod,
                        container: req.container,
                        previous: false,
                        text,
                        truncated,
                    });
                }
            },
        }
    }
    Ok(c)
}

fn read_text(path: &Path) -> Result<Option<String>, Fatal> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Fatal(format!("dump file {shown}: cannot read: {e}"))),
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(Fatal(format!(
            "dump file {shown} is {} MiB; netcheck reads files of at most {} MiB",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Fatal(format!("dump file {shown}: cannot read: {e}")))?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn read_list<T: DeserializeOwned>(path: &Path, format: Format) -> Result<Vec<T>, Fatal> {
    let shown = path.display();
    let text = read_text(path)?.ok_or_else(|| Fatal(format!("dump file {shown}: not found")))?;
    let list: List<T> = match format {
        Format::Json => serde_json::from_str(&text).map_err(|e| {
            Fatal(format!(
                "dump file {shown} is not a JSON list as kubectl writes it: {e}"
            ))
        })?,
        Format::Yaml => serde_saphyr::from_str_with_options(&text, yaml_options(text.len()))
            .map_err(|e| {
                Fatal(format!(
                    "dump file {shown} is not a YAML list as kubectl writes it: {e}"
                ))
            })?,
    };
    Ok(list.items.unwrap_or_default())
}

/// serde-saphyr's default budget (250,000 nodes) is meant for configuration files; a namespace's
/// pods.yaml is far larger. The file's size already bounds the work: allow a node per byte.
fn yaml_options(bytes: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(bytes);
    budget.max_events = budget.max_events.max(bytes);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(bytes);
    let mut o = serde_saphyr::Options::default();
    o.budget = Some(budget);
    o
}

/// (container, log) pairs.
type Sections = Vec<(String, String)>;

/// The containers' logs in a logs.txt, by container name, in file order.
fn log_sections(text: &str, ns: &str, pod: &str) -> Sections {
    let mut out = Vec::new();
    let start = "==== START logs for container ";
    let tail = format!(" of pod {ns}/{pod} ====\n");
    let mut rest = text;
    while let Some(i) = rest.find(start) {
        let after = &rest[i + start.len()..];
        let Some(j) = after.find(&tail) else { break };
        let container = &after[..j];
        let body = &after[j + tail.len()..];
        let end = format!("==== END logs for container {container}{tail}");
        // The END line follows the log at once, on the log's last line when it had no newline.
        let (log, next) = match body.find(&end) {
            Some(k) => (&body[..k], &body[k + end.len()..]),
            None => (body, ""),
        };
        out.push((container.to_string(), log.to_string()));
        rest = next;
    }
    out
}

/// kubectl's note in place of a log it could not read.
fn log_error(text: &str) -> Option<&str> {
    let t = text.trim_end();
    (!t.contains('\n')).then_some(t).filter(|t| {
        t.starts_with("Request log error: ") || t.starts_with("Create log request error: ")
    })
}

/// The start of a log, as the live collector reads it with limitBytes.
fn bounded(text: &str, limit: usize) -> (String, bool) {
    if text.len() <= limit {
        return (text.to_string(), text.len() >= limit);
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    (text[..cut].to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        let t = "==== START logs for container init of pod ns/p ====\n\
                 ==== END logs for container init of pod ns/p ====\n\
                 ==== START logs for container a of pod ns/p ====\nline 1\nline 2\n\
                 ==== END logs for container a of pod ns/p ====\n\
                 ==== START logs for container b of pod ns/p ====\nno newline\
                 ==== END logs for container b of pod ns/p ====\n\
                 ==== START logs for container c of pod ns/p ====\n\
                 Request log error: the server rejected our request\n\
                 ==== END logs for container c of pod ns/p ====\n";
        let s = log_sections(t, "ns", "p");
        let names: Vec<&str> = s.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(names, ["init", "a", "b", "c"]);
        assert_eq!(s[1].1, "line 1\nline 2\n");
        assert_eq!(s[2].1, "no newline");
        assert_eq!(
            log_error(&s[3].1),
            Some("Request log error: the server rejected our request")
        );
        assert_eq!(log_error(&s[1].1), None);
    }

    #[test]
    fn bounded_at_char_boundary() {
        assert_eq!(bounded("héllo", 2), ("h".to_string(), true));
        assert_eq!(bounded("abc", 10), ("abc".to_string(), false));
    }
}
