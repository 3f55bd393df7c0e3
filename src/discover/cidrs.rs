//! Node network, pod CIDR and service CIDR, each from every source that applies.

use super::{cni, components, Hints};
use crate::cidr;
use crate::model::{what, Cluster};
use crate::parse::{config, flags, logs};
use crate::report::*;
use ipnet::IpNet;
use std::net::IpAddr;

pub const WEAVE_DEFAULT: &str = "10.32.0.0/12";
pub const CALICO_DEFAULT: &str = "192.168.0.0/16";
pub const CILIUM_DEFAULT: &str = "10.0.0.0/8";
pub const K3S_POD_DEFAULT: &str = "10.42.0.0/16";
pub const K3S_SERVICE_DEFAULT: &str = "10.43.0.0/16";
pub const APISERVER_SERVICE_DEFAULT: &str = "10.0.0.0/24";
pub const KUBEADM_SERVICE_DEFAULT: &str = "10.96.0.0/12";

pub fn discover(c: &Cluster, hints: &Hints) -> CidrAnswer {
    let cni = cni::detect(c);
    let (node_network, nodes) = node_network(c, hints);
    CidrAnswer {
        pod_cidr: pod_cidr(c, &cni),
        service_cidr: service_cidr(c),
        cni,
        node_network,
        nodes,
    }
}

/// Chooses the effective value: the best-ranked source that states one. Observed sources only
/// give a lower bound, so choosing one makes the answer "inferred".
fn decide(mut sources: Vec<Source>, what_for: &str) -> Fact {
    sources.sort_by_key(|s| s.id);
    let usable = |s: &&Source| {
        matches!(s.status, SourceStatus::Found | SourceStatus::Default)
            && !s.cidrs.is_empty()
            && s.id != SourceId::KubernetesService
    };
    let Some(best) = sources.iter().find(usable) else {
        let skipped: Vec<String> = sources
            .iter()
            .filter(|s| s.status == SourceStatus::Skipped)
            .map(|s| s.id.name())
            .collect();
        let why = if skipped.is_empty() {
            format!("no source states the {what_for}")
        } else {
            format!(
                "no source states the {what_for}; could not read: {}",
                skipped.join(", ")
            )
        };
        return Fact::unknown(why, sources);
    };
    let (status, reason) = if best.id.is_observed() {
        (
            FactStatus::Inferred,
            "inferred from addresses in use: a lower bound, not a configured range",
        )
    } else if best.id.is_cni() {
        (
            FactStatus::Known,
            "the CNI plugin's own range: what pod addresses are really allocated from",
        )
    } else if best.status == SourceStatus::Default {
        (
            FactStatus::Known,
            "the documented default, as nothing overrides it",
        )
    } else {
        (FactStatus::Known, "highest-ranked source that states it")
    };
    let cidrs = if best.id == SourceId::ServicecidrApi {
        // Every ServiceCIDR object is allocated from: the range is their union.
        let mut all: Vec<IpNet> = sources
            .iter()
            .filter(|s| s.id == SourceId::ServicecidrApi && s.status == SourceStatus::Found)
            .flat_map(|s| s.cidrs.iter().copied())
            .collect();
        all.dedup();
        all
    } else {
        best.cidrs.clone()
    };
    Fact {
        status,
        cidrs,
        chosen: Some(best.id),
        why: format!("{}: {reason}", best.id.name()),
        sources,
    }
}

fn skipped_if(c: &Cluster, id: SourceId, what: &str) -> Option<Source> {
    c.error_for(what).map(|e| Source::skipped(id, e))
}

// ---------------- node network ----------------

