//! Which CNI plugin runs, and how it assigns pod addresses.

use crate::model::{what, Cluster, DaemonSet};
use crate::report::Cni;

/// A known plugin: the names its agent DaemonSet goes by, and its address management.
pub struct Plugin {
    pub name: &'static str,
    pub daemonsets: &'static [&'static str],
    pub ipam: &'static str,
}

pub const PLUGINS: &[Plugin] = &[
    Plugin {
        name: "weave",
        daemonsets: &["weave-net"],
        ipam: "own-range",
    },
    // Canal: flannel's networking with Calico's policy agent in one DaemonSet (RKE2's default
    // as rke2-canal); both halves use node podCIDRs.
    Plugin {
        name: "canal",
        daemonsets: &["canal", "rke2-canal"],
        ipam: "node-podcidrs",
    },
    Plugin {
        name: "flannel",
        daemonsets: &["kube-flannel-ds", "kube-flannel-ds-amd64", "flannel"],
        ipam: "node-podcidrs",
    },
    Plugin {
        name: "calico",
        daemonsets: &["calico-node"],
        ipam: "own-range",
    },
    Plugin {
        name: "cilium",
        daemonsets: &["cilium"],
        ipam: "own-range",
    },
    Plugin {
        name: "gke-dataplane-v2",
        daemonsets: &["anetd"],
        ipam: "node-podcidrs",
    },
    Plugin {
        name: "kindnet",
        daemonsets: &["kindnet"],
        ipam: "node-podcidrs",
    },
    Plugin {
        name: "aws-vpc-cni",
        daemonsets: &["aws-node"],
        ipam: "vpc",
    },
    Plugin {
        name: "antrea",
        daemonsets: &["antrea-agent"],
        ipam: "node-podcidrs",
    },
    Plugin {
        name: "kube-router",
        daemonsets: &["kube-router"],
        ipam: "node-podcidrs",
    },
    // OVN-Kubernetes allocates each node's subnet itself (k8s.ovn.org/node-subnets).
    Plugin {
        name: "ovn-kubernetes",
        daemonsets: &["ovnkube-node"],
        ipam: "own-range",
    },
    Plugin {
        name: "kube-ovn",
        daemonsets: &["kube-ovn-cni"],
        ipam: "own-range",
    },
    Plugin {
        name: "azure-cni",
        // azure-ip-masq-agent runs with kubenet too: it does not tell the CNI.
        daemonsets: &["azure-cns"],
        ipam: "vpc",
    },
];

pub fn plugin(name: &str) -> Option<&'static Plugin> {
    PLUGINS.iter().find(|p| p.name == name)
}

/// Whether a DaemonSet of this name is some CNI plugin's agent, including per-OS variants
/// (`kube-flannel-ds-windows-amd64`, `calico-node-windows`).
pub fn is_agent(name: &str) -> bool {
    PLUGINS.iter().flat_map(|p| p.daemonsets).any(|d| {
        name == *d
            || name
                .strip_prefix(d)
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

fn by_daemonset(name: &str) -> Option<&'static Plugin> {
    PLUGINS.iter().find(|p| p.daemonsets.contains(&name))
}

/// The agent DaemonSet of the detected CNI, when it is visible.
pub fn agent<'a>(c: &'a Cluster, cni: &Cni) -> Option<&'a DaemonSet> {
    let (ns, name) = cni.daemon_set.as_deref()?.split_once('/')?;
    c.daemon_set(ns, name)
}

/// k3s and RKE2 record their argv on each node; their embedded flannel leaves only annotations.
pub fn k3s_flavour(c: &Cluster) -> Option<(&'static str, String)> {
    for n in &c.nodes {
        for (prefix, name) in [("k3s.io/", "k3s"), ("rke2.io/", "rke2")] {
            if n.metadata.annotations.keys().any(|k| k.starts_with(prefix)) {
                return Some((name, n.name().to_string()));
            }
        }
    }
    None
}

