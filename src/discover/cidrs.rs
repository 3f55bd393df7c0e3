//! Node network, pod CIDR and service CIDR, each from every source that applies.

use super::env::{self, Env};
use super::{cni, components, platform, Hints};
use crate::cidr;
use crate::model::{what, Cluster, AZURE_NNC, KUBEOVN_SUBNET, OPENSHIFT_NETWORK};
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
    let platform = platform::detect(c);
    let (node_network, nodes) = node_network(c, hints);
    CidrAnswer {
        pod_cidr: pod_cidr(c, &cni, &platform),
        service_cidr: service_cidr(c, &platform),
        platform,
        cni,
        node_network,
        nodes,
    }
}

/// What the cluster shows of a range: the addresses in use, and for the service range the
/// `kubernetes` Service's ClusterIP (always the first address of the primary range).
#[derive(Default)]
struct Observed {
    what: &'static str,
    ips: Vec<IpAddr>,
    anchor: Vec<IpAddr>,
}

enum Verdict {
    Contradicted(String),
    Supported,
    Untested,
}

impl Observed {
    /// Judges a stated range by the addresses of the families it covers. A majority outside
    /// (or the `kubernetes` Service outside) rules it out; a minority outside is left to the
    /// address checks, as after a range was shrunk.
    fn judge(&self, cidrs: &[IpNet]) -> Verdict {
        let v4 = cidrs.iter().any(|n| matches!(n, IpNet::V4(_)));
        let v6 = cidrs.iter().any(|n| matches!(n, IpNet::V6(_)));
        let covered = |ip: &&IpAddr| if ip.is_ipv4() { v4 } else { v6 };
        if let Some(a) = self
            .anchor
            .iter()
            .filter(covered)
            .find(|a| !cidr::contains_ip(cidrs, a))
        {
            return Verdict::Contradicted(format!(
                "the kubernetes Service's ClusterIP {a} lies outside it"
            ));
        }
        let (mut inside, mut outside, mut eg) = (0usize, 0usize, None);
        for ip in self.ips.iter().filter(covered) {
            if cidr::contains_ip(cidrs, ip) {
                inside += 1;
            } else {
                outside += 1;
                eg.get_or_insert(*ip);
            }
        }
        match eg {
            Some(eg) if outside > inside => Verdict::Contradicted(format!(
                "{outside} of {} {} lie outside it (e.g. {eg})",
                inside + outside,
                self.what
            )),
            _ if inside > 0 || self.anchor.iter().any(|a| covered(&a)) => Verdict::Supported,
            _ => Verdict::Untested,
        }
    }
}

