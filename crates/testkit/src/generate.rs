//! Synthetic clusters of any size for tests and benchmarks: a kubeadm-style control plane, one
//! kube-proxy and one CNI agent pod per node, workload pods and Services, with faults injected
//! on request. Every range is derived from [`Layout`], so tests can state their expectations
//! from the same figures the generator used.

use ipnet::Ipv4Net;
use netcheck::model::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::net::Ipv4Addr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cni {
    Flannel,
    Calico,
    Cilium,
    Weave,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    Iptables,
    Ipvs,
    Nftables,
    /// No kube-proxy: Cilium's kube-proxy replacement (only with [`Cni::Cilium`]).
    Replaced,
}

impl ProxyMode {
    pub fn name(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Ipvs => "ipvs",
            ProxyMode::Nftables => "nftables",
            ProxyMode::Replaced => "",
        }
    }
}

/// Faults to plant; each names the finding netcheck should raise for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inject {
    /// The second worker gets the first worker's podCIDR (podcidr-overlap).
    OverlappingPodCidrs,
    /// The last node's podCIDR lies outside the cluster CIDR (podcidr-outside-cluster-cidr).
    PodCidrOutsideClusterCidr,
    /// One Service's ClusterIP is outside the service range (service-ip-outside-range).
    ServiceIpOutsideRange,
    /// The last node carries a taint the CNI agent does not tolerate (agent-missing).
    UntoleratedTaint,
    /// The first worker's kube-proxy crash-loops (kube-proxy-crashloop).
    ProxyCrashLoop,
    /// The first worker's kube-proxy runs another mode than the rest (proxy-mode-mixed).
    MixedProxyModes,
}

impl Inject {
    pub const ALL: [Inject; 6] = [
        Inject::OverlappingPodCidrs,
        Inject::PodCidrOutsideClusterCidr,
        Inject::ServiceIpOutsideRange,
        Inject::UntoleratedTaint,
        Inject::ProxyCrashLoop,
        Inject::MixedProxyModes,
    ];
    pub fn finding(self) -> &'static str {
        match self {
            Inject::OverlappingPodCidrs => "podcidr-overlap",
            Inject::PodCidrOutsideClusterCidr => "podcidr-outside-cluster-cidr",
            Inject::ServiceIpOutsideRange => "service-ip-outside-range",
            Inject::UntoleratedTaint => "agent-missing",
            Inject::ProxyCrashLoop => "kube-proxy-crashloop",
            Inject::MixedProxyModes => "proxy-mode-mixed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Spec {
    /// Nodes in all, the first being the control plane.
    pub nodes: usize,
    /// Pods per node in all, the node's kube-proxy and CNI agent included.
    pub pods_per_node: usize,
    pub services: usize,
    pub cni: Cni,
    pub proxy: ProxyMode,
    pub inject: Vec<Inject>,
}

impl Spec {
    /// The benchmark shape: 30 pods per node, 2 Services per node.
    pub fn sized(nodes: usize) -> Spec {
        Spec {
            nodes,
            pods_per_node: 30,
            services: nodes * 2,
            cni: Cni::Flannel,
            proxy: ProxyMode::Iptables,
            inject: vec![],
        }
    }
}

/// The address plan every generated cluster follows.
pub struct Layout;

impl Layout {
    pub const NODE_NETWORK: &'static str = "10.0.0.0/16";
    pub const CLUSTER_CIDR: &'static str = "10.64.0.0/10";
    pub const SERVICE_CIDR: &'static str = "172.20.0.0/16";
    /// Where [`Inject::PodCidrOutsideClusterCidr`] puts its podCIDR.
    pub const STRAY_POD_CIDR: &'static str = "10.200.0.0/24";
    pub const STRAY_SERVICE_IP: &'static str = "192.168.77.7";
    pub const VERSION: &'static str = "v1.31.4";
    /// Most nodes the address plan has room for: a /24 of the cluster CIDR each up to 16,000
    /// (of 16,384), a /25 each beyond (see [`Layout::node_mask`]).
    pub const MAX_NODES: usize = 32_000;