/// Where flannel's `net-conf.json` (its Network) may be: flannel's own ConfigMap (namespace
/// kube-flannel in current manifests, kube-system in older ones), or canal's, named after its
/// DaemonSet (`canal-config`; RKE2's chart: `rke2-canal-config`).
pub fn net_conf_maps(cni: &Cni) -> Vec<(String, String)> {
    match cni.name.as_str() {
        "flannel" | "k3s-flannel" | "rke2-flannel" => ["kube-flannel", "kube-system"]
            .iter()
            .map(|ns| (ns.to_string(), "kube-flannel-cfg".to_string()))
            .collect(),
        "canal" => cni
            .daemon_set
            .as_deref()
            .and_then(|d| d.split_once('/'))
            .map(|(ns, name)| vec![(ns.to_string(), format!("{name}-config"))])
            .unwrap_or_else(|| vec![("kube-system".into(), "canal-config".into())]),
        _ => vec![],
    }
}

/// Azure CNI overlay (AKS) gives pods a pod CIDR of its own; otherwise pods take VNet
/// addresses.
fn azure_overlay(c: &Cluster) -> bool {
    c.nodes.iter().any(|n| {
        n.metadata.label("kubernetes.azure.com/azure-cni-overlay") == Some("true")
            || n.metadata.label("kubernetes.azure.com/podnetwork-type") == Some("overlay")
    })
}

/// How the detected plugin assigns addresses, where its configuration decides.
fn with_ipam(c: &Cluster, mut cni: Cni) -> Cni {
    let overlay = || if azure_overlay(c) { "own-range" } else { "vpc" };
    match cni.name.as_str() {
        "cilium" => {
            let ipam = c
                .config_maps
                .iter()
                .find(|m| m.metadata.name == "cilium-config")
                .and_then(|m| m.data.get("ipam"))
                .map(String::as_str)
                .unwrap_or("cluster-pool");
            cni.ipam = match ipam {
                "kubernetes" => "node-podcidrs",
                "eni" | "azure" | "alibabacloud" => "vpc",
                // AKS's Cilium dataplane: addresses come from Azure CNS.
                "delegated-plugin" => overlay(),
                _ => "own-range",
            }
            .into();
        }
        "azure-cni" => cni.ipam = overlay().into(),
        _ => {}
    }
    cni
}

