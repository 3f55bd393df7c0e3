//! `--explain`: the commands a person would run to check each answer by hand, with this
//! cluster's names filled in, and what in their output gives the answer.

use crate::model::Cluster;
use crate::report::{
    CidrAnswer, Command, Deployment, ExplainStep, Explanation, ProxyAnswer, RoutesAnswer,
    ServicesAnswer,
};

fn step(command: impl Into<String>, look_for: impl Into<String>) -> ExplainStep {
    ExplainStep {
        command: command.into(),
        look_for: look_for.into(),
    }
}

fn control_plane_node(c: &Cluster) -> String {
    c.nodes
        .iter()
        .find(|n| {
            n.metadata
                .labels
                .contains_key("node-role.kubernetes.io/control-plane")
                || n.metadata
                    .labels
                    .contains_key("node-role.kubernetes.io/master")
        })
        .or(c.nodes.first())
        .map(|n| n.name().to_string())
        .unwrap_or_else(|| "NODE".into())
}

fn mirror(c: &Cluster, component: &str) -> Option<String> {
    c.pods
        .iter()
        .find(|p| p.is_mirror() && p.name().starts_with(&format!("{component}-")))
        .map(|p| p.name().to_string())
}

fn node_network(c: &Cluster, a: &CidrAnswer) -> Explanation {
    let cp = control_plane_node(c);
    let ip = a
        .nodes
        .iter()
        .find(|n| n.name == cp)
        .and_then(|n| n.internal_ips.first().cloned())
        .unwrap_or_else(|| "NODE-IP".into());
    let with_prefix = c
        .host
        .iter()
        .flat_map(|h| &h.interfaces)
        .flat_map(|i| &i.addresses)
        .find(|a| a.split('/').next() == Some(ip.as_str()))
        .cloned()
        .unwrap_or_else(|| format!("{ip}/PREFIX"));
    Explanation {
        topic: "node network".into(),
        steps: vec![
            step(
                "kubectl get nodes -o wide",
                format!("the INTERNAL-IP column (e.g. {cp} {ip}); the API gives no prefix length"),
            ),
            step(
                format!("ssh {cp} ip addr"),
                format!("the interface holding {ip}: its 'inet {with_prefix}' gives the prefix"),
            ),
            step(
                format!("ipcalc -b {with_prefix}"),
                "the 'Network:' line is the node network",
            ),
        ],
    }
}