/// Chooses the effective value: the best-ranked source that states one and that the cluster
/// does not contradict. A candidate default is taken only when the addresses in use agree with
/// it, and then as "inferred"; observed sources only give a lower bound ("inferred" too).
fn decide(mut sources: Vec<Source>, what_for: &str, obs: &Observed) -> Fact {
    sources.sort_by_key(|s| s.id);
    let stated = |s: &Source| {
        matches!(
            s.status,
            SourceStatus::Found | SourceStatus::Default | SourceStatus::Candidate
        ) && !s.cidrs.is_empty()
            && !s.id.is_observed()
    };
    // Every ServiceCIDR object is allocated from: that source's range is their union.
    let union: Vec<IpNet> = {
        let mut all: Vec<IpNet> = sources
            .iter()
            .filter(|s| s.id == SourceId::ServicecidrApi && s.status == SourceStatus::Found)
            .flat_map(|s| s.cidrs.iter().copied())
            .collect();
        all.dedup();
        all
    };
    let mut passed = Vec::new();
    let mut pick = None;
    for i in 0..sources.len() {
        let s = &sources[i];
        if !stated(s) || s.contradicted_by.is_some() {
            continue;
        }
        let cidrs = match s.id {
            SourceId::ServicecidrApi => union.clone(),
            _ => s.cidrs.clone(),
        };
        match obs.judge(&cidrs) {
            Verdict::Contradicted(why) => {
                let id = s.id;
                passed.push(format!(
                    "{} ({}) is contradicted: {why}",
                    id.name(),
                    cidr::join(&cidrs)
                ));
                for x in sources.iter_mut().filter(|x| x.id == id && stated(x)) {
                    x.contradicted_by = Some(why.clone());
                }
            }
            Verdict::Untested if s.status == SourceStatus::Candidate => passed.push(format!(
                "{}'s default {} is only a candidate and no address in use confirms it",
                s.id.name(),
                cidr::join(&cidrs)
            )),
            v => {
                pick = Some((i, cidrs, matches!(v, Verdict::Supported)));
                break;
            }
        }
    }
    let not_used = if passed.is_empty() {
        String::new()
    } else {
        format!("; not used: {}", passed.join("; "))
    };
    if let Some((i, cidrs, supported)) = pick {
        let best = &sources[i];
        let (status, reason) = if best.status == SourceStatus::Candidate {
            (
                FactStatus::Inferred,
                "the documented default, which the addresses in use agree with; but netcheck could not see all that could set it",
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
        let checked = if supported && !obs.what.is_empty() {
            format!(" (consistent with the {} in use)", obs.what)
        } else {
            String::new()
        };
        return Fact {
            status,
            cidrs,
            chosen: Some(best.id),
            why: format!("{}: {reason}{checked}{not_used}", best.id.name()),
            sources,
        };
    }
    let observed = |s: &&Source| {
        s.id.is_observed()
            && s.id != SourceId::KubernetesService
            && s.status == SourceStatus::Found
            && !s.cidrs.is_empty()
    };
    if let Some(best) = sources.iter().find(observed) {
        return Fact {
            status: FactStatus::Inferred,
            cidrs: best.cidrs.clone(),
            chosen: Some(best.id),
            why: format!(
                "{}: inferred from addresses in use: a lower bound, not a configured range{not_used}",
                best.id.name()
            ),
            sources,
        };
    }
    let skipped: Vec<String> = sources
        .iter()
        .filter(|s| s.status == SourceStatus::Skipped)
        .map(|s| s.id.name())
        .collect();
    let why = if skipped.is_empty() {
        format!("no source states the {what_for}{not_used}")
    } else {
        format!(
            "no source states the {what_for}; could not read: {}{not_used}",
            skipped.join(", ")
        )
    };
    Fact::unknown(why, sources)
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
                pod_cidrs: n.pod_subnets(),
                ready: n.ready(),
            }
        })
        .collect();

    let fact = if stated.is_empty() || node_ips.is_empty() {
        decide(sources, "node network", &Observed::default())
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
/// The cluster CIDR node podCIDRs are carved from: kube-controller-manager's --cluster-cidr or
/// the kubeadm, k3s or OpenShift equivalent; else the chosen source if it is a stated range.
pub fn cluster_cidr(fact: &Fact) -> Option<&Source> {
    fact.believed()
        .filter(|s| {
            matches!(
                s.id,
                SourceId::KubeControllerManagerFlag
                    | SourceId::KubeadmConfig
                    | SourceId::K3sArgs
                    | SourceId::K3sDefault
                    | SourceId::OpenshiftNetwork
            )
        })
        .min_by_key(|s| s.id)
        .or_else(|| {
            fact.believed()
                .find(|s| Some(s.id) == fact.chosen && !s.id.is_observed())
        })
}

/// Each node's pod subnets with its name. Asked by four answers: the names are borrowed (at
/// 5,000 nodes a copy each was 20,000 allocations a report).
pub fn node_pod_cidrs(c: &Cluster) -> Vec<(&str, IpNet)> {
    c.nodes
        .iter()
        .flat_map(|n| n.pod_nets().into_iter().map(move |p| (n.name(), p)))
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
                Some(raw.to_string()),
                format!("{ev}: {e}"),
            )),
        }
    }
    if servers == 0 {
        out.push(Source::candidate(
            SourceId::K3sDefault,
            cidr::parse_list(default).0,
            format!("{flavour} detected but no server node's node-args visible: the {flavour} default {default} applies only if the server sets nothing"),
        ));
    }
}

/// An env variable of the CNI agent's container, as its DaemonSet's template gives it, with
/// the evidence prefixed by the DaemonSet and container. None when the DaemonSet or container
/// is not visible.
fn daemonset_env(c: &Cluster, cni: &Cni, container: &str, var: &str) -> Option<Env> {
    let ds = cni::agent(c, cni)?;
    let ct = ds
        .spec
        .template
        .spec
        .containers
        .iter()
        .find(|ct| ct.name == container)?;
    let at = format!(
        "daemonset {}/{} container {container}",
        ds.metadata.ns(),
        ds.metadata.name
    );
    Some(match env::resolve(c, ds.metadata.ns(), ct, var) {
        Env::Set(v, ev) => Env::Set(v, format!("{at} {ev}")),
        Env::Hidden(why) => Env::Hidden(format!("{at}: {why}")),
        Env::Unset => Env::Unset,
    })
}