    pub fn node_name(i: usize) -> String {
        if i == 0 {
            "cp-0".into()
        } else {
            format!("worker-{i}")
        }
    }
    pub fn node_ip(i: usize) -> Ipv4Addr {
        offset(Ipv4Addr::new(10, 0, 0, 10), i as u32)
    }
    /// Each node's podCIDR size (kube-controller-manager's --node-cidr-mask-size): /24 while
    /// the /10 holds one per node, then /25 (126 addresses, room for the 30 pods a node runs).
    pub fn node_mask(nodes: usize) -> u8 {
        if nodes <= 16_000 {
            24
        } else {
            25
        }
    }
    pub fn pod_cidr(i: usize, mask: u8) -> Ipv4Net {
        let at = offset(Ipv4Addr::new(10, 64, 0, 0), (i as u32) << (32 - mask));
        Ipv4Net::new(at, mask).unwrap()
    }
    pub fn service_ip(i: usize) -> Ipv4Addr {
        offset(Ipv4Addr::new(172, 20, 0, 1), i as u32)
    }
}

fn offset(a: Ipv4Addr, by: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(a) + by)
}

fn from<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("generator templates match the model")
}

/// A short, stable pseudo-random suffix, like the ones controllers append to pod names.
fn suffix(seed: usize) -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5bd1e995;
    (0..5)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ALPHA[(x % ALPHA.len() as u64) as usize] as char
        })
        .collect()
}

struct Agent {
    ns: &'static str,
    ds: &'static str,
    container: &'static str,
    image: &'static str,
    label: (&'static str, &'static str),
}

fn agent(cni: Cni) -> Agent {
    match cni {
        Cni::Flannel => Agent {
            ns: "kube-flannel",
            ds: "kube-flannel-ds",
            container: "kube-flannel",
            image: "ghcr.io/flannel-io/flannel:v0.26.1",
            label: ("app", "flannel"),
        },
        Cni::Calico => Agent {
            ns: "kube-system",
            ds: "calico-node",
            container: "calico-node",
            image: "docker.io/calico/node:v3.29.1",
            label: ("k8s-app", "calico-node"),
        },
        Cni::Cilium => Agent {
            ns: "kube-system",
            ds: "cilium",
            container: "cilium-agent",
            image: "quay.io/cilium/cilium:v1.16.4",
            label: ("k8s-app", "cilium"),
        },
        Cni::Weave => Agent {
            ns: "kube-system",
            ds: "weave-net",
            container: "weave",
            image: "docker.io/weaveworks/weave-kube:2.8.1",
            label: ("name", "weave-net"),
        },
    }
}

