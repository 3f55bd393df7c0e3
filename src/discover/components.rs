//! Where control-plane components' command lines are found: static-pod mirror pods in the API,
//! and the manifest files themselves when running on a control-plane node.

use crate::model::{Cluster, Pod};
use crate::parse::{config, flags};

/// One way a component was started: its argv split into words, and where it was read.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub words: Vec<String>,
    /// `pod kube-system/kube-apiserver-cp1` or `file /etc/kubernetes/manifests/kube-apiserver.yaml`.
    pub origin: String,
}

/// Flags that hand a component a configuration file, which may set what its command line
/// does not (OpenShift's kube-apiserver takes its service range this way).
const CONFIG_FILE_FLAGS: &[&str] = &["config", "openshift-config"];

impl Invocation {
    pub fn flag(&self, name: &str) -> Option<flags::FlagHit> {
        flags::last(&self.words, name)
    }
    /// Why the command line may not be the component's whole configuration, if it may not:
    /// a configuration file, or words a shell fills in at start (`$ARGS`, `$(cat file)`).
    /// A documented default is only the answer when this is None.
    pub fn hidden(&self) -> Option<String> {
        if let Some(h) = CONFIG_FILE_FLAGS.iter().find_map(|f| self.flag(f)) {
            return Some(format!(
                "{} also configures it (a file netcheck does not read)",
                h.text
            ));
        }
        self.words
            .iter()
            .find(|w| w.starts_with('$') || w.contains("$(cat") || w.contains('`'))
            .map(|w| format!("its command line is completed at start from {w}"))
    }
}

fn runs(pod: &Pod, component: &str) -> Option<usize> {
    let named = pod.metadata.label("component") == Some(component)
        || pod.metadata.label("k8s-app") == Some(component)
        || pod.name() == component
        || (pod.is_mirror() && pod.name().starts_with(&format!("{component}-")));
    if !named {
        return None;
    }
    let cs = &pod.spec.containers;
    cs.iter()
        .position(|c| c.name == component)
        .or(if cs.is_empty() { None } else { Some(0) })
}

/// Mirror pods first, then manifest files read with --on-node.
pub fn invocations(c: &Cluster, component: &str) -> Vec<Invocation> {
    let mut out = Vec::new();
    for p in c.pods.iter().filter(|p| p.is_mirror()) {
        if let Some(i) = runs(p, component) {
            let ct = &p.spec.containers[i];
            out.push(Invocation {
                words: flags::words(ct.argv()),
                origin: format!("pod {}/{} container {}", p.metadata.ns(), p.name(), ct.name),
            });
        }
    }
    for f in c.host.iter().flat_map(|h| &h.args_files) {
        if f.path.rsplit('/').next() == Some(component) {
            // One or more flags per line; `#` starts a comment.
            let lines = f.content.lines().map(|l| l.split('#').next().unwrap_or(""));
            out.push(Invocation {
                words: flags::words(std::iter::once(component).chain(lines)),
                origin: format!("file {}", f.path),
            });
        }
    }
    for f in c.host.iter().flat_map(|h| &h.manifests) {
        let Ok(pods) = config::manifest_pods(&f.content) else {
            continue;
        };
        for p in &pods {
            if let Some(i) = runs(p, component) {
                out.push(Invocation {
                    words: flags::words(p.spec.containers[i].argv()),
                    origin: format!("file {}", f.path),
                });
            }
        }
    }
    out
}

/// Manifest files that failed to parse, with the reason, for the "skipped" list.
pub fn unreadable_manifests(c: &Cluster) -> Vec<(String, String)> {
    c.host
        .iter()
        .flat_map(|h| &h.manifests)
        .filter_map(|f| {
            config::manifest_pods(&f.content)
                .err()
                .map(|e| (f.path.clone(), e))
        })
        .collect()
}
