//! `netcheck practice` (#21): the answers file judged on the CKA lab and on scenarios, with
//! answers written by hand from each scenario's description (not from netcheck's output), and
//! the interactive mode driven in a real terminal (tmux) as a person would use it.

mod common;
use common::{netcheck, root, scratch, Run};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn cka_lab() -> String {
    root().join("examples/cka-lab.json").display().to_string()
}

/// The scenario's cluster: cluster.json, or the file its expected.json names (`cluster`).
fn scenario(name: &str) -> String {
    let dir = root().join("tests/scenarios").join(name);
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let file = expected["cluster"].as_str().unwrap_or("cluster.json");
    dir.join(file).display().to_string()
}

fn answers_file(yaml: &str) -> PathBuf {
    let p = scratch("practice-answers").join("answers.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

fn judge(snapshot: &str, yaml: &str, extra: &[&str]) -> Run {
    let f = answers_file(yaml);
    let mut args = vec![
        "practice",
        "--snapshot",
        snapshot,
        "--answers",
        f.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    netcheck(&args)
}

/// Exit 0, and every line of the sheet says right.
fn all_right(snapshot: &str, yaml: &str) {
    let r = judge(snapshot, yaml, &[]);
    let ids = yaml.lines().filter(|l| l.contains(':')).count();
    assert_eq!(
        r.code, 0,
        "{snapshot}: not all right\n{}{}",
        r.stdout, r.stderr
    );
    let right = r
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("right"))
        .count();
    assert_eq!(right, ids, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("Score: {ids}/{ids}")),
        "{}",
        r.stdout
    );
}

/// The seed lab's own questions, answered as the lab notes answer them (no
/// --service-node-port-range on kube-apiserver: the default range; no load balancer in the lab).
const CKA_LAB: &str = r#"
node-network: 10.19.9.0/24
pod-range: 10.244.0.0/16
service-range: 10.96.0.0/12
cni: weave
proxy-implementation: kube-proxy
proxy-mode: iptables
deployment:kube-proxy: daemonset/kube-proxy
deployment:weave: daemonset
missing-nodes:kube-proxy: none
missing-nodes:weave: none
in-service-range:10.112.0.0: "no"
in-service-range:10.109.214.77: "yes"
service-cluster-ip:default/my-service: 10.109.214.77
service-cluster-ip:default/kubernetes: 10.96.0.1
service-cluster-ip:kube-system/kube-dns: 10.96.0.10
service-endpoints:default/my-service: 10.244.192.1:80,10.244.192.2:80
service-endpoints:default/my-service-nodeport: [10.244.192.2, 10.244.192.1]
service-node-port:default/my-service-nodeport: 30007
service-node-port:default/my-service-lb: 31006
service-external-address:default/my-service-lb: pending
node-port-range: 30000-32767
"#;

/// Every scenario of tests/scenarios, answered by hand from its definition (tests/scenarios/
/// README.md, its expected.json's description) and the objects in its cluster.json: the
/// ranges, DaemonSets, nodes and Services read there, never netcheck's output. Each answer
/// file names only questions whose answer the scenario fixes.
const SCENARIOS: &[(&str, &str)] = &[
    // seed 002's lab: the lab notes' own answers, and its three Services behind nginx1/nginx2.
    ("cka-lab", CKA_LAB),
    // NodeNetworkConfig subnetAddressSpace 10.244.0.0/16; cilium-config kube-proxy-replacement.
    ("aks-cilium", "cni: cilium\npod-range: 10.244.0.0/16\nproxy-implementation: cilium\n\
      deployment:kube-proxy: replaced\ndeployment:cilium: DaemonSet\nmissing-nodes:cilium: none\n\
      service-cluster-ip:kube-system/kube-dns: 10.0.0.10\nservice-cluster-ip:shop/frontend: 10.0.215.140\n"),
    // kubenet: kube-proxy --cluster-cidr=10.244.0.0/16, no mode flag (iptables).
    ("aks-kubenet", "cni: kubenet\npod-range: 10.244.0.0/16\ndeployment:kubenet: embedded\n\
      deployment:kube-proxy: DaemonSet\nmissing-nodes:kube-proxy: none\nproxy-mode: iptables\n\
      proxy-implementation: kube-proxy\nservice-cluster-ip:default/kubernetes: 10.0.0.1\n"),
    // Azure CNI overlay: NodeNetworkConfigs' 10.244.0.0/16, azure-cns DaemonSet 3/3.
    ("aks-overlay", "cni: azure-cni\npod-range: 10.244.0.0/16\ndeployment:azure-cni: DaemonSet\n\
      missing-nodes:azure-cni: none\nmissing-nodes:kube-proxy: none\nproxy-mode: iptables\n\
      service-cluster-ip:kube-system/metrics-server: 10.0.83.25\n"),
    // Azure CNI in the VNet: pods share the nodes' subnet 10.224.0.0/16.
    ("aks-vnet", "cni: azure-cni\npod-range: 10.224.0.0/16\ndeployment:kube-proxy: DaemonSet\n\
      missing-nodes:azure-cni: none\nservice-cluster-ip:shop/frontend: 10.0.215.140\n"),
    // kubeadm --pod-network-cidr=10.244.0.0/16, AntreaProxy proxyAll, no kube-proxy.
    ("antrea-proxy-all", "cni: antrea\npod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      proxy-implementation: AntreaProxy\ndeployment:kube-proxy: replaced\ndeployment:antrea: DaemonSet\n\
      missing-nodes:antrea: none\nin-service-range:10.112.0.0: no\n"),
    // IPPool default-ipv4-ippool 10.244.0.0/16, nodes' Calico annotations 192.168.50.x/24.
    ("calico-operator", "cni: calico\nnode-network: 192.168.50.0/24\npod-range: 10.244.0.0/16\n\
      service-range: 10.96.0.0/12\nproxy-mode: iptables\ndeployment:calico: DaemonSet\n\
      missing-nodes:calico: none\nmissing-nodes:kube-proxy: none\n\
      service-cluster-ip:calico-system/calico-typha: 10.103.11.20\nin-service-range:10.103.11.20: yes\n"),
    // cluster-pool-ipv4-cidr 10.0.0.0/8 over --service-cidr 10.0.0.0/16; kube-proxy still runs.
    ("cilium-pool-vs-service", "cni: cilium\npod-range: 10.0.0.0/8\nservice-range: 10.0.0.0/16\n\
      in-service-range:10.1.0.0: no\nin-service-range:10.0.148.12: yes\nproxy-implementation: kube-proxy\n\
      proxy-mode: iptables\ndeployment:cilium: DaemonSet\nmissing-nodes:cilium: none\n\
      service-cluster-ip:default/api: 10.0.148.12\n"),
    // flannel tolerates only the control-plane taint: gpu-1 (nvidia.com/gpu) has none.
    ("daemonset-cni-taint", "cni: flannel\npod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      proxy-mode: iptables\ndeployment:kube-proxy: DaemonSet\ndeployment:flannel: DaemonSet\n\
      missing-nodes:flannel: gpu-1\nmissing-nodes:kube-proxy: none\n"),
    // No pod list: kube-proxy's nodes are unknown (not asked), its ConfigMap still says ipvs.
    ("deploy-pods-unreadable-crashloop", "cni: flannel\npod-range: 10.244.0.0/16\n\
      service-range: 10.96.0.0/12\nproxy-implementation: kube-proxy\nproxy-mode: ipvs\n\
      deployment:flannel: DaemonSet\nmissing-nodes:flannel: none\nin-service-range:10.112.0.0: no\n"),
    // No pod list: the DaemonSets' counts and flannel's tolerations still place gpu-1.
    ("deploy-pods-unreadable-taint", "cni: flannel\npod-range: 10.244.0.0/16\n\
      service-range: 10.96.0.0/12\ndeployment:kube-proxy: DaemonSet\nmissing-nodes:kube-proxy: none\n\
      missing-nodes:flannel: gpu-1\nproxy-mode: iptables\n"),
    // Service range moved to 10.100.0.0/16, kube-dns 10.100.0.10 with one CoreDNS pod.
    ("dns-mismatch", "service-range: 10.100.0.0/16\npod-range: 10.244.0.0/16\ncni: flannel\n\
      proxy-mode: iptables\nin-service-range:10.101.0.0: no\nin-service-range:10.100.0.10: yes\n\
      service-cluster-ip:kube-system/kube-dns: 10.100.0.10\nservice-endpoints:kube-system/kube-dns: 10.244.1.2:53\n"),
    // EKS: aws-node, kube-proxy-config mode iptables; every range only inferred (not asked).
    ("eks-managed", "cni: aws-node\ndeployment:aws-vpc-cni: DaemonSet\nmissing-nodes:aws-vpc-cni: none\n\
      proxy-mode: iptables\ndeployment:kube-proxy: DaemonSet\nmissing-nodes:kube-proxy: none\n\
      service-cluster-ip:default/shop-api: 10.100.201.17\n"),
    // Dataplane V2 (anetd) networks pods and implements Services; no kube-proxy.
    ("gke-dataplane-v2", "cni: anetd\ndeployment:gke-dataplane-v2: DaemonSet\n\
      missing-nodes:gke-dataplane-v2: none\ndeployment:kube-proxy: replaced\n\
      proxy-implementation: gke-dataplane-v2\nservice-cluster-ip:shop/checkout: 34.118.231.77\n"),
    // Static kube-proxy pods with --cluster-cidr=10.52.0.0/14 and no mode: iptables.
    ("gke-legacy-static-proxy", "cni: kubenet\npod-range: 10.52.0.0/14\n\
      deployment:kube-proxy: static pod\nmissing-nodes:kube-proxy: none\nproxy-mode: iptables\n\
      deployment:kubenet: embedded\nservice-cluster-ip:default/legacy-app: 10.56.12.201\n"),
    // k3s defaults (10.42.0.0/16, 10.43.0.0/16); kube-proxy and flannel inside the k3s process.
    ("k3s-default", "pod-range: 10.42.0.0/16\nservice-range: 10.43.0.0/16\nin-service-range:10.44.0.0: no\n\
      cni: flannel\nproxy-mode: iptables\nproxy-implementation: kube-proxy\n\
      deployment:kube-proxy: embedded\ndeployment:k3s-flannel: embedded\n\
      service-cluster-ip:default/kubernetes: 10.43.0.1\nservice-cluster-ip:default/whoami: 10.43.201.7\n\
      in-service-range:10.43.201.7: yes\n"),
    // kindnet POD_SUBNET, kind's /16 service range, iptables written explicitly.
    ("kind-default", "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/16\nin-service-range:10.97.0.0: no\n\
      cni: kindnet\nproxy-implementation: kube-proxy\nproxy-mode: iptables\n\
      deployment:kube-proxy: DaemonSet\ndeployment:kindnet: DaemonSet\nmissing-nodes:kube-proxy: none\n\
      missing-nodes:kindnet: none\nservice-cluster-ip:default/web: 10.96.142.37\n"),
    // Dual stack: every range a pair, echo and echo-v6 with one ClusterIP per family.
    ("kind-dualstack", "pod-range: fd00:10:244::/56, 10.244.0.0/16\n\
      service-range: 10.96.0.0/16,fd00:10:96::/112\ncni: kindnet\nproxy-mode: iptables\n\
      in-service-range:10.97.0.0: no\nin-service-range:10.96.87.211: yes\n\
      service-cluster-ip:default/echo: 10.96.87.211 fd00:10:96::5c1a\n\
      service-cluster-ip:default/echo-v6: 10.96.211.9,fd00:10:96::b3e4\n"),
    // Kube-OVN's default Subnet ovn-default 10.16.0.0/16 (not join 100.64.0.0/16).
    ("kube-ovn", "cni: kube-ovn\npod-range: 10.16.0.0/16\nservice-range: 10.96.0.0/12\n\
      proxy-mode: iptables\ndeployment:kube-ovn: DaemonSet\nmissing-nodes:kube-ovn: none\n\
      service-cluster-ip:kube-system/kube-ovn-controller: 10.99.12.4\n"),
    // Cilium's pool 10.0.0.0/16 and the kubeadm kube-proxy beside it (both program Services).
    ("kube-proxy-beside-cilium", "cni: cilium\npod-range: 10.0.0.0/16\nservice-range: 10.96.0.0/12\n\
      proxy-mode: iptables\ndeployment:kube-proxy: DaemonSet\ndeployment:cilium: DaemonSet\n\
      missing-nodes:kube-proxy: none\nmissing-nodes:cilium: none\nservice-cluster-ip:default/api: 10.107.40.2\n"),
    // kube-up: static kube-proxy; the master needs none, minion c3d4 lacks it.
    ("kube-up-gce-master", "cni: kubenet\npod-range: 10.64.0.0/14\nservice-range: 10.0.0.0/16\n\
      deployment:kube-proxy: static-pod\nmissing-nodes:kube-proxy: kubernetes-minion-group-c3d4\n\
      deployment:kubenet: embedded\nproxy-mode: iptables\nin-service-range:10.1.0.0: no\n\
      in-service-range:10.0.144.17: yes\nservice-cluster-ip:default/web: 10.0.144.17\n"),
    // Calico's default pool 192.168.0.0/16 over the LAN 192.168.1.0/24 (Calico annotations).
    ("kubeadm-calico-overlap", "node-network: 192.168.1.0/24\npod-range: 192.168.0.0/16\n\
      service-range: 10.96.0.0/12\ncni: calico\ndeployment:calico: DaemonSet\nmissing-nodes:calico: none\n\
      service-cluster-ip:default/nginx: 10.107.58.203\nin-service-range:10.100.37.212: yes\n"),
    // canal-config net-conf.json Network 10.244.0.0/16.
    ("kubeadm-canal", "cni: canal\npod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      deployment:canal: DaemonSet\nmissing-nodes:canal: none\nmissing-nodes:kube-proxy: none\n\
      service-cluster-ip:default/web: 10.104.33.12\nin-service-range:10.104.33.12: yes\n"),
    // kubelite: embedded kube-proxy; Calico IPPool 10.1.0.0/16; nodes 10.0.0.x/24 (Calico).
    ("microk8s-kubelite", "node-network: 10.0.0.0/24\npod-range: 10.1.0.0/16\ncni: calico\n\
      deployment:calico: DaemonSet\nmissing-nodes:calico: none\ndeployment:kube-proxy: embedded\n\
      proxy-implementation: kube-proxy\nservice-cluster-ip:default/api: 10.152.183.201\n"),
    // seed 004's minikube with flannel 10.244.0.0/16.
    ("minikube-flannel", "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\ncni: flannel\n\
      proxy-mode: iptables\ndeployment:flannel: DaemonSet\nmissing-nodes:flannel: none\n\
      in-service-range:10.109.214.77: yes\nservice-cluster-ip:default/my-service: 10.109.214.77\n\
      service-cluster-ip:kubernetes-dashboard/kubernetes-dashboard: 10.100.128.175\n"),
    // --skip-phases=addon/kube-proxy and no replacement: nothing implements Services.
    ("no-service-proxy", "cni: flannel\npod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      deployment:kube-proxy: absent\nproxy-implementation: none\ndeployment:flannel: DaemonSet\n\
      missing-nodes:flannel: none\n"),
    // OpenShift without its Network object: ranges only inferred (not asked); OVN-K proxies.
    ("openshift-apiserver-by-file", "cni: ovn-kubernetes\ndeployment:ovn-kubernetes: DaemonSet\n\
      missing-nodes:ovn-kubernetes: none\ndeployment:kube-proxy: replaced\n\
      proxy-implementation: ovn-kubernetes\nservice-cluster-ip:shop/cart: 172.30.255.18\n"),
    // OpenShift's Network object: clusterNetwork 10.128.0.0/14, serviceNetwork 172.30.0.0/16.
    ("openshift-ovn", "pod-range: 10.128.0.0/14\nservice-range: 172.30.0.0/16\n\
      in-service-range:172.31.0.0: no\nin-service-range:172.30.200.5: yes\ncni: ovn-kubernetes\n\
      deployment:kube-proxy: replaced\nmissing-nodes:ovn-kubernetes: none\n\
      proxy-implementation: ovn-kubernetes\n"),
    // Configured ipvs, fallen back: the mode kube-proxy uses is the one it runs.
    ("proxy-120-ipvs-fallback", "proxy-mode: iptables\ndeployment:kube-proxy: DaemonSet\n\
      missing-nodes:kube-proxy: none\nmissing-nodes:flannel: none\ncni: flannel\n"),
    // Cilium replacing kube-proxy, with its 10.0.0.0/8 pool.
    ("proxy-cilium-replacement", "cni: Cilium\npod-range: 10.0.0.0/8\nservice-range: 10.96.0.0/12\n\
      proxy-implementation: cilium\ndeployment:kube-proxy: replaced\ndeployment:cilium: DaemonSet\n\
      missing-nodes:cilium: none\nin-service-range:10.104.183.52: yes\n"),
    // ConfigMap edited to ipvs, pods never restarted: they still run iptables.
    ("proxy-configmap-switched", "proxy-mode: iptables\ncni: weave\ndeployment:weave: DaemonSet\n\
      missing-nodes:weave: none\nmissing-nodes:kube-proxy: none\n"),
    // ipvs configured and running; weave IPALLOC_RANGE 10.244.0.0/16.
    ("proxy-explicit-ipvs", "proxy-mode: ipvs\ncni: weave\npod-range: 10.244.0.0/16\n\
      deployment:kube-proxy: DaemonSet\nmissing-nodes:weave: none\n"),
    // kube-up static kube-proxy pods, no --proxy-mode: iptables; --cluster-cidr=10.64.0.0/14.
    ("proxy-gce-static-pods", "cni: kubenet\npod-range: 10.64.0.0/14\nproxy-mode: iptables\n\
      deployment:kube-proxy: static-pod\nmissing-nodes:kube-proxy: none\ndeployment:kubenet: embedded\n"),
    // worker1's kube-proxy crash-loops on ipvs; cp1 runs ipvs.
    ("proxy-ipvs-crashloop-129", "proxy-mode: IPVS\ndeployment:kube-proxy: DaemonSet\n\
      missing-nodes:kube-proxy: worker1\nmissing-nodes:flannel: none\n"),
    // k3s embedded kube-proxy with its default iptables; flannel embedded too.
    ("proxy-k3s-embedded", "proxy-implementation: k3s-embedded\nproxy-mode: iptables\n\
      deployment:kube-proxy: embedded\ndeployment:k3s-flannel: embedded\npod-range: 10.42.0.0/16\n\
      service-range: 10.43.0.0/16\nin-service-range:10.44.0.0: no\n"),
    // mode "" on Linux is iptables, as both log lines say.
    ("proxy-kubeadm-empty-mode-126", "proxy-mode: iptables\npod-range: 10.244.0.0/16\ncni: flannel\n\
      deployment:kube-proxy: DaemonSet\nmissing-nodes:kube-proxy: none\nmissing-nodes:flannel: none\n"),
    // Two modes run at once (no proxy-mode question); every pod is ready.
    ("proxy-mixed-modes", "cni: flannel\ndeployment:kube-proxy: DaemonSet\n\
      missing-nodes:kube-proxy: none\nmissing-nodes:flannel: none\n"),
    ("proxy-nftables", "proxy-mode: NFTables\ndeployment:kube-proxy: daemon-set\n\
      deployment:flannel: DaemonSet\nmissing-nodes:flannel: none\nservice-range: 10.96.0.0/12\n"),
    // ingress-nginx, Envoy Gateway and Istio side by side: web's two pods, api's one, the
    // nginx controller's MetalLB-style address.
    ("routes-side-by-side", "cni: flannel\npod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      proxy-mode: iptables\nservice-endpoints:shop/web: 10.244.1.30:8080,10.244.2.30:8080\n\
      service-endpoints:shop/api: 10.244.2.31:8080\nservice-cluster-ip:payments/billing: 10.104.20.1\n\
      service-external-address:ingress-nginx/ingress-nginx-controller: 192.168.60.240\n"),
    // Traefik with Gateway API v1beta1: whoami's port name http is the container's 80.
    ("routes-traefik-v1beta1", "cni: flannel\nservice-endpoints:default/whoami: 10.244.2.30:80\n\
      service-cluster-ip:default/whoami: 10.105.2.1\n\
      service-external-address:traefik/traefik: 192.168.70.240\n\
      service-node-port:traefik/traefik: 30080,30443\n"),
    // RKE2: rke2-canal-config Network 10.42.0.0/16, apiserver 10.43.0.0/16, static kube-proxy.
    ("rke2-canal", "cni: canal\npod-range: 10.42.0.0/16\nservice-range: 10.43.0.0/16\n\
      deployment:kube-proxy: static-pod\ndeployment:canal: DaemonSet\nmissing-nodes:canal: none\n\
      proxy-mode: iptables\nin-service-range:10.43.120.77: yes\nservice-cluster-ip:default/shop: 10.43.120.77\n"),
    // The shrunk range: two old ClusterIPs outside it, the others inside.
    ("service-range-shrunk", "service-range: 10.96.0.0/16\npod-range: 10.244.0.0/16\n\
      in-service-range:10.100.12.7: no\nin-service-range:10.108.200.33: out\nin-service-range:10.97.0.0: no\n\
      service-cluster-ip:legacy/billing: 10.100.12.7\nservice-cluster-ip:default/kubernetes: 10.96.0.1\n"),
    // Debug-Services recipe: web selects nothing, api/search not ready, reports pending, cart's
    // port name missing (no endpoint for its port), ledger 9090, checkout's stale .99 still
    // listed ready, legacy-np/partner share checkout's pod, edge on worker3, cart-peers headless.
    ("services-broken", "cni: flannel\nservice-range: 10.96.0.0/12\nproxy-mode: iptables\n\
      service-endpoints:shop/web: none\nservice-endpoints:shop/api: none\nservice-endpoints:shop/search: none\n\
      service-endpoints:shop/reports: none\nservice-endpoints:shop/cart: none\n\
      service-endpoints:shop/ledger: 10.244.1.14:9090\n\
      service-endpoints:shop/checkout: 10.244.1.99:8080,10.244.2.15:8080\n\
      service-endpoints:shop/legacy-np: 10.244.2.15:8080\nservice-endpoints:shop/partner: 10.244.2.15\n\
      service-endpoints:shop/edge: 10.244.3.16:8080\nservice-endpoints:shop/cart-peers: 10.244.3.13:8080\n\
      service-endpoints:kube-system/kube-dns: 10.244.2.2 10.244.1.2\n\
      service-node-port:shop/legacy-np: 32900\nservice-node-port:shop/edge: 30480\n\
      node-port-range: 30000-32767\nservice-cluster-ip:shop/db: 10.96.10.21\n"),
    // The AWS cloud provider gave storefront an ELB host name; the apiserver is hidden.
    ("services-cloud-lb", "cni: aws-vpc-cni\n\
      service-endpoints:shop/storefront: 192.168.20.11:8080,192.168.60.12:8080\n\
      service-node-port:shop/storefront: 30912\n\
      service-external-address:shop/storefront: A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6-1234567890.eu-west-1.elb.amazonaws.com\n\
      service-cluster-ip:shop/storefront: 10.100.123.45\n"),
    // 1.20, core Endpoints: 10.244.1.4 ready, 10.244.1.5 in notReadyAddresses.
    ("services-core-endpoints", "service-endpoints:default/web: 10.244.1.4\n\
      service-cluster-ip:default/web: 10.111.2.3\n"),
    // PreferDualStack web: one slice per family for its one pod.
    ("services-dualstack", "service-range: 10.96.0.0/16 fd00:10:96::/112\n\
      service-cluster-ip:default/web: fd00:10:96::c9,10.96.201.4\n\
      service-endpoints:default/web: 10.244.1.5:8080,[fd00:10:244:2::5]:8080\n"),
    // k3s ServiceLB writes both nodes as traefik's ingress; named targetPorts 8000/8443.
    ("services-k3s-servicelb", "service-endpoints:kube-system/traefik: 10.42.1.4\n\
      service-node-port:kube-system/traefik: 31880 30443\n\
      service-external-address:kube-system/traefik: 192.168.122.11,192.168.122.10\n\
      service-endpoints:kube-system/kube-dns: 10.42.0.3\nnode-port-range: 30000-32767\n\
      service-cluster-ip:kube-system/traefik: 10.43.51.120\n"),
    // 300 Services, two pods each on the workers; only svc-137's pods crash-loop.
    ("services-many", "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      service-endpoints:mesh/svc-000: 10.244.2.10:8080,10.244.4.10:8080\n\
      service-endpoints:mesh/svc-137: none\nservice-cluster-ip:mesh/svc-000: 10.96.20.1\n"),
    // MetalLB gave ingress-nginx 192.168.60.240; partner-api's class nlb stays pending.
    ("services-metallb", "cni: flannel\nproxy-mode: iptables\n\
      service-endpoints:ingress-nginx/ingress-nginx-controller: 10.244.1.9,10.244.2.9\n\
      service-node-port:ingress-nginx/ingress-nginx-controller: 31080,31443\n\
      service-external-address:ingress-nginx/ingress-nginx-controller: 192.168.60.240\n\
      service-endpoints:apps/partner-api: 10.244.2.20:8080\nservice-node-port:apps/partner-api: 30781\n\
      service-external-address:apps/partner-api: <pending>\nnode-port-range: 30000-32767\n"),
    // services-metallb without the pod list: the agents by their DaemonSets' counts.
    ("services-pods-unreadable", "cni: flannel\npod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      deployment:kube-proxy: DaemonSet\nmissing-nodes:kube-proxy: none\nmissing-nodes:flannel: none\n\
      proxy-mode: iptables\n"),
    // The lab without the Service list: the ranges still stand.
    ("services-unreadable", "node-network: 10.19.9.0/24\npod-range: 10.244.0.0/16\n\
      service-range: 10.96.0.0/12\ncni: weave\nproxy-mode: iptables\nmissing-nodes:weave: none\n"),
    // weave without IPALLOC_RANGE: its default 10.32.0.0/12 is what pods really get.
    ("weave-default-vs-kubeadm", "pod-range: 10.32.0.0/12\nservice-range: 10.96.0.0/12\ncni: weave\n\
      deployment:weave: DaemonSet\nservice-cluster-ip:default/webapp: 10.101.212.44\n"),
    // weave's range from an unreadable ConfigMap: --cluster-cidr 10.244.0.0/16, agreed by pods.
    ("weave-range-from-unreadable-configmap", "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\n\
      cni: weave\nmissing-nodes:weave: none\nin-service-range:10.101.212.44: yes\n"),
    // win-1 is covered by no agent; win-2 by flannel's Windows DaemonSet; kube-proxy Linux-only.
    ("windows-node-uncovered", "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\ncni: flannel\n\
      missing-nodes:flannel: win-1\nmissing-nodes:kube-proxy: none\n"),
];

#[test]
fn every_scenario_answered_by_hand() {
    let dir = root().join("tests/scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut table: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
    table.sort();
    assert_eq!(
        table, names,
        "every scenario needs its answers in SCENARIOS"
    );
    let failed: Vec<String> = SCENARIOS
        .iter()
        .filter_map(|(name, yaml)| {
            let r = judge(&scenario(name), yaml, &[]);
            let ids = yaml.lines().filter(|l| l.contains(':')).count();
            let ok = r.code == 0 && r.stdout.contains(&format!("Score: {ids}/{ids}"));
            (!ok).then(|| format!("{name}:\n{}{}", r.stdout, r.stderr))
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn cidr_spellings_compare_as_networks() {
    for spelling in [
        "10.244.0.0/16",
        "\" 10.244.0.0 / 16 \"",
        "10.244.12.7/16",
        "10.244.0.0/16,",
    ] {
        all_right(&cka_lab(), &format!("pod-range: {spelling}\n"));
    }
    for wrong in ["10.244.0.0/24", "10.244.0.0", "10.32.0.0/12", "weave"] {
        let r = judge(&cka_lab(), &format!("pod-range: {wrong}\n"), &[]);
        assert_eq!(r.code, 1, "{wrong} judged right\n{}", r.stdout);
        assert!(r.stdout.contains("WRONG"), "{}", r.stdout);
    }
}

#[test]
fn a_wrong_answer_exits_1_and_names_it() {
    let r = judge(
        &cka_lab(),
        "pod-range: 10.244.0.0/16\nproxy-mode: ipvs\nmissing-nodes:weave: node01\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = |id: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no {id} in {}", r.stdout))
            .to_string()
    };
    assert!(line("pod-range").contains("right"));
    assert!(line("proxy-mode").contains("WRONG"));
    assert!(line("missing-nodes:weave").contains("WRONG"));
    assert!(r.stdout.contains("Score: 1/3"), "{}", r.stdout);
    // Not revealed without --reveal.
    assert!(!r.stdout.contains("iptables"), "{}", r.stdout);
    let r = judge(&cka_lab(), "proxy-mode: ipvs\n", &["--reveal"]);
    assert!(r.stdout.contains("expected: iptables"), "{}", r.stdout);
    assert!(
        r.stdout.contains("kubectl -n kube-system logs kube-proxy-"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unknown_fact_is_not_asked() {
    // kind's node network is only inferred (no host facts): no question, and an answer to it
    // is not judged right.
    let r = netcheck(&[
        "practice",
        "--snapshot",
        &scenario("kind-default"),
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"node-network"), "{ids:?}");
    assert!(ids.contains(&"pod-range"), "{ids:?}");
    let r = judge(
        &scenario("kind-default"),
        "node-network: 172.18.0.0/16\n",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("NOT A QUESTION"), "{}", r.stdout);
}

#[test]
fn json_reveals_expected_answers_only_when_asked() {
    let f = answers_file("pod-range: 10.244.0.0 / 16\nservice-range: 10.96.0.0/16\n");
    let args = |reveal: bool| {
        let mut a = vec![
            "practice",
            "--snapshot",
            Box::leak(cka_lab().into_boxed_str()),
            "--answers",
            Box::leak(f.display().to_string().into_boxed_str()),
            "-o",
            "json",
        ];
        if reveal {
            a.push("--reveal");
        }
        a
    };
    let r = netcheck(&args(false));
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["kind"], "Practice");
    assert_eq!(v["questions"][0]["id"], "pod-range");
    assert_eq!(v["questions"][0]["verdict"], "right");
    assert_eq!(v["questions"][1]["verdict"], "wrong");
    assert!(v["questions"][0]["question"]
        .as_str()
        .unwrap()
        .contains("pod range"));
    assert!(!r.stdout.contains("expected"), "{}", r.stdout);
    assert_eq!(
        (v["right"].as_u64(), v["judged"].as_u64()),
        (Some(1), Some(2))
    );
    let r = netcheck(&args(true));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["questions"][1]["expected"], "10.96.0.0/12");
}

fn ids(args: &[&str]) -> Vec<String> {
    let mut a = vec!["practice", "-o", "json"];
    a.extend_from_slice(args);
    let r = netcheck(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn seed_topic_and_count_select_a_repeatable_set() {
    let lab = cka_lab();
    let a = ids(&["--snapshot", &lab, "--seed", "42", "--questions", "5"]);
    assert_eq!(a.len(), 5);
    assert_eq!(
        a,
        ids(&["--snapshot", &lab, "--seed", "42", "--questions", "5"])
    );
    let all = ids(&["--snapshot", &lab, "--seed", "42"]);
    assert!(all.len() > 15, "{all:?}");
    assert_eq!(a[..], all[..5]);
    assert_ne!(all, ids(&["--snapshot", &lab, "--seed", "43"]));
    let proxy = ids(&["--snapshot", &lab, "--topic", "proxy"]);
    let mut sorted = proxy.clone();
    sorted.sort();
    assert_eq!(sorted, ["proxy-implementation", "proxy-mode"]);
    for id in ids(&["--snapshot", &lab, "--topic", "services,daemonsets"]) {
        assert!(
            id.starts_with("service-")
                || id == "node-port-range"
                || id.starts_with("deployment:")
                || id.starts_with("missing-nodes:"),
            "{id}"
        );
    }
}

/// The new services questions' commands name the cluster's own pods, nodes and Services.
#[test]
fn node_port_range_and_load_balancer_commands_use_real_names() {
    let r = judge(
        &scenario("services-metallb"),
        "node-port-range: 30000 - 32767\nservice-external-address:apps/partner-api: 192.168.60.240\n",
        &["--reveal"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("Score: 1/2"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("kubectl -n kube-system get pod kube-apiserver-cp1 -o yaml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("kubectl -n apps get service partner-api"),
        "{}",
        r.stdout
    );
    // k3s has no apiserver pod: the server node's node-args hold the flag.
    let r = judge(
        &scenario("services-k3s-servicelb"),
        "node-port-range: 30000-32767\n",
        &["--reveal"],
    );
    assert!(
        r.stdout.contains(
            r"kubectl get node k3s-server -o jsonpath='{.metadata.annotations.k3s\.io/node-args}'"
        ),
        "{}",
        r.stdout
    );
    // OpenShift's Network object states no serviceNodePortRange here: not asked.
    let ids = ids(&["--snapshot", &scenario("openshift-ovn")]);
    assert!(!ids.iter().any(|i| i == "node-port-range"), "{ids:?}");
}

// ---- the interactive mode, in a real terminal ----

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "practice"])
    }
    /// Waits until the whole pane (with its history) shows `text` `n` times.
    fn wait_for(&self, text: &str, n: usize) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.matches(text).count() >= n {
                return s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("waited 20s for {n}x {text:?}; the terminal shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn type_line(&self, line: &str) {
        self.run(&["send-keys", "-t", "practice", "-l", line]);
        self.run(&["send-keys", "-t", "practice", "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed: the interactive practice test drives a real terminal with it \
         (Debian: apt-get install tmux; .ci/run installs it)"
    );
}

/// The right answer to each cidrs question of the lab, as a person would type it: CIDRs with
/// spaces around the slash.
fn lab_answer(id: &str, spaced: bool) -> String {
    let cidr = |c: &str| {
        if spaced {
            c.replace('/', " / ")
        } else {
            c.to_string()
        }
    };
    match id {
        "node-network" => cidr("10.19.9.0/24"),
        "pod-range" => cidr("10.244.0.0/16"),
        "service-range" => cidr("10.96.0.0/12"),
        "cni" => "Weave".into(),
        "in-service-range:10.112.0.0" => "no".into(),
        "in-service-range:10.109.214.77" => "yes".into(),
        _ => panic!("no answer written for {id}"),
    }
}

fn wrong_answer(id: &str) -> &'static str {
    match id {
        "cni" => "calico",
        "in-service-range:10.112.0.0" => "yes",
        "in-service-range:10.109.214.77" => "no",
        _ => "10.0.0.0/8",
    }
}

#[test]
fn interactive_session_in_a_terminal() {
    require_tmux();
    let lab = cka_lab();
    let args = [
        "--snapshot",
        lab.as_str(),
        "--topic",
        "cidrs",
        "--seed",
        "7",
    ];
    let order = ids(&args);
    assert!(order.len() >= 5, "{order:?}");
    let cidr_questions = ["node-network", "pod-range", "service-range"];
    let n = 5;
    let order = &order[..n];
    assert!(
        order[2..]
            .iter()
            .any(|id| cidr_questions.contains(&id.as_str())),
        "{order:?}"
    );
    let t = Tmux {
        socket: format!("netcheck-practice-{}", std::process::id()),
    };
    let cmd = format!(
        "{} practice {} --questions {n}; echo EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_netcheck"),
        args.join(" ")
    );
    t.run(&[
        "new-session",
        "-d",
        "-s",
        "practice",
        "-x",
        "220",
        "-y",
        "50",
        "sh",
        "-c",
        &cmd,
    ]);
    // (Waits are on the question counters: "> " is also in commands' texts, e.g. "<CIDR> in".)
    let first = t.wait_for(&format!("[1/{n}]"), 1);
    assert!(first.contains("--seed 7"), "{first}");
    assert!(first.contains(&format!("[1/{n}]")), "{first}");
    // A hint: the first command, with this cluster's names, and the question again.
    t.type_line("?");
    let s = t.wait_for("hint: $ ", 1);
    assert!(
        s.contains("controlplane") || s.contains("weave-net-") || s.contains("kubectl get nodes"),
        "{s}"
    );
    t.type_line(&lab_answer(&order[0], false));
    t.wait_for(&format!("[2/{n}]"), 1);
    // A wrong answer: judged, the right one and the commands shown.
    t.type_line(wrong_answer(&order[1]));
    let s = t.wait_for(&format!("[3/{n}]"), 1);
    assert!(s.contains("Wrong. The answer: "), "{s}");
    assert!(s.contains("How to find it:"), "{s}");
    // The rest right, CIDRs spelt with spaces around the slash.
    for id in &order[2..] {
        t.type_line(&lab_answer(id, true));
    }
    let s = t.wait_for("EXIT=", 1);
    assert_eq!(s.matches("Right: ").count(), n - 1, "{s}");
    assert_eq!(s.matches("Wrong. ").count(), 1, "{s}");
    assert!(
        s.contains(&format!("Score: {}/{n} right (1 with a hint)", n - 1)),
        "{s}"
    );
    assert!(s.contains("EXIT=1"), "{s}");
    // The commands after an answer use the lab's real names.
    assert!(
        s.contains("kube-apiserver-controlplane") || s.contains("ssh controlplane"),
        "{s}"
    );
}

#[test]
fn interactive_all_right_exits_0() {
    let lab = cka_lab();
    let order = ids(&["--snapshot", &lab, "--topic", "cidrs", "--seed", "1"]);
    let input: String = order.iter().map(|id| lab_answer(id, true) + "\n").collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .args([
            "practice",
            "--snapshot",
            &lab,
            "--topic",
            "cidrs",
            "--seed",
            "1",
            "--hint",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let k = order.len();
    assert!(
        text.contains(&format!("Score: {k}/{k} right ({k} with a hint)")),
        "{text}"
    );
    assert_eq!(text.matches("hint: $ ").count(), k, "{text}");
}

/// The README's session, typed as it shows: each output line it shows (not the elided ones)
/// is what netcheck writes.
#[test]
fn readme_session_is_what_netcheck_writes() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let cmd = "$ netcheck practice --snapshot examples/cka-lab.json ";
    let start = readme.find(cmd).expect("README shows a practice session");
    let block = &readme[start..];
    let block = &block[..block.find("```").unwrap()];
    let mut lines = block.lines();
    let args: Vec<&str> = lines.next().unwrap()[2..]
        .split_whitespace()
        .skip(1)
        .collect();
    let (mut input, mut shown) = (String::new(), Vec::new());
    for l in lines {
        match l.strip_prefix("> ") {
            Some(typed) => input += &format!("{typed}\n"),
            None if l.trim() == "..." || l.trim().is_empty() => {}
            None => shown.push(l),
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcheck"))
        .current_dir(root())
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for l in shown {
        assert!(text.contains(l), "README line {l:?} not in:\n{text}");
    }
    assert_eq!(out.status.code(), Some(1), "{text}");
}

/// Live: the lab served by the test API server. Without the host's interface facts the node
/// network is only inferred, so it is not asked; the rest is judged as on the snapshot.
#[test]
fn live_cluster_is_practised_on_too() {
    let server = netcheck_testkit::ApiServer::start(
        common::load(&root().join("examples/cka-lab.json")),
        netcheck_testkit::Options::default(),
    )
    .unwrap();
    let kc = scratch("practice-live").join("kubeconfig");
    server.write_kubeconfig(&kc).unwrap();
    let kc = kc.display().to_string();
    let live = ids(&["--kubeconfig", &kc]);
    assert!(!live.iter().any(|i| i == "node-network"), "{live:?}");
    let f = answers_file(
        "pod-range: 10.244.0.0/16\nservice-range: 10.96.0.0/12\nproxy-mode: iptables\n\
         service-endpoints:default/my-service: 10.244.192.1:80,10.244.192.2:80\n",
    );
    let r = netcheck(&[
        "practice",
        "--kubeconfig",
        &kc,
        "--answers",
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Score: 4/4"), "{}", r.stdout);
}

/// What is deliberately not asked, or judged wrong, on the proxy scenarios.
#[test]
fn proxy_scenarios_refuse_the_configured_mode() {
    // Configured ipvs, fallen back to iptables: the configured mode is the wrong answer.
    let r = judge(
        &scenario("proxy-120-ipvs-fallback"),
        "proxy-mode: ipvs\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Two modes run at once: no single answer, no question.
    let mixed = ids(&["--snapshot", &scenario("proxy-mixed-modes")]);
    assert!(!mixed.iter().any(|i| i == "proxy-mode"), "{mixed:?}");
}