pub fn cluster(spec: &Spec) -> Cluster {
    assert!(
        (1..=Layout::MAX_NODES).contains(&spec.nodes),
        "1..={} nodes",
        Layout::MAX_NODES
    );
    let has = |f: Inject| spec.inject.contains(&f);
    let last = spec.nodes - 1;
    let mask = Layout::node_mask(spec.nodes);
    let mut c = Cluster::new_snapshot();
    c.source.mode = "generated".into();
    c.server_version = Some(Layout::VERSION.into());

    // ---- nodes ----
    for i in 0..spec.nodes {
        let mut cidr = Layout::pod_cidr(i, mask).to_string();
        if has(Inject::OverlappingPodCidrs) && i == 2.min(last) && i > 0 {
            cidr = Layout::pod_cidr(1.min(i - 1), mask).to_string();
        }
        if has(Inject::PodCidrOutsideClusterCidr) && i == last {
            cidr = Layout::STRAY_POD_CIDR.into();
        }
        let mut taints = vec![];
        if i == 0 {
            taints.push(
                json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}),
            );
        }
        if has(Inject::UntoleratedTaint) && i == last {
            taints.push(
                json!({"key": "example.com/dedicated", "value": "gpu", "effect": "NoSchedule"}),
            );
        }
        let name = Layout::node_name(i);
        let mut labels = json!({
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": format!("zone-{}", i % 3),
        });
        if i == 0 {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
        }
        c.nodes.push(from(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "taints": taints},
            "status": {
                "addresses": [{"type": "InternalIP", "address": Layout::node_ip(i).to_string()}, {"type": "Hostname", "address": name}],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "nodeInfo": {"kubeletVersion": Layout::VERSION, "kubeProxyVersion": Layout::VERSION, "operatingSystem": "linux", "osImage": "Ubuntu 24.04.1 LTS"}
            }
        })));
    }

    control_plane(&mut c, spec);
    let a = agent(spec.cni);
    let kube_proxy = spec.proxy != ProxyMode::Replaced;
    let agent_nodes = spec.nodes - usize::from(has(Inject::UntoleratedTaint) && spec.nodes > 1);

    // ---- DaemonSets ----
    let ds = |ns: &str,
              name: &str,
              label: (&str, &str),
              container: Value,
              tolerate_all: bool|
     -> DaemonSet {
        let tolerations = if tolerate_all {
            json!([{"operator": "Exists"}])
        } else {
            json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}])
        };
        from(json!({
            "metadata": {"name": name, "namespace": ns, "labels": {label.0: label.1}, "generation": 1},
            "spec": {
                "selector": {"matchLabels": {label.0: label.1}},
                "template": {"metadata": {"labels": {label.0: label.1}}, "spec": {
                    "containers": [container], "hostNetwork": true,
                    "nodeSelector": {"kubernetes.io/os": "linux"}, "tolerations": tolerations}}
            },
            "status": {}
        }))
    };
    let agent_container = agent_container(spec.cni, &a);
    c.daemon_sets
        .push(ds(a.ns, a.ds, a.label, agent_container.clone(), false));
    let proxy_container = json!({"name": "kube-proxy", "image": format!("registry.k8s.io/kube-proxy:{}", Layout::VERSION),
        "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"]});
    if kube_proxy {
        let d = ds(
            "kube-system",
            "kube-proxy",
            ("k8s-app", "kube-proxy"),
            proxy_container.clone(),
            true,
        );
        c.daemon_sets.push(d);
    }

    // ---- per-node pods: agents, then workloads ----
    let workloads = spec
        .pods_per_node
        .saturating_sub(1 + usize::from(kube_proxy));
    let mut seq = 0usize;
    // (namespace, app) -> the pods of that Deployment: (pod, ip, node).
    let mut apps: std::collections::BTreeMap<(String, String), Vec<[String; 3]>> =
        Default::default();
    for i in 0..spec.nodes {
        let node = &c.nodes[i];
        let name = node.name().to_string();
        let ip = Layout::node_ip(i).to_string();
        let pod_net: Ipv4Net = node.spec.pod_cidr.as_deref().unwrap().parse().unwrap();
        if kube_proxy {
            let crash = has(Inject::ProxyCrashLoop) && i == 1.min(last);
            let mixed = has(Inject::MixedProxyModes) && i == 1.min(last);
            let pod = format!("kube-proxy-{}", suffix(i * 7 + 1));
            let (rev, mode) = match (mixed, spec.proxy) {
                (true, ProxyMode::Iptables) => ("6d4b9c7f5d", ProxyMode::Ipvs),
                (true, _) => ("6d4b9c7f5d", ProxyMode::Iptables),
                (false, m) => ("7f9c8d6b5a", m),
            };
            c.pods.push(agent_pod(
                "kube-system",
                &pod,
                "kube-proxy",
                ("k8s-app", "kube-proxy"),
                rev,
                &name,
                &ip,
                proxy_container.clone(),
                crash,
            ));
            c.logs.push(proxy_log(&pod, &ip, mode, crash, false));
            if crash {
                c.logs.push(proxy_log(&pod, &ip, mode, crash, true));
            }
        }
        if i < agent_nodes {
            let pod = format!("{}-{}", a.ds, suffix(i * 7 + 2));
            c.pods.push(agent_pod(
                a.ns,
                &pod,
                a.ds,
                a.label,
                "5c7d9f8b6c",
                &name,
                &ip,
                agent_container.clone(),
                false,
            ));
            if spec.cni == Cni::Weave {
                c.logs.push(PodLog {
                    namespace: a.ns.into(),
                    pod,
                    container: "weave".into(),
                    previous: false,
                    text: format!("INFO: 2024/11/02 08:00:01.000000 Command line options: map[conn-limit:200 datapath:datapath db-prefix:/weavedb/weave-net expect-npc:true http-addr:127.0.0.1:6784 ipalloc-init:consensus=3 ipalloc-range:{} metrics-addr:0.0.0.0:6782 nickname:{name} no-dns:true port:6783]\nINFO: 2024/11/02 08:00:01.000100 weave  2.8.1\n", Layout::CLUSTER_CIDR),
                    truncated: false,
                });
            }
        }
        if i == 0 {
            continue; // the control plane runs no workloads
        }
        for k in 0..workloads {
            seq += 1;
            let app = format!("app-{}", seq % 997);
            let rs = format!("{app}-{}", suffix(seq % 997));
            let ns = format!("team-{}", seq % 40);
            let pod_ip = offset(pod_net.network(), 2 + k as u32).to_string();
            let pod = format!("{rs}-{}", suffix(seq));
            apps.entry((ns.clone(), app.clone())).or_default().push([
                pod.clone(),
                pod_ip.clone(),
                name.clone(),
            ]);
            c.pods.push(from(json!({
                "metadata": {"name": pod, "namespace": ns,
                    "labels": {"app": app, "pod-template-hash": suffix(seq % 997)},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "controller": true}]},
                "spec": {"nodeName": name, "containers": [{"name": "app", "image": format!("registry.example.com/{app}:1.4.2"),
                    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]}]},
                "status": {"phase": "Running", "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "hostIP": ip,
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2024-11-02T08:00:00Z"}}}]}
            })));
        }
    }

    // ---- Services, each selecting one Deployment, and their EndpointSlices ----
    let deployments: Vec<_> = apps.iter().collect();
    let cp_ip = Layout::node_ip(0).to_string();
    for s in 0..spec.services {
        let ip = if has(Inject::ServiceIpOutsideRange) && s == spec.services - 1 {
            Layout::STRAY_SERVICE_IP.to_string()
        } else {
            Layout::service_ip(s).to_string()
        };
        if s == 0 || deployments.is_empty() {
            // The API server's own Service: selector-less, its endpoint made by the API server.
            let name = if s == 0 {
                "kubernetes".to_string()
            } else {
                format!("svc-{s}")
            };
            c.services.push(from(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}
            })));
            c.endpoint_slices.push(from(json!({
                "metadata": {"name": name, "namespace": "default",
                    "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [cp_ip], "conditions": {"ready": true}}],
                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]
            })));
            continue;
        }
        let ((ns, app), pods) = deployments[(s * 7919) % deployments.len()];
        let name = format!("svc-{s}");
        c.services.push(from(json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "selector": {"app": app},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]}
        })));
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|[pod, ip, node]| {
                json!({"addresses": [ip],
 "conditions": {"ready": true, "serving": true, "terminating": false},
                "nodeName": node, "targetRef": {"kind": "Pod", "namespace": ns, "name": pod}})
            })
            .collect();
        c.endpoint_slices.push(from(json!({
            "metadata": {"name": format!("{name}-{}", suffix(s)), "namespace": ns,
                "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                "ownerReferences": [{"kind": "Service", "name": name, "controller": true}]},
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        })));
    }
    c.endpoints_api = Some("discovery.k8s.io/v1".into());

    // ---- DaemonSet status, as the controller would report it ----
    for d in &mut c.daemon_sets {
        let ns = d.metadata.ns().to_string();
        let owned = |p: &&Pod| {
            p.metadata.ns() == ns && p.controller().is_some_and(|o| o.name == d.metadata.name)
        };
        let pods: Vec<&Pod> = c.pods.iter().filter(owned).collect();
        let ready = pods.iter().filter(|p| p.ready()).count() as i64;
        let n = pods.len() as i64;
        d.status = from(
            json!({"desiredNumberScheduled": n, "currentNumberScheduled": n, "numberReady": ready,
            "updatedNumberScheduled": n, "numberAvailable": ready, "numberUnavailable": n - ready,
            "numberMisscheduled": 0, "observedGeneration": 1}),
        );
    }
    c
}