fn pod_range(c: &Cluster, a: &CidrAnswer) -> Explanation {
    let mut steps = Vec::new();
    let agent_pod = |ds: &str| {
        c.pods
            .iter()
            .find(|p| p.controller().is_some_and(|o| o.name == ds))
            .map(|p| (p.metadata.ns().to_string(), p.name().to_string()))
    };
    match a.cni.name.as_str() {
        "weave" => {
            let (ns, pod) = agent_pod("weave-net").unwrap_or(("kube-system".into(), "weave-net-XXXXX".into()));
            steps.push(step(format!("kubectl -n {ns} logs {pod} -c weave | grep ipalloc-range"), "ipalloc-range:<CIDR> in the 'Command line options' line is weave's pod range (default 10.32.0.0/12)"));
        }
        "flannel" | "canal" => {
            let (ns, name) = crate::discover::cni::net_conf_maps(&a.cni)
                .into_iter()
                .next()
                .unwrap_or(("kube-flannel".into(), "kube-flannel-cfg".into()));
            steps.push(step(format!("kubectl -n {ns} get configmap {name} -o jsonpath='{{.data.net-conf\\.json}}'"), "\"Network\" is the range flannel routes; each node gets its podCIDR from it"))
        }
        "ovn-kubernetes" => {
            steps.push(step("kubectl get network.config.openshift.io cluster -o jsonpath='{.status.clusterNetwork}'", "clusterNetwork cidr (and hostPrefix, each node's slice) is the pod range (OpenShift)"));
            steps.push(step("kubectl get nodes -o custom-columns=NAME:.metadata.name,SUBNETS:.metadata.annotations.k8s\\.ovn\\.org/node-subnets", "each node's subnet, allocated by OVN-Kubernetes itself"));
        }
        "kube-ovn" => steps.push(step("kubectl get subnets.kubeovn.io", "the subnet marked DEFAULT (ovn-default) is where pod addresses come from; join is the node-to-pod network")),
        "azure-cni" => steps.push(step("kubectl -n kube-system get nodenetworkconfigs -o jsonpath='{range .items[*]}{.metadata.name} {.status.networkContainers[*].subnetAddressSpace}{\"\\n\"}{end}'", "the range each node's pods take addresses from (overlay: the pod CIDR)")),
        "calico" => steps.push(step("kubectl get ippools.crd.projectcalico.org -o custom-columns=NAME:.metadata.name,CIDR:.spec.cidr,DISABLED:.spec.disabled", "enabled pools are where pod IPs come from (calico ignores node podCIDRs)")),
        "cilium" => steps.push(step("kubectl -n kube-system get configmap cilium-config -o jsonpath='{.data.ipam} {.data.cluster-pool-ipv4-cidr}'", "with ipam cluster-pool, cluster-pool-ipv4-cidr is the pod range")),
        "kindnet" => steps.push(step("kubectl -n kube-system get daemonset kindnet -o jsonpath='{.spec.template.spec.containers[0].env}'", "POD_SUBNET")),
        _ => {}
    }
    let cp = control_plane_node(c);
    match mirror(c, "kube-controller-manager") {
        Some(p) => steps.push(step(
            format!("kubectl -n kube-system get pod {p} -o yaml | grep cluster-cidr"),
            "--cluster-cidr=<CIDR>: the range node podCIDRs are carved from",
        )),
        None => steps.push(step(
            format!(
                "ssh {cp} grep cluster-cidr /etc/kubernetes/manifests/kube-controller-manager.yaml"
            ),
            "--cluster-cidr=<CIDR> (absent on managed clusters and k3s)",
        )),
    }
    steps.push(step(
        "kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDRS:.spec.podCIDRs",
        "each node's slice of the cluster CIDR",
    ));
    steps.push(step(
        "kubectl get pods -A -o wide",
        "the IP column of non-hostNetwork pods shows what is really allocated",
    ));
    Explanation {
        topic: "pod range".into(),
        steps,
    }
}

fn service_range(c: &Cluster) -> Explanation {
    let cp = control_plane_node(c);
    let mut steps = vec![match mirror(c, "kube-apiserver") {
        Some(p) => step(
            format!("kubectl -n kube-system get pod {p} -o yaml | grep service-cluster-ip-range"),
            "--service-cluster-ip-range=<CIDR>",
        ),
        None => step(
            "kubectl get servicecidrs",
            "CIDRS column (Kubernetes 1.33+); on older managed clusters the range is not visible",
        ),
    }];
    steps.push(step(
        format!(
            "ssh {cp} grep service-cluster-ip-range /etc/kubernetes/manifests/kube-apiserver.yaml"
        ),
        "the same flag in the static-pod manifest",
    ));
    steps.push(step(
        "kubectl get service kubernetes",
        "its CLUSTER-IP is the first address of the service range",
    ));
    Explanation {
        topic: "service range".into(),
        steps,
    }
}