fn node_network(c: &Cluster, hints: &Hints) -> (Fact, Vec<NodeRow>) {
    let mut sources = Vec::new();
    let node_ips: Vec<(String, IpAddr)> = c
        .nodes
        .iter()
        .flat_map(|n| {
            n.addresses_of("InternalIP")
                .filter_map(cidr::parse_ip)
                .map(move |ip| (n.name().to_string(), ip))
        })
        .collect();

    if let Some(h) = &c.host {
        let host = h.hostname.as_deref().unwrap_or("this host");
        for i in &h.interfaces {
            for a in &i.addresses {
                let Some((ip, len)) = cidr::parse_addr(a) else {
                    continue;
                };
                if node_ips.iter().any(|(_, nip)| *nip == ip) {
                    let net = IpNet::new(ip, len)
                        .map(|n| n.trunc())
                        .unwrap_or_else(|_| IpNet::from(ip));
                    sources.push(Source::found(
                        SourceId::HostInterface,
                        vec![net],
                        a.clone(),
                        format!("interface {} {a} on {host} (`ip addr`)", i.name),
                    ));
                }
            }
        }
    }
    for n in &c.nodes {
        for key in [
            "projectcalico.org/IPv4Address",
            "projectcalico.org/IPv6Address",
        ] {
            if let Some(v) = n.metadata.annotations.get(key) {
                sources.push(Source::parsed(
                    SourceId::CalicoNodeAddress,
                    v,
                    format!("node {} annotation {key}", n.name()),
                ));
            }
        }
    }
    if !hints.node_cidrs.is_empty() {
        sources.push(Source::found(
            SourceId::UserNodeCidr,
            hints.node_cidrs.clone(),
            cidr::join(&hints.node_cidrs),
            "--node-cidr given on the command line",
        ));
    }
    let stated: Vec<IpNet> = {
        let mut v: Vec<IpNet> = sources
            .iter()
            .filter(|s| s.status == SourceStatus::Found)
            .flat_map(|s| s.cidrs.iter().copied())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let uncovered: Vec<IpAddr> = node_ips
        .iter()
        .map(|(_, ip)| *ip)
        .filter(|ip| !cidr::contains_ip(&stated, ip))
        .collect();
    if !node_ips.is_empty() {
        let cover = cidr::covering(node_ips.iter().map(|(_, ip)| *ip));
        let eg: Vec<String> = node_ips
            .iter()
            .take(3)
            .map(|(n, ip)| format!("{n} {ip}"))
            .collect();
        sources.push(Source::found(
            SourceId::NodeAddresses,
            cover.clone(),
            cidr::join(&cover),
            format!(
                "smallest prefix covering the InternalIP of {} node(s) (status.addresses: {}{})",
                c.nodes.len(),
                eg.join(", "),
                if node_ips.len() > 3 { ", ..." } else { "" }
            ),
        ));
    } else if let Some(s) = skipped_if(c, SourceId::NodeAddresses, what::NODES) {
        sources.push(s);
    }

    let rows = c
        .nodes
        .iter()
        .map(|n| {
            let ips: Vec<IpAddr> = n
                .addresses_of("InternalIP")
                .filter_map(cidr::parse_ip)
                .collect();
            NodeRow {
                name: n.name().to_string(),
                internal_ips: n.addresses_of("InternalIP").map(str::to_string).collect(),
                external_ips: n.addresses_of("ExternalIP").map(str::to_string).collect(),
                networks: stated
                    .iter()
                    .filter(|net| ips.iter().any(|ip| net.contains(ip)))
                    .copied()
                    .collect(),
                pod_cidrs: n.spec.cidrs().into_iter().map(str::to_string).collect(),
                ready: n.ready(),
            }
        })
        .collect();

    let fact = if stated.is_empty() || node_ips.is_empty() {
        decide(sources, "node network")
    } else {
        // Networks stated for some nodes cover the others when their addresses fall inside.
        let used: Vec<IpNet> = stated
            .iter()
            .filter(|n| node_ips.iter().any(|(_, ip)| n.contains(ip)))
            .copied()
            .collect();
        let (status, mut cidrs, why) = if uncovered.is_empty() {
            (
                FactStatus::Known,
                used,
                "every node's InternalIP lies in a network whose prefix is stated".to_string(),
            )
        } else {
            let extra = cidr::covering(uncovered.iter().copied());
            let why = format!(
                "{} node address(es) lie outside every stated network; their covering prefix {} is inferred",
                uncovered.len(),
                cidr::join(&extra)
            );
            let mut v = used;
            v.extend(extra);
            (FactStatus::Inferred, v, why)
        };
        cidrs.sort();
        cidrs.dedup();
        let chosen = sources
            .iter()
            .filter(|s| s.status == SourceStatus::Found)
            .map(|s| s.id)
            .min();
        Fact {
            status,
            cidrs,
            chosen,
            why,
            sources,
        }
    };
    (fact, rows)
}

// ---------------- pod CIDR ----------------

/// Every node's podCIDRs that parse, with the node's name.
pub fn node_pod_cidrs(c: &Cluster) -> Vec<(String, IpNet)> {
    c.nodes
        .iter()
        .flat_map(|n| {
            n.spec
                .cidrs()
                .into_iter()
                .filter_map(|p| cidr::parse(p).ok())
                .map(move |p| (n.name().to_string(), p))
        })
        .collect()
}

fn flag_sources(c: &Cluster, component: &str, flag: &str, id: SourceId) -> Vec<Source> {
    components::invocations(c, component)
        .iter()
        .filter_map(|inv| {
            inv.flag(flag)
                .map(|h| Source::parsed(id, &h.value, format!("{}: {}", inv.origin, h.text)))
        })
        .collect()
}

fn kubeadm_networking(
    c: &Cluster,
    out: &mut Vec<Source>,
    pick: fn(&config::Networking) -> Option<&String>,
    field: &str,
) {
    let w = what::config_map("kube-system", "kubeadm-config");
    if let Some(s) = skipped_if(c, SourceId::KubeadmConfig, &w) {
        out.push(s);
        return;
    }
    let Some(cm) = c.config_map("kube-system", "kubeadm-config") else {
        return;
    };
    let Some(text) = cm.data.get("ClusterConfiguration") else {
        return;
    };
    let ev =
        format!("configmap kube-system/kubeadm-config: ClusterConfiguration networking.{field}");
    match config::cluster_configuration(text) {
        Ok(cc) => match pick(&cc.networking) {
            Some(v) => out.push(Source::parsed(
                SourceId::KubeadmConfig,
                v,
                format!("{ev}: {v}"),
            )),
            None if field == "serviceSubnet" => out.push(Source::default_value(
                SourceId::KubeadmConfig,
                cidr::parse_list(KUBEADM_SERVICE_DEFAULT).0,
                format!("{ev} not set: kubeadm default {KUBEADM_SERVICE_DEFAULT}"),
            )),
            None => {}
        },
        Err(e) => out.push(Source::invalid(
            SourceId::KubeadmConfig,
            None,
            format!("{ev}: {e}"),
        )),
    }
}

fn k3s_sources(c: &Cluster, flag: &str, default: &str, out: &mut Vec<Source>) {
    let Some((flavour, _)) = cni::k3s_flavour(c) else {
        return;
    };
    let mut servers = 0;
    for n in &c.nodes {
        let key = format!("{flavour}.io/node-args");
        let Some(raw) = n.metadata.annotations.get(&key) else {
            continue;
        };
        let ev = format!("node {} annotation {key}", n.name());
        match config::node_args(raw) {
            Ok(args) => {
                if args.first().map(String::as_str) != Some("server") {
                    continue;
                }
                servers += 1;
                match flags::last(&args, flag) {
                    Some(h) => out.push(Source::parsed(
                        SourceId::K3sArgs,
                        &h.value,
                        format!("{ev}: {}", h.text),
                    )),
                    None => out.push(Source::default_value(
                        SourceId::K3sDefault,
                        cidr::parse_list(default).0,
                        format!("{ev} has no --{flag}: {flavour} default {default}"),
                    )),
                }
            }
            Err(e) => out.push(Source::invalid(
                SourceId::K3sArgs,
                Some(raw.clone()),
                format!("{ev}: {e}"),
            )),
        }
    }
    if servers == 0 {
        out.push(Source::default_value(
            SourceId::K3sDefault,
            cidr::parse_list(default).0,
            format!("{flavour} detected but no server node's node-args visible: assuming the {flavour} default {default}"),
        ));
    }
}

fn daemonset_env(c: &Cluster, cni: &Cni, container: &str, var: &str) -> Option<(String, String)> {
    let ds = cni::agent(c, cni)?;
    let ct = ds
        .spec
        .template
        .spec
        .containers
        .iter()
        .find(|ct| ct.name == container)?;
    let v = ct.env_value(var)?;
    Some((
        v.to_string(),
        format!(
            "daemonset {}/{} container {container} env {var}={v}",
            ds.metadata.ns(),
            ds.metadata.name
        ),
    ))
}

fn cni_sources(c: &Cluster, cni: &Cni, out: &mut Vec<Source>) {
    match cni.name.as_str() {
        "weave" => {
            let mut have_log = false;
            for p in c
                .pods
                .iter()
                .filter(|p| p.controller().is_some_and(|o| o.name == "weave-net"))
            {
                if let Some(l) = c.log(p.metadata.ns(), p.name(), "weave", false) {
                    if let Some((range, line)) = logs::weave_ipalloc_range(&l.text) {
                        out.push(Source::parsed(
                            SourceId::WeaveLog,
                            &range,
                            format!("log {}/{} [weave]: {line}", p.metadata.ns(), p.name()),
                        ));
                        have_log = true;
                        break;
                    }
                }
            }
            let env = daemonset_env(c, cni, "weave", "IPALLOC_RANGE");
            if let Some((v, ev)) = &env {
                out.push(Source::parsed(SourceId::WeaveEnv, v, ev.clone()));
            }
            if let Some(h) = &c.host {
                for i in h.interfaces.iter().filter(|i| i.name == "weave") {
                    for a in &i.addresses {
                        if let Some((ip, len)) = cidr::parse_addr(a) {
                            let net = IpNet::new(ip, len)
                                .map(|n| n.trunc())
                                .unwrap_or_else(|_| IpNet::from(ip));
                            out.push(Source::found(
                                SourceId::WeaveInterface,
                                vec![net],
                                a.clone(),
                                format!(
                                    "interface weave {a} on {}",
                                    h.hostname.as_deref().unwrap_or("this host")
                                ),
                            ));
                        }
                    }
                }
            }
            let ds_read = cni::agent(c, cni).is_some();
            if env.is_none() && !have_log && ds_read {
                out.push(Source::default_value(
                    SourceId::WeaveDefault,
                    cidr::parse_list(WEAVE_DEFAULT).0,
                    format!(
                        "daemonset {} sets no IPALLOC_RANGE: weave default {WEAVE_DEFAULT}",
                        cni.daemon_set.as_deref().unwrap_or("weave-net")
                    ),
                ));
            }
        }
        "flannel" | "k3s-flannel" | "rke2-flannel" => {
            for ns in ["kube-flannel", "kube-system"] {
                let w = what::config_map(ns, "kube-flannel-cfg");
                if let Some(s) = skipped_if(c, SourceId::FlannelNetConf, &w) {
                    out.push(s);
                }
                let Some(text) = c
                    .config_map(ns, "kube-flannel-cfg")
                    .and_then(|m| m.data.get("net-conf.json"))
                else {
                    continue;
                };
                let ev = format!("configmap {ns}/kube-flannel-cfg: net-conf.json");
                match config::flannel_net_conf(text) {
                    Ok(nc) => {
                        let raw: Vec<&str> = nc
                            .network
                            .iter()
                            .chain(&nc.ipv6_network)
                            .map(String::as_str)
                            .collect();
                        if !raw.is_empty() {
                            let raw = raw.join(",");
                            out.push(Source::parsed(
                                SourceId::FlannelNetConf,
                                &raw,
                                format!("{ev} Network {raw}"),
                            ));
                        }
                    }
                    Err(e) => out.push(Source::invalid(
                        SourceId::FlannelNetConf,
                        Some(text.clone()),
                        format!("{ev}: {e}"),
                    )),
                }
            }
            if let Some(f) = c.host.as_ref().and_then(|h| h.flannel_subnet_env.as_ref()) {
                if let Some((_, v)) = logs::env_file(&f.content)
                    .into_iter()
                    .find(|(k, _)| k == "FLANNEL_NETWORK")
                {
                    out.push(Source::parsed(
                        SourceId::FlannelSubnetEnv,
                        &v,
                        format!("file {}: FLANNEL_NETWORK={v}", f.path),
                    ));
                }
            }
        }
        "calico" => {
            if let Some(s) = skipped_if(c, SourceId::CalicoIppool, what::IPPOOLS) {
                out.push(s);
            }
            let pools: Vec<_> = c
                .ip_pools
                .iter()
                .filter(|p| p.spec.disabled != Some(true))
                .collect();
            for p in &pools {
                out.push(Source::parsed(
                    SourceId::CalicoIppool,
                    &p.spec.cidr,
                    format!("ippool {}: spec.cidr {}", p.metadata.name, p.spec.cidr),
                ));
            }
            let env = daemonset_env(c, cni, "calico-node", "CALICO_IPV4POOL_CIDR");
            if let Some((v, ev)) = &env {
                out.push(Source::parsed(SourceId::CalicoEnv, v, ev.clone()));
            }
            let podsubnet = c
                .config_map("kube-system", "kubeadm-config")
                .and_then(|m| m.data.get("ClusterConfiguration"))
                .and_then(|t| config::cluster_configuration(t).ok())
                .and_then(|cc| cc.networking.pod_subnet);
            if pools.is_empty()
                && env.is_none()
                && podsubnet.is_none()
                && c.error_for(what::IPPOOLS).is_none()
            {
                out.push(Source::default_value(
                    SourceId::CalicoDefault,
                    cidr::parse_list(CALICO_DEFAULT).0,
                    format!("no IPPool, CALICO_IPV4POOL_CIDR or kubeadm podSubnet: calico default {CALICO_DEFAULT}"),
                ));
            }
        }
        "cilium" => {
            let w_ks = what::config_map("kube-system", "cilium-config");
            let cm = c
                .config_map("kube-system", "cilium-config")
                .or_else(|| c.config_map("cilium", "cilium-config"));
            match cm {
                None => {
                    if let Some(s) = skipped_if(c, SourceId::CiliumConfig, &w_ks) {
                        out.push(s);
                    }
                }
                Some(cm) if cni.ipam == "own-range" => {
                    let ns = cm.metadata.ns();
                    let keys = ["cluster-pool-ipv4-cidr", "cluster-pool-ipv6-cidr"];
                    let mut any = false;
                    for k in keys {
                        if let Some(v) = cm.data.get(k).filter(|v| !v.trim().is_empty()) {
                            // cilium-config separates several pools with spaces.
                            let raw = v.split_whitespace().collect::<Vec<_>>().join(",");
                            out.push(Source::parsed(
                                SourceId::CiliumConfig,
                                &raw,
                                format!("configmap {ns}/cilium-config: {k}={v}"),
                            ));
                            any = true;
                        }
                    }
                    if !any {
                        out.push(Source::default_value(
                            SourceId::CiliumDefault,
                            cidr::parse_list(CILIUM_DEFAULT).0,
                            format!("configmap {ns}/cilium-config has no cluster-pool-ipv4-cidr: cilium default {CILIUM_DEFAULT}"),
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        "kindnet" => {
            for var in ["POD_SUBNET", "POD_SUBNETV6"] {
                if let Some((v, ev)) = daemonset_env(c, cni, "kindnet-cni", var) {
                    out.push(Source::parsed(SourceId::KindnetEnv, &v, ev));
                }
            }
        }
        _ => {}
    }
}

fn pod_cidr(c: &Cluster, cni: &Cni) -> Fact {
    let mut s = Vec::new();
    cni_sources(c, cni, &mut s);
    s.extend(flag_sources(
        c,
        "kube-controller-manager",
        "cluster-cidr",
        SourceId::KubeControllerManagerFlag,
    ));
    kubeadm_networking(c, &mut s, |n| n.pod_subnet.as_ref(), "podSubnet");
    k3s_sources(c, "cluster-cidr", K3S_POD_DEFAULT, &mut s);
    kube_proxy_cluster_cidr(c, &mut s);

    let node_cidrs = node_pod_cidrs(c);
    if !node_cidrs.is_empty() {
        let nets: Vec<IpNet> = node_cidrs.iter().map(|(_, n)| *n).collect();
        let cover = cidr::covering_nets(&nets);
        s.push(Source::found(
            SourceId::NodePodcidrs,
            cover.clone(),
            cidr::join(&cover),
            format!(
                "covering spec.podCIDRs of {} node(s), e.g. node {} {}",
                c.nodes
                    .iter()
                    .filter(|n| !n.spec.cidrs().is_empty())
                    .count(),
                node_cidrs[0].0,
                node_cidrs[0].1
            ),
        ));
    }
    if let Some(p) = c.pod_addresses().next() {
        let cover = cidr::covering(c.pod_addresses().map(|a| a.ip));
        s.push(Source::found(
            SourceId::PodIps,
            cover.clone(),
            cidr::join(&cover),
            format!(
                "smallest prefix covering {} pod IP(s) of non-hostNetwork pods, e.g. {}/{} {}",
                c.pod_addresses().count(),
                p.namespace,
                p.name,
                p.ip
            ),
        ));
    } else if let Some(e) = skipped_if(c, SourceId::PodIps, what::PODS) {
        s.push(e);
    }
    decide(s, "pod range")
}

/// kube-proxy's clusterCIDR, from the kubeadm or EKS ConfigMap or a --cluster-cidr flag.
fn kube_proxy_cluster_cidr(c: &Cluster, out: &mut Vec<Source>) {
    for (name, key) in [
        ("kube-proxy", "config.conf"),
        ("kube-proxy-config", "config"),
    ] {
        let w = what::config_map("kube-system", name);
        if let Some(s) = skipped_if(c, SourceId::KubeProxyConfig, &w) {
            if name == "kube-proxy" {
                out.push(s);
            }
            continue;
        }
        let Some(text) = c
            .config_map("kube-system", name)
            .and_then(|m| m.data.get(key))
        else {
            continue;
        };
        if let Ok(cfg) = config::kube_proxy_config(text) {
            if let Some(v) = cfg.cluster_cidr.filter(|v| !v.trim().is_empty()) {
                out.push(Source::parsed(
                    SourceId::KubeProxyConfig,
                    &v,
                    format!("configmap kube-system/{name}: {key} clusterCIDR: {v}"),
                ));
            }
        }
    }
    out.extend(flag_sources(
        c,
        "kube-proxy",
        "cluster-cidr",
        SourceId::KubeProxyConfig,
    ));
}

// ---------------- service CIDR ----------------

fn service_cidr(c: &Cluster) -> Fact {
    let mut s = Vec::new();
    for sc in &c.service_cidrs {
        let raw = sc.spec.cidrs.join(",");
        let v = sc.api_version.as_deref().unwrap_or("networking.k8s.io/v1");
        s.push(Source::parsed(
            SourceId::ServicecidrApi,
            &raw,
            format!("servicecidr {} ({v}): spec.cidrs {raw}", sc.metadata.name),
        ));
    }
    if let Some(e) = c.error_for(what::SERVICECIDRS) {
        s.push(Source::skipped(SourceId::ServicecidrApi, e));
    }
    let api = components::invocations(c, "kube-apiserver");
    for inv in &api {
        match inv.flag("service-cluster-ip-range") {
            Some(h) => s.push(Source::parsed(SourceId::KubeApiserverFlag, &h.value, format!("{}: {}", inv.origin, h.text))),
            None => s.push(Source::default_value(
                SourceId::KubeApiserverDefault,
                cidr::parse_list(APISERVER_SERVICE_DEFAULT).0,
                format!("{}: no --service-cluster-ip-range, kube-apiserver default {APISERVER_SERVICE_DEFAULT}", inv.origin),
            )),
        }
    }
    if api.is_empty() {
        if let Some(e) = c.error_for(what::PODS) {
            s.push(Source::skipped(SourceId::KubeApiserverFlag, e));
        }
    }
    if let Some(p) = &c.probe {
        s.push(probe_source(p));
    } else if let Some(e) = c.error_for(what::PROBE) {
        s.push(Source::skipped(SourceId::ServiceCidrProbe, e));
    }
    s.extend(flag_sources(
        c,
        "kube-controller-manager",
        "service-cluster-ip-range",
        SourceId::KubeControllerManagerFlag,
    ));
    kubeadm_networking(c, &mut s, |n| n.service_subnet.as_ref(), "serviceSubnet");
    k3s_sources(c, "service-cidr", K3S_SERVICE_DEFAULT, &mut s);

    if let Some(k) = c
        .services
        .iter()
        .find(|x| x.metadata.name == "kubernetes" && x.metadata.ns() == "default")
    {
        let ips: Vec<IpNet> = k
            .ips()
            .into_iter()
            .filter_map(cidr::parse_ip)
            .map(IpNet::from)
            .collect();
        if !ips.is_empty() {
            s.push(Source::found(SourceId::KubernetesService, ips.clone(), cidr::join(&ips), format!("service default/kubernetes spec.clusterIPs {} (the first address of the range)", k.ips().join(","))));
        }
    }
    let ips: Vec<IpAddr> = c
        .services
        .iter()
        .flat_map(|x| x.ips())
        .filter_map(cidr::parse_ip)
        .collect();
    if !ips.is_empty() {
        let cover = cidr::covering(ips.iter().copied());
        s.push(Source::found(
            SourceId::ServiceIps,
            cover.clone(),
            cidr::join(&cover),
            format!(
                "smallest prefix covering {} Service ClusterIP(s)",
                ips.len()
            ),
        ));
    } else if let Some(e) = skipped_if(c, SourceId::ServiceIps, what::SERVICES) {
        s.push(e);
    }
    decide(s, "service range")
}

fn probe_source(p: &crate::model::ServiceCidrProbe) -> Source {
    static RANGE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"The range of valid IPs is (\S+)").unwrap());
    let ev = format!(
        "dry-run create of a Service with clusterIP {} answered {}: {}",
        p.requested_ip, p.code, p.message
    );
    match RANGE.captures(&p.message) {
        Some(m) => Source::parsed(SourceId::ServiceCidrProbe, m[1].trim_end_matches(['.', ',', '"']), ev),
        None => Source {
            id: SourceId::ServiceCidrProbe,
            status: SourceStatus::Skipped,
            cidrs: vec![],
            raw: None,
            evidence: format!("{ev} (names no range: servers with the MultiCIDRServiceAllocator only say so; use the ServiceCIDR API)"),
            needs: None,
        },
    }
}