fn agent_container(cni: Cni, a: &Agent) -> Value {
    let mut v = json!({"name": a.container, "image": a.image});
    match cni {
        Cni::Flannel => {
            v["command"] = json!(["/opt/bin/flanneld"]);
            v["args"] = json!(["--ip-masq", "--kube-subnet-mgr"]);
        }
        Cni::Weave => {
            v["command"] = json!(["/home/weave/launch.sh"]);
            v["env"] = json!([{"name": "IPALLOC_RANGE", "value": Layout::CLUSTER_CIDR}]);
        }
        Cni::Calico => {
            v["env"] = json!([{"name": "CALICO_IPV4POOL_CIDR", "value": Layout::CLUSTER_CIDR}])
        }
        Cni::Cilium => v["command"] = json!(["cilium-agent"]),
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn agent_pod(
    ns: &str,
    pod: &str,
    ds: &str,
    label: (&str, &str),
    rev: &str,
    node: &str,
    ip: &str,
    container: Value,
    crash: bool,
) -> Pod {
    let cname = container["name"].clone();
    let state = if crash {
        json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}})
    } else {
        json!({"running": {"startedAt": "2024-11-02T08:00:00Z"}})
    };
    from(json!({
        "metadata": {"name": pod, "namespace": ns,
            "labels": {label.0: label.1, "controller-revision-hash": rev, "pod-template-generation": "1"},
            "ownerReferences": [{"kind": "DaemonSet", "name": ds, "controller": true}]},
        "spec": {"nodeName": node, "hostNetwork": true, "containers": [container],
            "nodeSelector": {"kubernetes.io/os": "linux"}, "tolerations": [{"operator": "Exists"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": ip,
            "containerStatuses": [{"name": cname, "ready": !crash, "restartCount": if crash { 14 } else { 0 }, "state": state}]}
    }))
}

fn proxy_log(pod: &str, ip: &str, mode: ProxyMode, crash: bool, previous: bool) -> PodLog {
    let mut text = format!(
        "I1102 08:00:01.100000       1 server_linux.go:66] \"Using {m} proxy\"\n\
         I1102 08:00:01.120000       1 server.go:677] \"Successfully retrieved node IP(s)\" IPs=[\"{ip}\"]\n\
         I1102 08:00:01.130000       1 server.go:242] \"kube-proxy running in dual-stack mode\" primary ipFamily=\"IPv4\"\n\
         I1102 08:00:01.140000       1 server_linux.go:169] \"Using {m} Proxier\"\n\
         I1102 08:00:01.150000       1 server.go:483] \"Version info\" version=\"{v}\"\n",
        m = mode.name(),
        v = Layout::VERSION
    );
    if crash {
        text.push_str("E1102 08:00:01.200000       1 run.go:72] \"command failed\" err=\"failed complete: can't set sysctl net/ipv4/conf/all/route_localnet: open /proc/sys/net/ipv4/conf/all/route_localnet: read-only file system\"\n");
        text.push_str("F1102 08:00:01.200100       1 server.go:234] \"Error running ProxyServer\" err=\"can't set sysctl net/ipv4/conf/all/route_localnet\"\n");
    } else {
        text.push_str("I1102 08:00:01.300000       1 shared_informer.go:320] \"Caches are synced\" controller=\"service config\"\n");
    }
    PodLog {
        namespace: "kube-system".into(),
        pod: pod.into(),
        container: "kube-proxy".into(),
        previous,
        text,
        truncated: false,
    }
}

/// The control plane's static pods (as mirror pods) and the configuration ConfigMaps.
fn control_plane(c: &mut Cluster, spec: &Spec) {
    let node = Layout::node_name(0);
    let ip = Layout::node_ip(0).to_string();
    let v = Layout::VERSION;
    let mirror = |name: &str, command: Vec<String>| -> Pod {
        from(json!({
            "metadata": {"name": format!("{name}-{node}"), "namespace": "kube-system",
                "labels": {"component": name, "tier": "control-plane"},
                "annotations": {"kubernetes.io/config.mirror": "5f2c0a", "kubernetes.io/config.source": "file"},
                "ownerReferences": [{"kind": "Node", "name": node, "controller": true}]},
            "spec": {"nodeName": node, "hostNetwork": true,
                "containers": [{"name": name, "image": format!("registry.k8s.io/{name}:{v}"), "command": command}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": ip,
                "containerStatuses": [{"name": name, "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2024-11-02T07:59:00Z"}}}]}
        }))
    };
    let args = |bin: &str, flags: &[String]| -> Vec<String> {
        std::iter::once(bin.to_string())
            .chain(flags.iter().cloned())
            .collect()
    };
    c.pods.push(mirror(
        "kube-apiserver",
        args(
            "kube-apiserver",
            &[
                format!("--advertise-address={ip}"),
                "--authorization-mode=Node,RBAC".into(),
                "--secure-port=6443".into(),
                format!("--service-cluster-ip-range={}", Layout::SERVICE_CIDR),
            ],
        ),
    ));
    c.pods.push(mirror(
        "kube-controller-manager",
        args(
            "kube-controller-manager",
            &[
                "--allocate-node-cidrs=true".into(),
                format!("--cluster-cidr={}", Layout::CLUSTER_CIDR),
                format!("--node-cidr-mask-size={}", Layout::node_mask(spec.nodes)),
                format!("--service-cluster-ip-range={}", Layout::SERVICE_CIDR),
            ],
        ),
    ));
    c.pods
        .push(mirror("kube-scheduler", args("kube-scheduler", &[])));
    c.pods.push(mirror("etcd", args("etcd", &[])));
    let cm = |ns: &str, name: &str, data: Value| -> ConfigMap {
        from(json!({"metadata": {"name": name, "namespace": ns}, "data": data}))
    };
    c.config_maps.push(cm("kube-system", "kubeadm-config", json!({"ClusterConfiguration": format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: {v}\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: {}\n  serviceSubnet: {}\n",
        Layout::CLUSTER_CIDR, Layout::SERVICE_CIDR)})));
    if spec.proxy != ProxyMode::Replaced {
        c.config_maps.push(cm("kube-system", "kube-proxy", json!({"config.conf": format!(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: {}\nmode: \"{}\"\n",
            Layout::CLUSTER_CIDR, spec.proxy.name())})));
    }
    match spec.cni {
        Cni::Flannel => c.config_maps.push(cm("kube-flannel", "kube-flannel-cfg", json!({
            "net-conf.json": format!("{{\n  \"Network\": \"{}\",\n  \"Backend\": {{\"Type\": \"vxlan\"}}\n}}\n", Layout::CLUSTER_CIDR)}))),
        Cni::Cilium => c.config_maps.push(cm("kube-system", "cilium-config", json!({
            "ipam": "kubernetes",
            "kube-proxy-replacement": if spec.proxy == ProxyMode::Replaced { "true" } else { "false" }}))),
        Cni::Calico => c.ip_pools.push(from(json!({
            "metadata": {"name": "default-ipv4-ippool"},
            "spec": {"cidr": Layout::CLUSTER_CIDR, "blockSize": 26, "ipipMode": "Always", "natOutgoing": true}}))),
        Cni::Weave => {}
    }
}