/// How to read the NodePort range by hand, from where `evidence` (the services answer's) says
/// it was found: the kube-apiserver pod, a k3s/RKE2 server's node-args, or OpenShift's Network.
pub fn node_port_range(c: &Cluster, evidence: &str) -> Vec<ExplainStep> {
    let look = "--service-node-port-range=<FROM>-<TO>; absent: the default 30000-32767";
    let first = if let Some(rest) = evidence.strip_prefix("node ") {
        let (node, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let key = rest
            .strip_prefix("annotation ")
            .and_then(|r| r.split([' ', ':']).next())
            .unwrap_or("k3s.io/node-args");
        step(
            format!(
                "kubectl get node {node} -o jsonpath='{{.metadata.annotations.{}}}'",
                key.replace('.', "\\.")
            ),
            look,
        )
    } else if evidence.starts_with("network.config.openshift.io") {
        step(
            "kubectl get network.config.openshift.io cluster -o jsonpath='{.spec.serviceNodePortRange}'",
            "the range; empty: OpenShift's default 30000-32767",
        )
    } else {
        match mirror(c, "kube-apiserver") {
            Some(p) => step(
                format!("kubectl -n kube-system get pod {p} -o yaml | grep service-node-port-range"),
                look,
            ),
            None => step(
                "kubectl -n kube-system get pods -l component=kube-apiserver -o yaml | grep service-node-port-range",
                look,
            ),
        }
    };
    vec![
        first,
        step(
            "kubectl get services -A | grep -E 'NodePort|LoadBalancer'",
            "PORT(S) such as 80:30007/TCP: the number after the colon is a NodePort, inside the range",
        ),
    ]
}

/// Namespace and name of a kube-proxy pod of this cluster, or a placeholder.
fn proxy_pod(p: &ProxyAnswer) -> (String, String) {
    let pod = p
        .nodes
        .iter()
        .find_map(|n| n.pod.clone())
        .unwrap_or_else(|| "kube-system/kube-proxy-XXXXX".into());
    let (ns, name) = pod.split_once('/').unwrap_or(("kube-system", &pod));
    (ns.to_string(), name.to_string())
}

fn proxy_mode(c: &Cluster, p: &ProxyAnswer) -> Explanation {
    let (ns, name) = proxy_pod(p);
    let node = p
        .nodes
        .first()
        .map(|n| n.node.clone())
        .unwrap_or_else(|| control_plane_node(c));
    let mut steps = vec![
        step(format!("kubectl -n {ns} logs {name} | grep -i proxier"), "'Using iptables Proxier' (or ipvs / nftables): the mode this pod runs"),
        step(format!("kubectl -n {ns} get configmap kube-proxy -o jsonpath='{{.data.config\\.conf}}' | grep mode"), "mode: \"\" means the default, iptables on Linux"),
        step(format!("ssh {node} curl -s localhost:10249/proxyMode"), "kube-proxy's own answer, from its metrics port"),
        step(format!("ssh {node} iptables -t nat -L KUBE-SERVICES | head"), "KUBE-SVC-* chains exist in iptables mode (ipvs: `ipvsadm -Ln`; nftables: `nft list table ip kube-proxy`)"),
    ];
    if p.implementation != "kube-proxy" {
        steps.insert(
            0,
            step(
                "kubectl get pods -A -o wide | grep -e kube-proxy -e cilium -e anetd",
                format!(
                    "no kube-proxy pods: Services are handled by {}",
                    p.implementation
                ),
            ),
        );
    }
    Explanation {
        topic: "proxy mode".into(),
        steps,
    }
}

fn deployment(d: &[Deployment], p: &ProxyAnswer) -> Explanation {
    let (ns, name) = proxy_pod(p);
    let mut steps = vec![
        step(format!("kubectl -n {ns} describe pod {name} | grep 'Controlled By'"), "DaemonSet/kube-proxy means a DaemonSet keeps one pod per node (a static pod says Node/<name>)"),
        step("kubectl get daemonsets -A", "DESIRED, CURRENT and READY per DaemonSet: equal numbers mean every eligible node runs one"),
    ];
    if let Some(m) = d.iter().flat_map(|x| &x.missing).find(|m| !m.by_design) {
        steps.push(step(format!("kubectl describe node {} | grep -A3 Taints", m.node), "a NoSchedule/NoExecute taint the DaemonSet does not tolerate keeps its pod off the node"));
    }
    Explanation {
        topic: "deployment".into(),
        steps,
    }
}

/// For each Service with a problem (and for the one Service asked for), the commands that show
/// it by hand, with its own names.
fn services(s: &ServicesAnswer) -> Vec<Explanation> {
    let one = s.services.len() == 1;
    s.services
        .iter()
        .filter(|r| one || !r.problems.is_empty())
        .take(10)
        .map(|r| {
            let (ns, name) = (&r.namespace, &r.name);
            let mut steps = vec![
                step(format!("kubectl -n {ns} describe service {name}"), "Selector, Port/TargetPort/NodePort and the Endpoints line (ready addresses only)"),
                step(format!("kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={name} -o wide"), "the ENDPOINTS column; `-o yaml` shows each endpoint's conditions (ready, serving, terminating), nodeName and targetRef"),
            ];
            if let Some(sel) = &r.selector {
                let sel: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let sel = sel.join(",");
                steps.push(step(format!("kubectl -n {ns} get pods -l {sel} -o wide --show-labels"), "the pods the selector matches, their READY column, IPs and nodes; none listed: compare the labels with `kubectl -n NS get pods --show-labels`"));
                if r.problems.iter().any(|p| p.id.starts_with("service-target-port")) {
                    steps.push(step(format!("kubectl -n {ns} get pods -l {sel} -o jsonpath='{{range .items[*]}}{{.metadata.name}}: {{.spec.containers[*].ports}}{{\"\\n\"}}{{end}}'"), "the ports each container declares, by name and number, against the Service's targetPort"));
                }
                if r.problems.iter().any(|p| p.id == "service-no-ready-endpoints") {
                    steps.push(step(format!("kubectl -n {ns} describe pods -l {sel}"), "Conditions (Ready, PodScheduled), each container's State/Last State, and the Events (readiness probe failures, back-off)"));
                }
            }
            if r.problems.iter().any(|p| p.id == "loadbalancer-pending") {
                steps.push(step(format!("kubectl -n {ns} get events --field-selector involvedObject.name={name}"), "EnsuringLoadBalancer / SyncLoadBalancerFailed (cloud), AllocationFailed (MetalLB); nothing at all: no implementation watches it"));
            }
            if r.problems.iter().any(|p| p.id == "nodeport-outside-range") {
                steps.push(step("kubectl -n kube-system get pods -l component=kube-apiserver -o yaml | grep service-node-port-range", "the range NodePorts must lie in (30000-32767 when absent)"));
            }
            if r.local_nodes.is_some() {
                steps.push(step(format!("kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={name} -o jsonpath='{{.items[*].endpoints[*].nodeName}}'"), "with a Local traffic policy only these nodes answer"));
            }
            Explanation {
                topic: format!("service {ns}/{name}"),
                steps,
            }
        })
        .collect()
}

pub fn explain(
    c: &Cluster,
    a: &CidrAnswer,
    p: &ProxyAnswer,
    d: &[Deployment],
    s: Option<&ServicesAnswer>,
    cmd: Command,
) -> Vec<Explanation> {
    let mut out = Vec::new();
    if matches!(cmd, Command::Report | Command::Cidrs) {
        out.extend([node_network(c, a), pod_range(c, a), service_range(c)]);
    }
    if matches!(cmd, Command::Report | Command::ProxyMode) {
        out.push(proxy_mode(c, p));
    }
    if matches!(cmd, Command::Report | Command::Daemonsets) {
        out.push(deployment(d, p));
    }
    out.extend(s.into_iter().flat_map(services));
    out.extend(
        s.and_then(|s| s.routes.as_ref())
            .into_iter()
            .flat_map(routes),
    );
    if matches!(cmd, Command::Report | Command::Cidrs | Command::Capacity) {
        out.push(capacity(c));
    }
    out
}

/// For each Ingress, route and Gateway with a problem, the commands that show it by hand.
fn routes(r: &RoutesAnswer) -> Vec<Explanation> {
    let service_ports = |target: &str| {
        let (ns, name) = target.strip_prefix("service ")?.split_once('/')?;
        Some(step(
            format!("kubectl -n {ns} get service {name} -o jsonpath='{{.spec.ports}}'"),
            "the Service's ports by number and name, against the backend's port (NotFound: no such Service in that namespace)",
        ))
    };
    let rows = r.routes.iter().filter(|x| !x.problems.is_empty()).take(10).map(|x| {
        let (ns, name, kind) = (&x.namespace, &x.name, x.kind.to_lowercase());
        let has = |id: &str| x.problems.iter().any(|p| p.id == id);
        let mut steps = vec![];
        if kind == "ingress" {
            steps.push(step(format!("kubectl -n {ns} describe ingress {name}"), "Rules (host, path and backend; a missing Service shows as `<error: endpoints ... not found>`), Address, and the controller's Events"));
            if has("ingress-class-missing") || has("ingress-controller-absent") || has("ingress-no-address") {
                steps.push(step(r"kubectl get ingressclass -o custom-columns=NAME:.metadata.name,CONTROLLER:.spec.controller,DEFAULT:.metadata.annotations.ingressclass\.kubernetes\.io/is-default-class", "the classes, the controller each names, and which is the default; then that controller's pods (`kubectl get pods -A -l app.kubernetes.io/name=ingress-nginx`, for ingress-nginx)"));
            }
        } else {
            steps.push(step(format!("kubectl -n {ns} get {kind} {name} -o yaml"), "status.parents[]: for each Gateway, the conditions Accepted and ResolvedRefs with their reason and message"));
            for p in &x.parents {
                if let Some((gns, gname)) = p.strip_prefix("gateway ").and_then(|g| g.split(':').next()?.split_once('/')) {
                    steps.push(step(format!("kubectl -n {gns} describe gateway {gname}"), "Listeners (Attached Routes; allowedRoutes namespaces and kinds; hostname), Conditions (Accepted, Programmed), Addresses"));
                }
            }
            if has("route-backend-not-permitted") {
                steps.push(step("kubectl get referencegrants -A -o yaml", "a grant in the Service's namespace whose `from` names this route's kind and namespace and whose `to` names kind Service"));
            }
        }
        let unresolved = x.backends.iter().filter(|b| b.resolved == Some(false));
        let mut seen = std::collections::HashSet::new();
        steps.extend(unresolved.filter(|b| seen.insert(&b.target)).filter_map(|b| service_ports(&b.target)));
        Explanation { topic: format!("{kind} {ns}/{name}"), steps }
    });
    let gateways = r.gateways.iter().filter(|g| !g.problems.is_empty()).take(10).map(|g| {
        let (ns, name, class) = (&g.namespace, &g.name, &g.class);
        Explanation {
            topic: format!("gateway {ns}/{name}"),
            steps: vec![
                step(format!("kubectl -n {ns} describe gateway {name}"), "Conditions: Programmed (its reason: AddressNotAssigned, Invalid, Pending) and Accepted; Listeners' Attached Routes"),
                step(format!("kubectl get gatewayclass {class} -o jsonpath='{{.spec.controllerName}} {{.status.conditions}}'"), "the controller that should program it, and whether it accepted the class (no status at all: that controller is not running)"),
            ],
        }
    });
    rows.chain(gateways).collect()
}

fn capacity(c: &Cluster) -> Explanation {
    let kcm = c
        .pods
        .iter()
        .find(|p| p.is_mirror() && p.name().starts_with("kube-controller-manager"))
        .map(|p| format!("kubectl -n {} get pod {} -o yaml | grep -E 'cluster-cidr|node-cidr-mask-size'", p.metadata.ns(), p.name()))
        .unwrap_or_else(|| "grep -E 'cluster-cidr|node-cidr-mask-size' /etc/kubernetes/manifests/kube-controller-manager.yaml".into());
    Explanation {
        topic: "capacity".into(),
        steps: vec![
            step(kcm, "node slots = 2^(node mask - cluster CIDR length), e.g. a /16 with /24 node masks holds 256 podCIDRs (default mask /24)"),
            step("kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDR:.spec.podCIDR,MAXPODS:.status.capacity.pods", "nodes holding a podCIDR (used slots), nodes with <none> (waiting), maxPods above the podCIDR's usable addresses (a /24 has 253 with host-local)"),
            step("kubectl get events -A --field-selector reason=CIDRNotAvailable", "the node IPAM controller found no free podCIDR for these nodes"),
            step("kubectl get events -A --field-selector reason=FailedCreatePodSandBox | grep -iE 'no IP addresses available|IPAM allocated only|range is full'", "pods whose CNI had no address left, per node"),
            step("kubectl get svc -A -o jsonpath='{range .items[*]}{.spec.clusterIP}{\"\\n\"}{end}' | grep -vc None", "ClusterIPs in use, against the service range's size minus its network and broadcast addresses"),
        ],
    }
}