/// The agent's own statement of its range from an env variable, if it sets one.
fn env_source(id: SourceId, env: &Option<Env>, out: &mut Vec<Source>) {
    if let Some(Env::Set(v, ev)) = env {
        out.push(Source::parsed(id, v, ev.clone()));
    }
}

/// The CNI's documented default: the answer when the agent's whole environment was seen and
/// sets nothing, a candidate when something netcheck could not read may set it.
fn cni_default(id: SourceId, default: &str, env: &Option<Env>, unset: String) -> Option<Source> {
    let cidrs = cidr::parse_list(default).0;
    match env {
        Some(Env::Set(..)) => None,
        Some(Env::Hidden(why)) => Some(Source::candidate(
            id,
            cidrs,
            format!("{why}: the default {default} applies only if that sets nothing"),
        )),
        _ => Some(Source::default_value(id, cidrs, unset)),
    }
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
            env_source(SourceId::WeaveEnv, &env, out);
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
            if cni::agent(c, cni).is_some() && !have_log {
                let unset = format!(
                    "daemonset {} sets no IPALLOC_RANGE: weave default {WEAVE_DEFAULT}",
                    cni.daemon_set.as_deref().unwrap_or("weave-net")
                );
                out.extend(cni_default(
                    SourceId::WeaveDefault,
                    WEAVE_DEFAULT,
                    &env,
                    unset,
                ));
            }
        }
        "flannel" | "k3s-flannel" | "rke2-flannel" | "canal" => {
            for (ns, name) in cni::net_conf_maps(cni) {
                let w = what::config_map(&ns, &name);
                if let Some(s) = skipped_if(c, SourceId::FlannelNetConf, &w) {
                    out.push(s);
                }
                let Some(text) = c
                    .config_map(&ns, &name)
                    .and_then(|m| m.data.get("net-conf.json"))
                else {
                    continue;
                };
                let ev = format!("configmap {ns}/{name}: net-conf.json");
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
            env_source(SourceId::CalicoEnv, &env, out);
            let podsubnet = c
                .config_map("kube-system", "kubeadm-config")
                .and_then(|m| m.data.get("ClusterConfiguration"))
                .and_then(|t| config::cluster_configuration(t).ok())
                .and_then(|cc| cc.networking.pod_subnet);
            if pools.is_empty() && podsubnet.is_none() && c.error_for(what::IPPOOLS).is_none() {
                let unset = format!("no IPPool, CALICO_IPV4POOL_CIDR or kubeadm podSubnet: calico default {CALICO_DEFAULT}");
                out.extend(cni_default(
                    SourceId::CalicoDefault,
                    CALICO_DEFAULT,
                    &env,
                    unset,
                ));
            }
        }
        "kube-ovn" => {
            let w = what::object(&KUBEOVN_SUBNET, None);
            if let Some(s) = skipped_if(c, SourceId::KubeOvnSubnet, &w) {
                out.push(s);
            }
            for o in c.objects_of(&KUBEOVN_SUBNET) {
                let default = o.spec.get("default").and_then(|d| d.as_bool()) == Some(true);
                if let (true, Some(cidr)) =
                    (default, o.spec.get("cidrBlock").and_then(|v| v.as_str()))
                {
                    out.push(Source::parsed(
                        SourceId::KubeOvnSubnet,
                        cidr,
                        format!(
                            "subnet {} (kubeovn.io/v1, the default subnet): spec.cidrBlock {cidr}",
                            o.metadata.name
                        ),
                    ));
                }
            }
        }
        "azure-cni" | "cilium" => {
            let w = what::object(&AZURE_NNC, None);
            if let Some(s) = skipped_if(c, SourceId::AzureNnc, &w) {
                out.push(s);
            }
            // Each node's network container states the range its pods' addresses come from: the
            // overlay pod CIDR, or in VNet modes the (node or pod) subnet.
            let mut seen = Vec::new();
            for o in c.objects_of(&AZURE_NNC) {
                let ncs = o.status.get("networkContainers").and_then(|v| v.as_array());
                for nc in ncs.into_iter().flatten() {
                    let kind = nc.get("type").and_then(|t| t.as_str()).unwrap_or("");
                    let space = nc.get("subnetAddressSpace").and_then(|v| v.as_str());
                    if let Some(space) = space.filter(|s| !seen.contains(s)) {
                        seen.push(space);
                        out.push(Source::parsed(
                            SourceId::AzureNnc,
                            space,
                            format!("nodenetworkconfig {}/{} (acn.azure.com): {kind} networkContainer subnetAddressSpace {space}", o.metadata.ns(), o.metadata.name),
                        ));
                    }
                }
            }
            if cni.name == "cilium" {
                cilium_sources(c, cni, out);
            }
        }
        "kindnet" => {
            for var in ["POD_SUBNET", "POD_SUBNETV6"] {
                env_source(
                    SourceId::KindnetEnv,
                    &daemonset_env(c, cni, "kindnet-cni", var),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// Cilium's cluster-pool range (or its default) from `cilium-config`.
fn cilium_sources(c: &Cluster, cni: &Cni, out: &mut Vec<Source>) {
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
        // Only cluster-pool (the default) states a range in cilium-config.
        Some(cm)
            if cni.ipam == "own-range"
                && cm.data.get("ipam").is_none_or(|m| m == "cluster-pool") =>
        {
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

/// OpenShift's cluster Network object: what the network operator configured the cluster
/// from. `status` is what it applied; `spec` what was asked for.
fn openshift_network(c: &Cluster, field: &str, out: &mut Vec<Source>) {
    let w = what::object(&OPENSHIFT_NETWORK, Some("cluster"));
    if let Some(s) = skipped_if(c, SourceId::OpenshiftNetwork, &w) {
        out.push(s);
        return;
    }
    let Some(o) = c
        .objects_of(&OPENSHIFT_NETWORK)
        .find(|o| o.metadata.name == "cluster")
    else {
        return;
    };
    let Some((part, list)) = [("status", &o.status), ("spec", &o.spec)]
        .into_iter()
        .find_map(|(k, v)| Some((k, v.get(field)?.as_array().filter(|a| !a.is_empty())?)))
    else {
        return;
    };
    let mut prefixes = Vec::new();
    let cidrs: Vec<&str> = list
        .iter()
        .filter_map(|e| {
            if let Some(h) = e.get("hostPrefix").and_then(|h| h.as_u64()) {
                prefixes.push(format!("/{h}"));
            }
            e.as_str().or_else(|| e.get("cidr")?.as_str())
        })
        .collect();
    let raw = cidrs.join(",");
    let per_node = if prefixes.is_empty() {
        String::new()
    } else {
        format!(" (hostPrefix {}: each node's slice)", prefixes.join(","))
    };
    out.push(Source::parsed(
        SourceId::OpenshiftNetwork,
        &raw,
        format!("network.config.openshift.io/cluster {part}.{field}: {raw}{per_node}"),
    ));
}

/// The platform's documented defaults, when its control plane is hidden: candidates only.
fn platform_defaults(
    p: &Platform,
    pick: fn(&platform::Defaults) -> &'static [&'static str],
    out: &mut Vec<Source>,
) {
    let Some(d) = platform::defaults(&p.name) else {
        return;
    };
    for range in pick(&d) {
        out.push(Source::candidate(
            SourceId::PlatformDefault,
            cidr::parse_list(range).0,
            format!("{} ({}): {}", p.name, p.evidence, d.said),
        ));
    }
}

fn pod_cidr(c: &Cluster, cni: &Cni, p: &Platform) -> Fact {
    let mut s = Vec::new();
    cni_sources(c, cni, &mut s);
    s.extend(flag_sources(
        c,
        "kube-controller-manager",
        "cluster-cidr",
        SourceId::KubeControllerManagerFlag,
    ));
    // Its flags are read from its mirror pod: with the pods unread they are unknown.
    if components::invocations(c, "kube-controller-manager").is_empty() {
        if let Some(e) = skipped_if(c, SourceId::KubeControllerManagerFlag, what::PODS) {
            s.push(e);
        }
    }
    kubeadm_networking(c, &mut s, |n| n.pod_subnet.as_ref(), "podSubnet");
    k3s_sources(c, "cluster-cidr", K3S_POD_DEFAULT, &mut s);
    openshift_network(c, "clusterNetwork", &mut s);
    platform_defaults(p, |d| d.pod, &mut s);
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
                "covering {} of {} node(s), e.g. node {} {}",
                if c.nodes.iter().any(|n| n.spec.cidrs().is_empty()) {
                    "spec.podCIDRs (or OVN-Kubernetes's k8s.ovn.org/node-subnets)"
                } else {
                    "spec.podCIDRs"
                },
                {
                    let mut names: Vec<&str> = node_cidrs.iter().map(|(n, _)| *n).collect();
                    names.dedup();
                    names.len()
                },
                node_cidrs[0].0,
                node_cidrs[0].1
            ),
        ));
    }
    // Every pod's addresses walked once for the cover, the count and the running pods' (at
    // 150,000 pods each walk is a pass over megabytes; callgrind, issue #20).
    let (mut count, mut running) = (0usize, Vec::new());
    let cover = cidr::covering(c.pod_addresses().map(|a| {
        count += 1;
        if !a.finished {
            running.push(a.ip);
        }
        a.ip
    }));
    if let Some(p) = c.pod_addresses().next() {
        s.push(Source::found(
            SourceId::PodIps,
            cover.clone(),
            cidr::join(&cover),
            format!(
                "smallest prefix covering {count} pod IP(s) of non-hostNetwork pods, e.g. {}/{} {}",
                p.namespace, p.name, p.ip
            ),
        ));
    } else if let Some(e) = skipped_if(c, SourceId::PodIps, what::PODS) {
        s.push(e);
    }
    let obs = Observed {
        what: "pod IPs",
        ips: running,
        anchor: vec![],
    };
    decide(s, "pod range", &obs)
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
    // A DaemonSet configured by flags alone (AKS): --config would override them.
    let ds = c.daemon_set("kube-system", "kube-proxy");
    let ct = ds.and_then(|d| {
        let cs = &d.spec.template.spec.containers;
        cs.iter().find(|c| c.name == "kube-proxy").or(cs.first())
    });
    if let Some(ct) = ct {
        let words = flags::words(ct.argv());
        if let (Some(h), None) = (
            flags::last(&words, "cluster-cidr"),
            flags::last(&words, "config"),
        ) {
            out.push(Source::parsed(
                SourceId::KubeProxyConfig,
                &h.value,
                format!(
                    "daemonset kube-system/kube-proxy container {}: {}",
                    ct.name, h.text
                ),
            ));
        }
    }
}

// ---------------- service CIDR ----------------

fn service_cidr(c: &Cluster, p: &Platform) -> Fact {
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
            Some(h) => s.push(Source::parsed(
                SourceId::KubeApiserverFlag,
                &h.value,
                format!("{}: {}", inv.origin, h.text),
            )),
            None => {
                let default = cidr::parse_list(APISERVER_SERVICE_DEFAULT).0;
                let ev = format!("{}: no --service-cluster-ip-range", inv.origin);
                s.push(match inv.hidden() {
                    None => Source::default_value(SourceId::KubeApiserverDefault, default, format!("{ev}, kube-apiserver default {APISERVER_SERVICE_DEFAULT}")),
                    Some(why) => Source::candidate(SourceId::KubeApiserverDefault, default, format!("{ev}, but {why}: kube-apiserver's default {APISERVER_SERVICE_DEFAULT} applies only if that sets none")),
                });
            }
        }
    }
    if api.is_empty() {
        if let Some(e) = c.error_for(what::PODS) {
            s.push(Source::skipped(SourceId::KubeApiserverFlag, e));
        } else if p.name == "microk8s" {
            s.push(Source::elsewhere(SourceId::KubeApiserverFlag, "MicroK8s runs kube-apiserver inside kubelite, not in a pod: its flags are in /var/snap/microk8s/current/args/kube-apiserver on each control-plane node (netcheck --on-node there reads them)"));
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
    openshift_network(c, "serviceNetwork", &mut s);
    platform_defaults(p, |d| d.service, &mut s);

    let mut anchor = vec![];
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
        anchor = ips.iter().map(IpNet::addr).collect();
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
    let obs = Observed {
        what: "Service ClusterIPs",
        ips,
        anchor,
    };
    decide(s, "service range", &obs)
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
            contradicted_by: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &str) -> Vec<IpNet> {
        cidr::parse_list(s).0
    }
    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }
    fn flag(range: &str) -> Source {
        Source::parsed(SourceId::KubeApiserverFlag, range, "flag")
    }
    fn observed(cover: &str) -> Source {
        Source::found(SourceId::ServiceIps, nets(cover), cover, "covering")
    }
    fn services(list: &[&str], kubernetes: &str) -> Observed {
        Observed {
            what: "Service ClusterIPs",
            ips: ips(list),
            anchor: ips(&[kubernetes]),
        }
    }

    #[test]
    fn a_minority_outside_a_stated_range_leaves_it_known() {
        // The range was shrunk from /12 to /16: two old Services stay outside, eight are in.
        let mut in_range: Vec<String> = (1..=8).map(|i| format!("10.96.0.{i}")).collect();
        in_range.extend(["10.100.3.4".into(), "10.101.9.9".into()]);
        let list: Vec<&str> = in_range.iter().map(String::as_str).collect();
        let f = decide(
            vec![flag("10.96.0.0/16"), observed("10.96.0.0/12")],
            "service range",
            &services(&list, "10.96.0.1"),
        );
        assert_eq!(
            (f.status, f.cidrs.clone()),
            (FactStatus::Known, nets("10.96.0.0/16"))
        );
        assert!(f.sources.iter().all(|s| s.contradicted_by.is_none()));
    }

    #[test]
    fn a_majority_outside_or_the_kubernetes_service_outside_rules_a_source_out() {
        // OpenShift-like: the default 10.0.0.0/24 against Services in 172.30.0.0/16.
        let default =
            Source::default_value(SourceId::KubeApiserverDefault, nets("10.0.0.0/24"), "d");
        let list = ["172.30.0.1", "172.30.0.10", "172.30.140.3", "10.0.0.9"];
        let f = decide(
            vec![default.clone(), observed("0.0.0.0/0")],
            "service range",
            &services(&list, "172.30.0.1"),
        );
        assert_eq!(f.status, FactStatus::Inferred);
        assert_eq!(f.chosen, Some(SourceId::ServiceIps));
        let by = f.sources[0].contradicted_by.as_deref().unwrap();
        assert!(
            by.contains("kubernetes Service's ClusterIP 172.30.0.1"),
            "{by}"
        );
        assert!(
            f.why
                .contains("kube-apiserver-default (10.0.0.0/24) is contradicted"),
            "{}",
            f.why
        );
        // Without the kubernetes Service, three of four outside is a majority.
        let f = decide(
            vec![default.clone()],
            "service range",
            &Observed {
                anchor: vec![],
                ..services(&list, "172.30.0.1")
            },
        );
        assert_eq!(f.status, FactStatus::Unknown);
        assert!(f.sources[0]
            .contradicted_by
            .as_deref()
            .unwrap()
            .starts_with("3 of 4 Service ClusterIPs"));
        // Two of four is not a majority: the source stands.
        let even = ["172.30.0.1", "172.30.0.10", "10.0.0.1", "10.0.0.9"];
        let f = decide(
            vec![default],
            "service range",
            &Observed {
                anchor: vec![],
                ..services(&even, "10.0.0.1")
            },
        );
        assert_eq!(f.status, FactStatus::Known);
    }

    #[test]
    fn another_family_does_not_contradict_a_single_stack_range() {
        let list = [
            "10.96.0.1",
            "fd00:10:96::1",
            "fd00:10:96::a",
            "fd00:10:96::b",
        ];
        let f = decide(
            vec![flag("10.96.0.0/16")],
            "service range",
            &services(&list, "10.96.0.1"),
        );
        assert_eq!(f.status, FactStatus::Known);
    }

    #[test]
    fn a_candidate_default_needs_the_addresses_in_use_to_agree() {
        let candidate = Source::candidate(SourceId::WeaveDefault, nets("10.32.0.0/12"), "hidden");
        let kubeadm = Source::parsed(SourceId::KubeadmConfig, "10.244.0.0/16", "podSubnet");
        let pods = |list: &[&str]| Observed {
            what: "pod IPs",
            ips: ips(list),
            anchor: vec![],
        };
        // Pods in the default: the candidate is the answer, but only inferred.
        let f = decide(
            vec![candidate.clone(), kubeadm.clone()],
            "pod range",
            &pods(&["10.32.0.2", "10.44.0.1"]),
        );
        assert_eq!(
            (f.status, f.chosen),
            (FactStatus::Inferred, Some(SourceId::WeaveDefault))
        );
        // Pods elsewhere: the candidate is ruled out, the next stated source is known.
        let f = decide(
            vec![candidate.clone(), kubeadm.clone()],
            "pod range",
            &pods(&["10.244.1.5", "10.244.2.7"]),
        );
        assert_eq!(
            (f.status, f.chosen),
            (FactStatus::Known, Some(SourceId::KubeadmConfig))
        );
        assert!(f.sources[0].contradicted_by.is_some());
        // No pods at all: nothing confirms the candidate, so it is passed over.
        let f = decide(vec![candidate], "pod range", &pods(&[]));
        assert_eq!(f.status, FactStatus::Unknown);
        assert!(f.why.contains("only a candidate"), "{}", f.why);
    }
}