/// [`crate::Options::decorate`] hook: the bulk a real API server sends with each
/// object (managedFields, volumes, probes, images) that netcheck must read past.
pub fn realistic(kind: &str, v: &mut Value) {
    let name = v["metadata"]["name"].as_str().unwrap_or("").to_string();
    let m = &mut v["metadata"];
    m["uid"] = json!(format!("5d1e4c2b-9f0a-4e6d-8c3b-{:0>12}", name.len()));
    m["resourceVersion"] = json!("48213377");
    m["creationTimestamp"] = json!("2024-11-02T08:00:00Z");
    m["managedFields"] = managed_fields(kind);
    match kind {
        "Pod" => {
            let spec = &mut v["spec"];
            spec["volumes"] = json!([{"name": "kube-api-access-7xk2p", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}]}}]);
            for k in [
                "dnsPolicy",
                "restartPolicy",
                "schedulerName",
                "serviceAccountName",
                "serviceAccount",
                "enableServiceLinks",
                "preemptionPolicy",
                "priority",
                "terminationGracePeriodSeconds",
                "securityContext",
            ] {
                spec[k] = match k {
                    "dnsPolicy" => json!("ClusterFirst"),
                    "restartPolicy" => json!("Always"),
                    "schedulerName" => json!("default-scheduler"),
                    "serviceAccountName" | "serviceAccount" => json!("default"),
                    "enableServiceLinks" => json!(true),
                    "preemptionPolicy" => json!("PreemptLowerPriority"),
                    "priority" => json!(0),
                    "terminationGracePeriodSeconds" => json!(30),
                    _ => json!({}),
                };
            }
            if let Some(cs) = spec["containers"].as_array_mut() {
                for c in cs {
                    c["imagePullPolicy"] = json!("IfNotPresent");
                    c["resources"] = json!({"limits": {"memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}});
                    c["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3});
                    c["livenessProbe"] = json!({"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 15, "periodSeconds": 20, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3});
                    c["volumeMounts"] = json!([{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-7xk2p", "readOnly": true}]);
                    c["terminationMessagePath"] = json!("/dev/termination-log");
                    c["terminationMessagePolicy"] = json!("File");
                }
            }
            let st = &mut v["status"];
            st["qosClass"] = json!("Burstable");
            st["startTime"] = json!("2024-11-02T08:00:00Z");
            st["conditions"] = json!(["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"]
                .iter().map(|t| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-11-02T08:00:05Z"})).collect::<Vec<_>>());
            if let Some(cs) = st["containerStatuses"].as_array_mut() {
                for c in cs {
                    c["image"] = json!("registry.example.com/app:1.4.2");
                    c["imageID"] = json!("registry.example.com/app@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
                    c["containerID"] = json!("containerd://4f1c5b8e0b2f4a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c");
                    c["started"] = json!(true);
                    c["lastState"] = json!({});
                }
            }
        }
        "Node" => {
            let st = &mut v["status"];
            st["capacity"] = json!({"cpu": "16", "ephemeral-storage": "203070420Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "65842360Ki", "pods": "110"});
            st["allocatable"] = st["capacity"].clone();
            st["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": 10250}});
            st["images"] = json!((0..25).map(|i| json!({"names": [format!("registry.example.com/app-{i}@sha256:{:064x}", i * 7919), format!("registry.example.com/app-{i}:1.4.{i}")], "sizeBytes": 48_000_000 + i * 1_000_003})).collect::<Vec<_>>());
            for c in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
                if let Some(cs) = st["conditions"].as_array_mut() {
                    cs.push(json!({"type": c, "status": "False", "reason": format!("KubeletHasNo{c}"), "message": "kubelet has sufficient resources", "lastHeartbeatTime": "2024-11-22T08:00:00Z", "lastTransitionTime": "2024-11-02T08:00:00Z"}));
                }
            }
            st["nodeInfo"]["machineID"] = json!("ec2a1f6b3c9d4e7f8a0b1c2d3e4f5a6b");
            st["nodeInfo"]["containerRuntimeVersion"] = json!("containerd://1.7.22");
            st["nodeInfo"]["kernelVersion"] = json!("6.8.0-1016-aws");
        }
        "Service" => {
            let spec = &mut v["spec"];
            spec["sessionAffinity"] = json!("None");
            spec["ipFamilies"] = json!(["IPv4"]);
            spec["ipFamilyPolicy"] = json!("SingleStack");
            spec["internalTrafficPolicy"] = json!("Cluster");
        }
        "EndpointSlice" => {
            if let Some(eps) = v["endpoints"].as_array_mut() {
                for (i, e) in eps.iter_mut().enumerate() {
                    e["zone"] = json!(format!("zone-{}", i % 3));
                    if let Some(t) = e.get_mut("targetRef") {
                        t["uid"] = json!(format!("7c0e2b4d-3f1a-4b5c-9d8e-{:0>12}", i));
                    }
                }
            }
        }
        _ => {}
    }
}

fn managed_fields(kind: &str) -> Value {
    let managers: &[(&str, &str)] = match kind {
        "Pod" => &[("kube-controller-manager", "Update"), ("kubelet", "Update")],
        "Node" => &[("kubelet", "Update"), ("kube-controller-manager", "Update")],
        _ => &[("kubectl-client-side-apply", "Update")],
    };
    json!(managers.iter().map(|(m, op)| json!({
        "manager": m, "operation": op, "apiVersion": "v1", "time": "2024-11-02T08:00:05Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}, "f:ownerReferences": {".": {}, "k:{\"uid\":\"7c0e\"}": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}}, "f:resources": {".": {}, "f:limits": {".": {}, "f:memory": {}}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}}}}},
            "f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}}, "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.64.0.2\"}": {".": {}, "f:ip": {}}}}}
    })).collect::<Vec<_>>())
}

