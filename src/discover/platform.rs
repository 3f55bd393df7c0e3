//! Which distribution or managed service runs the cluster, from the marks each leaves in the
//! API. It decides where facts live (OpenShift's cluster Network, MicroK8s's kubelite) and
//! which documented defaults are candidates when the control plane is hidden.

use crate::model::{Cluster, FastMap};
use crate::report::Platform;

fn platform(name: &str, evidence: String) -> Platform {
    Platform {
        name: name.into(),
        evidence,
    }
}

pub fn detect(c: &Cluster) -> Platform {
    // The first node carrying each label key, in one pass: asked key by key, the six keys
    // below searched 5,000 nodes' labels six times, twice a report (perf: 2% of its CPU).
    let mut first: FastMap<&str, &str> = FastMap::default();
    for n in &c.nodes {
        for k in n.metadata.labels.keys() {
            first.entry(k.as_str()).or_insert(n.name());
        }
    }
    let node_label = |key: &str| first.get(key).map(|n| format!("node {n} label {key}"));
    let provider = |prefix: &str| {
        c.nodes
            .iter()
            .find(|n| {
                n.spec
                    .provider_id
                    .as_deref()
                    .is_some_and(|p| p.starts_with(prefix))
            })
            .map(|n| {
                let id = n.spec.provider_id.as_deref().unwrap_or_default();
                format!("node {} providerID {id}", n.name())
            })
    };
    if let Some(ev) = node_label("node.openshift.io/os_id") {
        return platform("openshift", ev);
    }
    if let Some(p) = c
        .pods
        .iter()
        .find(|p| p.metadata.ns().starts_with("openshift-"))
    {
        let ev = format!(
            "pod {}/{} in an openshift-* namespace",
            p.metadata.ns(),
            p.name()
        );
        return platform("openshift", ev);
    }
    if let Some(ev) = node_label("microk8s.io/cluster") {
        return platform("microk8s", ev);
    }
    if let Some((flavour, node)) = super::cni::k3s_flavour(c) {
        let ev = format!("node {node}: {flavour}.io/* annotations");
        return platform(flavour, ev);
    }
    if let Some(ev) = node_label("kubernetes.azure.com/cluster").or_else(|| provider("azure://")) {
        return platform("aks", ev);
    }
    if let Some(ev) = node_label("eks.amazonaws.com/nodegroup") {
        return platform("eks", ev);
    }
    if let Some(ev) = node_label("cloud.google.com/gke-nodepool") {
        return platform("gke", ev);
    }
    if let Some(ev) = provider("aws://") {
        return platform("aws", ev);
    }
    if let Some(ev) = provider("gce://") {
        return platform("gce", ev);
    }
    if let Some(ev) = node_label("minikube.k8s.io/name") {
        return platform("minikube", ev);
    }
    if let Some(ev) = provider("kind://") {
        return platform("kind", ev);
    }
    if c.config_map("kube-system", "kubeadm-config").is_some() {
        return platform("kubeadm", "configmap kube-system/kubeadm-config".into());
    }
    platform("unknown", "no distribution's marks found".into())
}

/// Service (and pod) ranges a platform assigns when none is given, for platforms whose
/// control plane netcheck cannot see: candidates to be confirmed by the addresses in use.
pub struct Defaults {
    pub service: &'static [&'static str],
    pub pod: &'static [&'static str],
    pub said: &'static str,
}

pub fn defaults(name: &str) -> Option<Defaults> {
    Some(match name {
        "eks" | "aws" => Defaults {
            service: &["10.100.0.0/16", "172.20.0.0/16"],
            pod: &[],
            said: "EKS assigns 10.100.0.0/16, or 172.20.0.0/16 when the VPC is in 10.0.0.0/8, if no service range is given",
        },
        "aks" => Defaults {
            service: &["10.0.0.0/16"],
            pod: &[],
            said: "AKS's default service range is 10.0.0.0/16",
        },
        "gke" => Defaults {
            service: &["34.118.224.0/20"],
            pod: &[],
            said: "GKE assigns Services from its managed range 34.118.224.0/20 (Standard 1.29+, Autopilot 1.27+) unless a range is given",
        },
        "microk8s" => Defaults {
            service: &["10.152.183.0/24"],
            pod: &["10.1.0.0/16"],
            said: "MicroK8s's default args: --service-cluster-ip-range=10.152.183.0/24 (kube-apiserver), --cluster-cidr=10.1.0.0/16 (kube-proxy); they are files on the nodes, not in the API",
        },
        _ => return None,
    })
}