pub fn detect(c: &Cluster) -> Cni {
    // By plugin order, not list order: AKS runs Cilium beside azure-cns, Cilium networks.
    let found = PLUGINS.iter().find_map(|p| {
        let ds = c
            .daemon_sets
            .iter()
            .find(|d| p.daemonsets.contains(&d.metadata.name.as_str()))?;
        Some((p, ds))
    });
    if let Some((p, ds)) = found {
        return with_ipam(
            c,
            Cni {
                name: p.name.into(),
                ipam: p.ipam.into(),
                evidence: format!("daemonset {}/{}", ds.metadata.ns(), ds.metadata.name),
                daemon_set: Some(format!("{}/{}", ds.metadata.ns(), ds.metadata.name)),
            },
        );
    }
    // DaemonSets may be unreadable: the agents' pods still name their owner.
    for pod in &c.pods {
        let Some(owner) = pod.controller().filter(|o| o.kind == "DaemonSet") else {
            continue;
        };
        if let Some(p) = by_daemonset(&owner.name) {
            return with_ipam(
                c,
                Cni {
                    name: p.name.into(),
                    ipam: p.ipam.into(),
                    evidence: format!(
                        "pod {}/{} controlled by DaemonSet/{}",
                        pod.metadata.ns(),
                        pod.name(),
                        owner.name
                    ),
                    daemon_set: Some(format!("{}/{}", pod.metadata.ns(), owner.name)),
                },
            );
        }
    }
    if let Some((flavour, node)) = k3s_flavour(c) {
        let flannel = c.nodes.iter().any(|n| {
            n.metadata
                .annotations
                .keys()
                .any(|k| k.starts_with("flannel.alpha.coreos.com/"))
        });
        if flannel {
            return Cni {
                name: format!("{flavour}-flannel"),
                ipam: "node-podcidrs".into(),
                evidence: format!("node {node}: {flavour}.io/* and flannel.alpha.coreos.com/* annotations (flannel embedded in the {flavour} agent)"),
                daemon_set: None,
            };
        }
    }
    if let Some(n) = c.nodes.iter().find(|n| {
        n.metadata
            .annotations
            .keys()
            .any(|k| k.starts_with("flannel.alpha.coreos.com/"))
    }) {
        return Cni {
            name: "flannel".into(),
            ipam: "node-podcidrs".into(),
            evidence: format!("node {}: flannel.alpha.coreos.com/* annotations", n.name()),
            daemon_set: None,
        };
    }
    // What follows rests on there being no agent: with neither the DaemonSets nor the pods
    // read, that is unknown.
    if let (Some(d), Some(p)) = (c.error_for(what::DAEMONSETS), c.error_for(what::PODS)) {
        return Cni {
            name: "unknown".into(),
            ipam: "node-podcidrs".into(),
            evidence: format!(
                "no node annotation names a CNI, and neither the DaemonSets ({}) nor the pods ({}) could be read, which would show its agent",
                d.reason, p.reason
            ),
            daemon_set: None,
        };
    }
    // Cloud clusters without an agent: the kubelet's kubenet plugin with cloud routes
    // (AKS kubenet, kube-up and older GKE clusters), which uses node podCIDRs.
    let cloud = c.nodes.iter().find(|n| {
        n.spec.provider_id.as_deref().is_some_and(|p| {
            ["azure://", "gce://", "aws://"]
                .iter()
                .any(|x| p.starts_with(x))
        })
    });
    if let Some(n) = cloud.filter(|_| c.nodes.iter().all(|n| !n.spec.cidrs().is_empty())) {
        return Cni {
            name: "kubenet".into(),
            ipam: "node-podcidrs".into(),
            evidence: format!(
                "no CNI agent DaemonSet; cloud nodes (node {} providerID {}) all hold podCIDRs: the kubelet's kubenet plugin with cloud routes",
                n.name(),
                n.spec.provider_id.as_deref().unwrap_or_default()
            ),
            daemon_set: None,
        };
    }
    // Older AKS clusters run Azure CNI's node-subnet mode as a binary on the nodes.
    let azure = c.nodes.iter().find(|n| {
        n.spec
            .provider_id
            .as_deref()
            .is_some_and(|p| p.starts_with("azure://"))
    });
    if let Some(n) = azure.filter(|_| c.nodes.iter().all(|n| n.spec.cidrs().is_empty())) {
        return Cni {
            name: "azure-cni".into(),
            ipam: "vpc".into(),
            evidence: format!(
                "no CNI agent DaemonSet; AKS nodes (node {}) hold no podCIDRs: Azure CNI in node-subnet mode, pods take VNet addresses",
                n.name()
            ),
            daemon_set: None,
        };
    }
    Cni {
        name: "unknown".into(),
        ipam: "node-podcidrs".into(),
        evidence: "no known CNI agent DaemonSet, pod or node annotation found".into(),
        daemon_set: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud_cluster(errors: &[&str]) -> Cluster {
        let node = |name: &str, cidr: &str| {
            serde_json::json!({
                "metadata": {"name": name},
                "spec": {"providerID": format!("gce://p/z/{name}"), "podCIDR": cidr, "podCIDRs": [cidr]}
            })
        };
        let errors: Vec<_> = errors
            .iter()
            .map(|w| serde_json::json!({"what": w, "reason": "403 Forbidden"}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "apiVersion": "netcheck/v1", "kind": "Snapshot",
            "nodes": [node("n1", "10.64.0.0/24"), node("n2", "10.64.1.0/24")],
            "errors": errors
        }))
        .unwrap()
    }

    #[test]
    fn no_agent_is_not_inferred_from_lists_that_could_not_be_read() {
        // Either list read shows there is no agent: kubenet with cloud routes.
        for errors in [&[][..], &["pods"], &["daemonsets"]] {
            assert_eq!(detect(&cloud_cluster(errors)).name, "kubenet", "{errors:?}");
        }
        // Neither read: an agent may run unseen.
        let cni = detect(&cloud_cluster(&["daemonsets", "pods"]));
        assert_eq!(cni.name, "unknown");
        assert!(cni.evidence.contains("could be read"), "{}", cni.evidence);
    }
}