/// `n` events of the everyday reasons a busy cluster piles up (scheduling, image pulls,
/// probes, sandbox failures that are not about addresses), spread over the nodes: what a read
/// of the address-exhaustion events must select from on the server.
pub fn noise_events(c: &mut Cluster, n: usize) {
    const SAID: &[(&str, &str)] = &[
        ("Scheduled", "Successfully assigned default/web-0 to node"),
        (
            "Pulled",
            "Container image \"registry.example.com/web:1.4.2\" already present on machine",
        ),
        ("Created", "Created container: web"),
        ("Started", "Started container web"),
        (
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
        ),
        (
            "BackOff",
            "Back-off restarting failed container web in pod web-0_default",
        ),
    ];
    // About one event in a hundred is a sandbox failure (not about addresses): these are
    // what the reason selector lets through.
    const SANDBOX: (&str, &str) = ("FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = DeadlineExceeded desc = context deadline exceeded");
    let nodes = c.nodes.len().max(1);
    c.events.reserve(n);
    for i in 0..n {
        let (reason, message) = if i % 100 == 99 {
            SANDBOX
        } else {
            SAID[i % SAID.len()]
        };
        let node = Layout::node_name(i % nodes);
        c.events.push(from(json!({
            "metadata": {"name": format!("web-{i}.{:016x}", i * 7919), "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": format!("web-{i}")},
            "reason": reason, "message": message, "count": 1 + i % 5,
            "lastTimestamp": "2026-11-20T10:00:00Z",
            "source": {"component": "kubelet", "host": node}
        })));
    }
}
