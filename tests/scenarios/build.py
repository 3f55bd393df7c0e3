#!/usr/bin/env python3
"""Writes the cluster.json of the scenarios that model distributions (issues #11, #22) from a
compact description of what each distribution writes into the API: object names, labels,
annotations, command lines and addresses as the research in each scenario's description says.

Each scenario's expected.json is written by hand from the layout below, never from netcheck's
output. Run from the repository root: `python3 tests/scenarios/build.py [NAME...]`.
"""

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = "2026-10-01T08:00:00Z"


def meta(name, ns=None, labels=None, annotations=None, owner=None, gen=None):
    m = {"name": name}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    if owner:
        kind, oname = owner
        m["ownerReferences"] = [{"kind": kind, "name": oname, "controller": True}]
    if gen:
        m["generation"] = gen
    m["creationTimestamp"] = T0
    return m


def node(name, ip, version, labels=None, annotations=None, podcidrs=None, taints=None,
         unschedulable=False, provider=None, ready=True, os_="linux", ready_message=None,
         image="Ubuntu 22.04.4 LTS"):
    lab = {"kubernetes.io/hostname": name, "kubernetes.io/os": os_, "kubernetes.io/arch": "amd64"}
    lab.update(labels or {})
    spec = {}
    if podcidrs:
        spec["podCIDR"] = podcidrs[0]
        spec["podCIDRs"] = podcidrs
    if taints:
        spec["taints"] = [dict(zip(("key", "effect", "value"), t)) if len(t) > 2 else {"key": t[0], "effect": t[1]} for t in taints]
    if unschedulable:
        spec["unschedulable"] = True
    if provider:
        spec["providerID"] = provider
    cond = {"type": "Ready", "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": ready_message or ("kubelet is posting ready status" if ready else "")}
    return {
        "metadata": meta(name, labels=lab, annotations=annotations),
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [cond],
            "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version,
                         "operatingSystem": os_, "osImage": image},
        },
    }


def container(name, image, command=None, args=None, env=None, ports=None):
    c = {"name": name, "image": image}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if env:
        c["env"] = [{"name": k, "value": v} if isinstance(v, str) else {"name": k, "valueFrom": v}
                    for k, v in env]
    return c


def pod(ns, name, node_, ip, containers, labels=None, owner=None, host_network=False,
        mirror=False, phase="Running", ready=True, restarts=0, waiting=None):
    ann = None
    if mirror:
        h = hashlib.md5(name.encode()).hexdigest()
        ann = {"kubernetes.io/config.hash": h, "kubernetes.io/config.mirror": h,
               "kubernetes.io/config.source": "file"}
        owner = ("Node", node_)
    statuses = []
    for c in containers:
        st = {"name": c["name"], "ready": ready, "restartCount": restarts}
        if waiting:
            st["state"] = {"waiting": {"reason": waiting}}
        else:
            st["state"] = {"running": {"startedAt": T0}}
        statuses.append(st)
    spec = {"nodeName": node_, "containers": containers}
    if host_network:
        spec["hostNetwork"] = True
    status = {"phase": phase, "containerStatuses": statuses, "startTime": T0}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return {"metadata": meta(name, ns, labels, ann, owner), "spec": spec, "status": status}


def ds(ns, name, match, containers, n, ready=None, node_selector=None, tolerations=None,
       host_network=True):
    tmpl_spec = {"containers": containers}
    if host_network:
        tmpl_spec["hostNetwork"] = True
    if node_selector:
        tmpl_spec["nodeSelector"] = node_selector
    tmpl_spec["tolerations"] = tolerations if tolerations is not None else [{"operator": "Exists"}]
    r = n if ready is None else ready
    return {
        "metadata": meta(name, ns, labels=match, gen=1),
        "spec": {"selector": {"matchLabels": match},
                 "template": {"metadata": {"labels": match}, "spec": tmpl_spec}},
        "status": {"desiredNumberScheduled": n, "currentNumberScheduled": n, "numberReady": r,
                   "updatedNumberScheduled": n, "numberAvailable": r, "numberMisscheduled": 0,
                   "observedGeneration": 1},
    }


def ds_pods(d, nodes, ips=None, suffixes="abcdefghijklmnop"):
    """One pod per node for a DaemonSet; host-network pods take the node's IP."""
    out = []
    hn = d["spec"]["template"]["spec"].get("hostNetwork", False)
    for i, (name, ip) in enumerate(nodes):
        labels = dict(d["spec"]["template"]["metadata"]["labels"])
        labels["controller-revision-hash"] = "6d4b8f9c7"
        out.append(pod(d["metadata"]["namespace"], "%s-%s%s" % (d["metadata"]["name"], suffixes[i], "x7q2"),
                       name, ip if hn else (ips[i] if ips else None),
                       d["spec"]["template"]["spec"]["containers"], labels=labels,
                       owner=("DaemonSet", d["metadata"]["name"]), host_network=hn))
    return out


def svc(ns, name, ip, kind="ClusterIP"):
    return {"metadata": meta(name, ns), "spec": {"type": kind, "clusterIP": ip, "clusterIPs": [ip]}}


def cm(ns, name, data):
    return {"metadata": meta(name, ns), "data": data}


def obj(api_version, kind, name, ns=None, spec=None, status=None):
    o = {"apiVersion": api_version, "kind": kind, "metadata": meta(name, ns)}
    if spec is not None:
        o["spec"] = spec
    if status is not None:
        o["status"] = status
    return o


def cluster(version, nodes, pods, services, daemon_sets=(), config_maps=(), ip_pools=(),
            objects=(), logs=(), errors=()):
    c = {"apiVersion": "netcheck/v1", "kind": "Snapshot", "source": {"mode": "snapshot"},
         "serverVersion": version, "nodes": nodes, "pods": pods, "services": services,
         "daemonSets": list(daemon_sets), "configMaps": list(config_maps), "serviceCidrs": [],
         "ipPools": list(ip_pools), "logs": list(logs), "errors": list(errors)}
    if objects:
        c["objects"] = list(objects)
    return c


def proxy_log(ns, pod_name, mode="iptables"):
    text = ('I1001 08:00:05.101000       1 server_linux.go:66] "Using in-cluster kube-config"\n'
            'I1001 08:00:05.202000       1 server.go:677] "Successfully retrieved node IP(s)" IPs=["10.0.0.1"]\n'
            'I1001 08:00:05.303000       1 server_linux.go:169] "Using %s Proxier"\n'
            'I1001 08:00:05.404000       1 proxier.go:258] "Setting route_localnet=1 to allow node-ports on localhost"\n') % mode
    return {"namespace": ns, "pod": pod_name, "container": "kube-proxy", "text": text}


def kube_proxy_ds(nodes, version, node_selector=None, mode_flag=None):
    cmd = ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
           "--hostname-override=$(NODE_NAME)"]
    d = ds("kube-system", "kube-proxy", {"k8s-app": "kube-proxy"},
           [container("kube-proxy", "registry.k8s.io/kube-proxy:" + version, command=cmd)],
           len(nodes), node_selector=node_selector or {"kubernetes.io/os": "linux"})
    return d, ds_pods(d, nodes)


def kubeadm_proxy_cm(mode, cluster_cidr):
    return cm("kube-system", "kube-proxy", {
        "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                       "clusterCIDR: %s\nmode: \"%s\"\n" % (cluster_cidr, mode)})


def kubeadm_config(pod_subnet, service_subnet, version):
    ps = ("  podSubnet: %s\n" % pod_subnet) if pod_subnet else ""
    return cm("kube-system", "kubeadm-config", {
        "ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
                                "kubernetesVersion: %s\nnetworking:\n  dnsDomain: cluster.local\n%s"
                                "  serviceSubnet: %s\n" % (version, ps, service_subnet)})


def control_plane(node_, ip, version, service_range, cluster_cidr):
    """kubeadm's static control-plane pods (mirror pods) on one node."""
    img = "registry.k8s.io/%s:" + version
    api = ["kube-apiserver", "--advertise-address=" + ip, "--allow-privileged=true",
           "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
           "--secure-port=6443", "--service-cluster-ip-range=" + service_range]
    kcm = ["kube-controller-manager", "--allocate-node-cidrs=true", "--cluster-name=kubernetes",
           "--controllers=*,bootstrapsigner,tokencleaner", "--leader-elect=true",
           "--service-cluster-ip-range=" + service_range]
    if cluster_cidr:
        kcm.insert(2, "--cluster-cidr=" + cluster_cidr)
    lab = lambda c: {"component": c, "tier": "control-plane"}
    return [
        pod("kube-system", "etcd-" + node_, node_, ip, [container("etcd", img % "etcd", command=["etcd"])],
            lab("etcd"), host_network=True, mirror=True),
        pod("kube-system", "kube-apiserver-" + node_, node_, ip,
            [container("kube-apiserver", img % "kube-apiserver", command=api)], lab("kube-apiserver"),
            host_network=True, mirror=True),
        pod("kube-system", "kube-controller-manager-" + node_, node_, ip,
            [container("kube-controller-manager", img % "kube-controller-manager", command=kcm)],
            lab("kube-controller-manager"), host_network=True, mirror=True),
        pod("kube-system", "kube-scheduler-" + node_, node_, ip,
            [container("kube-scheduler", img % "kube-scheduler", command=["kube-scheduler"])],
            lab("kube-scheduler"), host_network=True, mirror=True),
    ]


def workloads(spec):
    """Ordinary pods: (namespace, name, node, ip)."""
    return [pod(ns, name, n, ip, [container("app", "nginx:1.27")],
                labels={"app": name.rsplit("-", 2)[0]}, owner=("ReplicaSet", name.rsplit("-", 1)[0]))
            for ns, name, n, ip in spec]


def write(name, c):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "cluster.json"), "w") as f:
        json.dump(c, f, indent=1)
        f.write("\n")


SCENARIOS = {}


def scenario(f):
    SCENARIOS[f.__name__.replace("_", "-")] = f
    return f


# ----------------------------------------------------------------------------- RKE2 and canal

@scenario
def rke2_canal():
    v = "v1.33.4+rke2r1"
    nodes_ = [("rke2-server-1", "192.168.122.10"), ("rke2-agent-1", "192.168.122.11"),
              ("rke2-agent-2", "192.168.122.12")]
    args = {"rke2-server-1": '["server","--cni","canal","--token","********"]',
            "rke2-agent-1": '["agent","--server","https://192.168.122.10:9345","--token","********"]',
            "rke2-agent-2": '["agent","--server","https://192.168.122.10:9345","--token","********"]'}
    nodes = []
    for i, (n, ip) in enumerate(nodes_):
        lab = {"node.kubernetes.io/instance-type": "rke2"}
        if i == 0:
            lab.update({"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true",
                        "node-role.kubernetes.io/etcd": "true"})
        ann = {"rke2.io/node-args": args[n], "rke2.io/node-env": "{}", "rke2.io/hostname": n,
               "rke2.io/internal-ip": ip, "flannel.alpha.coreos.com/backend-type": "vxlan",
               "flannel.alpha.coreos.com/kube-subnet-manager": "true",
               "flannel.alpha.coreos.com/public-ip": ip}
        nodes.append(node(n, ip, "v1.33.4+rke2r1", lab, ann, ["10.42.%d.0/24" % i], provider="rke2://" + n))
    img = "index.docker.io/rancher/hardened-kubernetes:v1.33.4-rke2r1-build20260815"
    cp = lambda c: {"component": c, "tier": "control-plane"}
    pods = [
        pod("kube-system", "kube-apiserver-rke2-server-1", "rke2-server-1", "192.168.122.10",
            [container("kube-apiserver", img, command=["kube-apiserver"], args=[
                "--advertise-address=192.168.122.10", "--allow-privileged=true", "--authorization-mode=Node,RBAC",
                "--secure-port=6443", "--service-cluster-ip-range=10.43.0.0/16",
                "--service-node-port-range=30000-32767"])], cp("kube-apiserver"), host_network=True, mirror=True),
        pod("kube-system", "kube-controller-manager-rke2-server-1", "rke2-server-1", "192.168.122.10",
            [container("kube-controller-manager", img, command=["kube-controller-manager"], args=[
                "--allocate-node-cidrs=true", "--cluster-cidr=10.42.0.0/16", "--node-cidr-mask-size-ipv4=24",
                "--service-cluster-ip-range=10.43.0.0/16"])], cp("kube-controller-manager"),
            host_network=True, mirror=True),
    ]
    for n, ip in nodes_:
        pods.append(pod("kube-system", "kube-proxy-" + n, n, ip,
                        [container("kube-proxy", img, command=["kube-proxy"], args=[
                            "--cluster-cidr=10.42.0.0/16", "--conntrack-max-per-core=0",
                            "--conntrack-tcp-timeout-close-wait=0s", "--conntrack-tcp-timeout-established=0s",
                            "--healthz-bind-address=127.0.0.1", "--hostname-override=" + n,
                            "--kubeconfig=/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig",
                            "--proxy-mode=iptables"])], cp("kube-proxy"), host_network=True, mirror=True))
    canal = ds("kube-system", "rke2-canal", {"k8s-app": "canal"}, [
        container("calico-node", "rancher/hardened-calico:v3.30.2-build20260819", command=["start_runit"],
                  env=[("CLUSTER_TYPE", "k8s,canal"), ("CALICO_NETWORKING_BACKEND", "none"),
                       ("USE_POD_CIDR", "true"), ("FELIX_IPTABLESBACKEND", "auto")]),
        container("kube-flannel", "rancher/hardened-flannel:v0.27.1-build20260819",
                  command=["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--iptables-forward-rules=false",
                           "--ip-blackhole-route", "--healthz-port=8081"])], 3)
    pods += ds_pods(canal, nodes_)
    pods += workloads([
        ("kube-system", "rke2-coredns-rke2-coredns-6d7b5f9b6c-x2k4m", "rke2-server-1", "10.42.0.4"),
        ("kube-system", "rke2-metrics-server-5c8f9d6b7d-p9q8w", "rke2-agent-1", "10.42.1.3"),
        ("default", "shop-7b9c6d5f4-lk2j3", "rke2-agent-2", "10.42.2.7"),
    ])
    services = [svc("default", "kubernetes", "10.43.0.1"),
                svc("kube-system", "rke2-coredns-rke2-coredns", "10.43.0.10"),
                svc("kube-system", "rke2-metrics-server", "10.43.88.5"),
                svc("default", "shop", "10.43.120.77")]
    config_maps = [cm("kube-system", "rke2-canal-config", {
        "typha_service_name": "none", "canal_iface": "", "canal_iface_regex": "", "masquerade": "true",
        "veth_mtu": "1450",
        "net-conf.json": '{\n  "Network": "10.42.0.0/16",\n  "Backend": {\n    "Type": "vxlan"\n  }\n}\n'})]
    logs = [proxy_log("kube-system", "kube-proxy-" + n) for n, _ in nodes_]
    write("rke2-canal", cluster("v1.33.4+rke2r1", nodes, pods, services, [canal], config_maps, logs=logs))


@scenario
def kubeadm_canal():
    v = "v1.31.6"
    nodes_ = [("cp1", "10.10.0.11"), ("worker1", "10.10.0.21")]
    nodes = [node("cp1", "10.10.0.11", v, {"node-role.kubernetes.io/control-plane": ""},
                  {"flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/public-ip": "10.10.0.11",
                   "flannel.alpha.coreos.com/kube-subnet-manager": "true"},
                  ["10.244.0.0/24"], taints=[("node-role.kubernetes.io/control-plane", "NoSchedule")]),
             node("worker1", "10.10.0.21", v, None,
                  {"flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/public-ip": "10.10.0.21",
                   "flannel.alpha.coreos.com/kube-subnet-manager": "true"}, ["10.244.1.0/24"])]
    pods = control_plane("cp1", "10.10.0.11", v, "10.96.0.0/12", "10.244.0.0/16")
    kp, kpp = kube_proxy_ds(nodes_, v)
    canal = ds("kube-system", "canal", {"k8s-app": "canal"}, [
        container("calico-node", "docker.io/calico/node:v3.30.0",
                  env=[("DATASTORE_TYPE", "kubernetes"), ("CLUSTER_TYPE", "k8s,canal"),
                       ("CALICO_NETWORKING_BACKEND", "none"), ("USE_POD_CIDR", "true")]),
        container("kube-flannel", "docker.io/flannel/flannel:v0.26.7",
                  command=["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"],
                  env=[("FLANNELD_IFACE", {"configMapKeyRef": {"name": "canal-config", "key": "canal_iface"}}),
                       ("FLANNELD_IP_MASQ", {"configMapKeyRef": {"name": "canal-config", "key": "masquerade"}})])],
        2, node_selector={"kubernetes.io/os": "linux"})
    pods += kpp + ds_pods(canal, nodes_)
    pods += workloads([("kube-system", "coredns-7c65d6cfc9-4xk2p", "worker1", "10.244.1.2"),
                       ("kube-system", "coredns-7c65d6cfc9-9mzq7", "worker1", "10.244.1.3"),
                       ("default", "web-5d8f7b9c6-qw3er", "worker1", "10.244.1.4")])
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10"),
                svc("default", "web", "10.104.33.12")]
    cms = [kubeadm_proxy_cm("", "10.244.0.0/16"), kubeadm_config("10.244.0.0/16", "10.96.0.0/12", v),
           cm("kube-system", "canal-config", {
               "typha_service_name": "none", "canal_iface": "", "masquerade": "true", "veth_mtu": "0",
               "net-conf.json": '{\n  "Network": "10.244.0.0/16",\n  "Backend": {\n    "Type": "vxlan"\n  }\n}\n'})]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    write("kubeadm-canal", cluster(v, nodes, pods, services, [kp, canal], cms, logs=logs))


# ----------------------------------------------------------------------------- OpenShift

def openshift(with_network_object):
    v = "v1.29.10+67d3387"
    masters = [("master-0", "10.0.0.10"), ("master-1", "10.0.0.11"), ("master-2", "10.0.0.12")]
    workers = [("worker-0", "10.0.128.5"), ("worker-1", "10.0.128.6")]
    subnets = ["10.128.0.0/23", "10.129.0.0/23", "10.130.0.0/23", "10.131.0.0/23", "10.128.2.0/23"]
    nodes = []
    for i, (n, ip) in enumerate(masters + workers):
        role = "master" if i < 3 else "worker"
        lab = {"node-role.kubernetes.io/" + role: "", "node.openshift.io/os_id": "rhcos"}
        if role == "master":
            lab["node-role.kubernetes.io/control-plane"] = ""
        ann = {"k8s.ovn.org/node-subnets": '{"default":["%s"]}' % subnets[i],
               "k8s.ovn.org/host-cidrs": '["%s/17"]' % ip,
               "k8s.ovn.org/node-primary-ifaddr": '{"ipv4":"%s/17"}' % ip}
        taints = [("node-role.kubernetes.io/master", "NoSchedule")] if role == "master" else None
        nodes.append(node("ip-%s.ec2.internal" % ip.replace(".", "-"), ip, v, lab, ann, taints=taints,
                          provider="aws:///us-east-1a/i-0%012x" % (i + 0xabc123), image="Red Hat Enterprise Linux CoreOS 416.94"))
    names = [nd["metadata"]["name"] for nd in nodes]
    script = ('LOCK=/var/log/kube-apiserver/.lock\n'
              'exec {LOCK_FD}>${LOCK} && flock --verbose -w 30 "${LOCK_FD}" || { exit 1; }\n'
              'exec watch-termination --termination-touch-file=/var/log/kube-apiserver/.terminating '
              '--termination-log-file=/var/log/kube-apiserver/termination.log --graceful-termination-duration=135s '
              '--kubeconfig=/etc/kubernetes/static-pod-resources/configmaps/kube-apiserver-cert-syncer-kubeconfig/kubeconfig '
              '-- hyperkube kube-apiserver --openshift-config=/etc/kubernetes/static-pod-resources/configmaps/config/config.yaml '
              '--advertise-address=${HOST_IP}  -v=2 --permit-address-sharing\n')
    pods = []
    for n, (_, ip) in zip(names[:3], masters):
        pods.append(pod("openshift-kube-apiserver", "kube-apiserver-" + n, n, ip,
                        [container("kube-apiserver", "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:5d1c",
                                   command=["/bin/bash", "-ec"], args=[script]),
                         container("kube-apiserver-cert-syncer", "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:9b2e",
                                   command=["cluster-kube-apiserver-operator", "cert-syncer"])],
                        {"app": "openshift-kube-apiserver", "apiserver": "true", "revision": "7"},
                        host_network=True, mirror=True))
    ovn_nodes = [(n, ip) for n, (_, ip) in zip(names, masters + workers)]
    ovn = ds("openshift-ovn-kubernetes", "ovnkube-node", {"app": "ovnkube-node"},
             [container(c, "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:0f3a") for c in
              ["ovn-controller", "ovn-acl-logging", "kube-rbac-proxy-node", "kube-rbac-proxy-ovn-metrics",
               "northd", "nbdb", "sbdb", "ovnkube-controller"]], 5)
    pods += ds_pods(ovn, ovn_nodes)
    pods += workloads([
        ("openshift-dns", "dns-default-5x8kq-abcde", names[0], "10.128.0.12"),
        ("openshift-dns", "dns-default-5x8kq-fghij", names[3], "10.131.0.9"),
        ("openshift-ingress", "router-default-7c9d8b6f5-k2l3m", names[3], "10.131.0.15"),
        ("openshift-ingress", "router-default-7c9d8b6f5-n4p5q", names[4], "10.128.2.11"),
        ("openshift-monitoring", "prometheus-k8s-0-abcde", names[4], "10.128.2.20"),
        ("shop", "cart-6f7d8c9b5-r6s7t", names[4], "10.128.2.33"),
    ])
    services = [svc("default", "kubernetes", "172.30.0.1"),
                svc("openshift-dns", "dns-default", "172.30.0.10"),
                svc("openshift-ingress", "router-internal-default", "172.30.36.140"),
                svc("openshift-monitoring", "prometheus-k8s", "172.30.112.9"),
                svc("openshift-apiserver", "api", "172.30.200.5"),
                svc("shop", "cart", "172.30.255.18")]
    objects, errors = [], []
    if with_network_object:
        net = [{"cidr": "10.128.0.0/14", "hostPrefix": 23}]
        objects.append(obj("config.openshift.io/v1", "Network", "cluster",
                           spec={"clusterNetwork": net, "serviceNetwork": ["172.30.0.0/16"],
                                 "networkType": "OVNKubernetes"},
                           status={"clusterNetwork": net, "serviceNetwork": ["172.30.0.0/16"],
                                   "networkType": "OVNKubernetes", "clusterNetworkMTU": 8901}))
    else:
        errors.append({"what": "networks.config.openshift.io/cluster",
                       "reason": '403 Forbidden: networks.config.openshift.io "cluster" is forbidden: User "system:serviceaccount:netcheck:netcheck" cannot get resource "networks" in API group "config.openshift.io" at the cluster scope',
                       "needs": "get networks.config.openshift.io cluster"})
    return cluster(v, nodes, pods, services, [ovn], objects=objects, errors=errors)


@scenario
def openshift_ovn():
    write("openshift-ovn", openshift(True))


@scenario
def openshift_apiserver_by_file():
    write("openshift-apiserver-by-file", openshift(False))


# ----------------------------------------------------------------------------- MicroK8s

@scenario
def microk8s_kubelite():
    v = "v1.31.5"
    nodes_ = [("mk8s-1", "10.0.0.5"), ("mk8s-2", "10.0.0.6"), ("mk8s-3", "10.0.0.7")]
    nodes = [node(n, ip, v, {"microk8s.io/cluster": "true",
                              "node.kubernetes.io/microk8s-controlplane": "microk8s-controlplane"},
                  {"projectcalico.org/IPv4Address": ip + "/24",
                   "projectcalico.org/IPv4VXLANTunnelAddr": "10.1.%d.0" % (40 + i)})
             for i, (n, ip) in enumerate(nodes_)]
    calico = ds("kube-system", "calico-node", {"k8s-app": "calico-node"}, [
        container("calico-node", "docker.io/calico/node:v3.28.1",
                  env=[("DATASTORE_TYPE", "kubernetes"), ("CALICO_IPV4POOL_CIDR", "10.1.0.0/16"),
                       ("CALICO_IPV4POOL_VXLAN", "Always"), ("IP_AUTODETECTION_METHOD", "first-found"),
                       ("FELIX_FEATUREDETECTOVERRIDE", "ChecksumOffloadBroken=true")])], 3,
        node_selector={"kubernetes.io/os": "linux"})
    pods = ds_pods(calico, nodes_)
    pods += workloads([
        ("kube-system", "calico-kube-controllers-5947598c79-7xk9p", "mk8s-1", "10.1.40.65"),
        ("kube-system", "coredns-864597b5fd-b2v8n", "mk8s-1", "10.1.40.66"),
        ("kube-system", "hostpath-provisioner-756cd956bc-zz7k4", "mk8s-2", "10.1.41.130"),
        ("default", "api-7f9c8d6b5-m2n3b", "mk8s-3", "10.1.42.7"),
    ])
    services = [svc("default", "kubernetes", "10.152.183.1"), svc("kube-system", "kube-dns", "10.152.183.10"),
                svc("kube-system", "metrics-server", "10.152.183.88"), svc("default", "api", "10.152.183.201")]
    cms = [cm("kube-system", "calico-config", {"calico_backend": "vxlan", "veth_mtu": "0",
                                               "typha_service_name": "none"})]
    pools = [{"metadata": meta("default-ipv4-ippool"),
              "spec": {"cidr": "10.1.0.0/16", "blockSize": 26}}]
    write("microk8s-kubelite", cluster(v, nodes, pods, services, [calico], cms, pools))


# ----------------------------------------------------------------------------- AKS

def aks(cilium, mode="overlay"):
    v = "v1.31.2"
    nodes_ = [("aks-nodepool1-12345678-vmss000000", "10.224.0.4"), ("aks-nodepool1-12345678-vmss000001", "10.224.0.5"),
              ("aks-nodepool1-12345678-vmss000002", "10.224.0.6")]
    nodes = []
    for i, (n, ip) in enumerate(nodes_):
        lab = {"agentpool": "nodepool1", "kubernetes.azure.com/agentpool": "nodepool1",
               "kubernetes.azure.com/cluster": "MC_shop-rg_shop-aks_westeurope",
               "kubernetes.azure.com/mode": "system", "kubernetes.azure.com/role": "agent",
               "kubernetes.azure.com/network-subnet": "aks-subnet", "kubernetes.azure.com/network-policy": "cilium" if cilium else "none"}
        if mode == "overlay":
            lab.update({"kubernetes.azure.com/azure-cni-overlay": "true", "kubernetes.azure.com/podnetwork-type": "overlay"})
        if cilium:
            lab["kubernetes.azure.com/ebpf-dataplane"] = "cilium"
        prov = ("azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_shop-rg_shop-aks_westeurope/"
                "providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/%d" % i)
        nodes.append(node(n, ip, v, lab, provider=prov, image="Ubuntu 22.04.5 LTS",
                          podcidrs=["10.244.%d.0/24" % i] if mode == "kubenet" else None))
    pods, dss, cms = [], [], []
    if mode != "kubenet":
        cns = ds("kube-system", "azure-cns", {"k8s-app": "azure-cns"},
                 [container("cns-container", "mcr.microsoft.com/containernetworking/azure-cns:v1.6.13")], 3)
        dss.append(cns)
        pods += ds_pods(cns, nodes_)
    if cilium:
        agent = ds("kube-system", "cilium", {"k8s-app": "cilium"},
                   [container("cilium-agent", "mcr.microsoft.com/containernetworking/cilium/cilium:v1.16.5",
                              command=["cilium-agent"], args=["--config-dir=/tmp/cilium/config-map"])], 3,
                   node_selector={"kubernetes.azure.com/ebpf-dataplane": "cilium"})
        dss.append(agent)
        pods += ds_pods(agent, nodes_)
        cms.append(cm("kube-system", "cilium-config", {
            "ipam": "delegated-plugin", "kube-proxy-replacement": "true",
            "kube-proxy-replacement-healthz-bind-address": "0.0.0.0:10256", "routing-mode": "native",
            "enable-ipv4-masquerade": "false", "cluster-name": "default"}))
    else:
        masq = ds("kube-system", "azure-ip-masq-agent", {"k8s-app": "azure-ip-masq-agent"},
                  [container("azure-ip-masq-agent", "mcr.microsoft.com/aks/ip-masq-agent-v2:v0.1.14")], 3)
        kp = ds("kube-system", "kube-proxy", {"component": "kube-proxy", "tier": "node"},
                [container("kube-proxy", "mcr.microsoft.com/oss/kubernetes/kube-proxy:v1.31.2",
                           command=["kube-proxy", "--conntrack-max-per-core=0", "--metrics-bind-address=0.0.0.0:10249"]
                           + (["--detect-local-mode=InterfaceNamePrefix", "--pod-interface-name-prefix=azv"]
                              if mode == "vnet" else ["--cluster-cidr=10.244.0.0/16", "--detect-local-mode=ClusterCIDR"])
                           + ["--v=3"])], 3)
        dss += [masq, kp]
        pods += ds_pods(masq, nodes_) + ds_pods(kp, nodes_)
    # VNet mode: pods take secondary addresses of the nodes' subnet.
    ips = (["10.224.0.17", "10.224.0.43", "10.224.0.71", "10.224.0.29"] if mode == "vnet"
           else ["10.244.0.17", "10.244.1.23", "10.244.2.9", "10.244.0.31"])
    pods += workloads([
        ("kube-system", "coredns-659fcb469c-8lqhd", nodes_[0][0], ips[0]),
        ("kube-system", "metrics-server-7dd6b8c5d-lqxw2", nodes_[1][0], ips[1]),
        ("shop", "frontend-6cf7b8d9c5-x4z8k", nodes_[2][0], ips[2]),
        ("shop", "frontend-6cf7b8d9c5-h7j2n", nodes_[0][0], ips[3]),
    ])
    services = [svc("default", "kubernetes", "10.0.0.1"), svc("kube-system", "kube-dns", "10.0.0.10"),
                svc("kube-system", "metrics-server", "10.0.83.25"), svc("shop", "frontend", "10.0.215.140")]
    nc = lambda i, ip: ({"type": "overlay", "primaryIP": "10.244.%d.0/24" % i, "subnetAddressSpace": "10.244.0.0/16"}
                        if mode == "overlay" else
                        {"type": "vnet", "primaryIP": "10.224.0.%d" % (10 + 30 * i), "subnetAddressSpace": "10.224.0.0/16"})
    count = 0 if mode == "overlay" else 30
    objects = [obj("acn.azure.com/v1alpha", "NodeNetworkConfig", n, "kube-system", spec={"requestedIPCount": count},
                   status={"assignedIPCount": count or 256, "networkContainers": [dict(
                       {"id": "0d6f6c1e-1111-2222-3333-44445555%04d" % i, "assignmentMode": "static",
                        "nodeIP": ip, "version": 0}, **nc(i, ip))]})
               for i, (n, ip) in enumerate(nodes_)] if mode != "kubenet" else []
    return cluster(v, nodes, pods, services, dss, cms, objects=objects)


@scenario
def aks_overlay():
    write("aks-overlay", aks(False))


@scenario
def aks_cilium():
    write("aks-cilium", aks(True))


@scenario
def aks_vnet():
    write("aks-vnet", aks(False, "vnet"))


@scenario
def aks_kubenet():
    write("aks-kubenet", aks(False, "kubenet"))


# ----------------------------------------------------------------------------- GKE

@scenario
def gke_dataplane_v2():
    v = "v1.30.8-gke.1051000"
    nodes_ = [("gke-prod-default-pool-ad94ddd8-f132", "10.128.0.21"), ("gke-prod-default-pool-ad94ddd8-k8v4", "10.128.0.22"),
              ("gke-prod-default-pool-ad94ddd8-x9pq", "10.128.0.23")]
    nodes = [node(n, ip, v, {"cloud.google.com/gke-nodepool": "default-pool", "cloud.google.com/gke-os-distribution": "cos",
                              "cloud.google.com/gke-container-runtime": "containerd", "cloud.google.com/gke-netd-ready": "true",
                              "cloud.google.com/gke-max-pods-per-node": "110", "cloud.google.com/gke-stack-type": "IPV4",
                              "topology.kubernetes.io/zone": "europe-west1-b"},
                  podcidrs=["10.8.%d.0/24" % i], provider="gce://shop-prod/europe-west1-b/" + n,
                  image="Container-Optimized OS from Google")
             for i, (n, ip) in enumerate(nodes_)]
    anetd = ds("kube-system", "anetd", {"k8s-app": "cilium"},
               [container("cilium-agent", "gke.gcr.io/cilium/cilium:v1.14.15-gke.1")], 3)
    pods = ds_pods(anetd, nodes_)
    pods += workloads([
        ("kube-system", "kube-dns-5c9b9f8d9c-2kq7x", nodes_[0][0], "10.8.0.5"),
        ("kube-system", "konnectivity-agent-6f8f7c9d8b-q5t7w", nodes_[1][0], "10.8.1.4"),
        ("shop", "checkout-8f6d7b5c9-vz4lm", nodes_[2][0], "10.8.2.12"),
    ])
    services = [svc("default", "kubernetes", "34.118.224.1"), svc("kube-system", "kube-dns", "34.118.224.10"),
                svc("shop", "checkout", "34.118.231.77"), svc("kube-system", "metrics-server", "34.118.236.200")]
    write("gke-dataplane-v2", cluster(v, nodes, pods, services, [anetd]))


# ----------------------------------------------------------------------------- kube-up (GCE)

@scenario
def kube_up_gce_master():
    v = "v1.31.4"
    master = ("kubernetes-master", "10.40.0.2")
    minions = [("kubernetes-minion-group-4h2k", "10.40.0.3"), ("kubernetes-minion-group-8q7w", "10.40.0.4"),
               ("kubernetes-minion-group-c3d4", "10.40.0.5")]
    prov = lambda n: "gce://netcheck-lab/us-central1-b/" + n
    nodes = [node(master[0], master[1], v, podcidrs=["10.64.0.0/24"], unschedulable=True, provider=prov(master[0]),
                  taints=[("node-role.kubernetes.io/control-plane", "NoSchedule"),
                          ("node.kubernetes.io/unschedulable", "NoSchedule")],
                  image="Container-Optimized OS from Google")]
    nodes += [node(n, ip, v, podcidrs=["10.64.%d.0/24" % (i + 1)], provider=prov(n),
                   image="Container-Optimized OS from Google") for i, (n, ip) in enumerate(minions)]
    sh = lambda cmd: ["/bin/sh", "-c", cmd]
    cp = lambda c: {"component": c, "tier": "control-plane"}
    m, mip = master
    pods = [
        pod("kube-system", "etcd-server-" + m, m, mip, [container("etcd-container", "registry.k8s.io/etcd:3.5.16-0",
            command=sh("exec /usr/local/bin/etcd --name etcd-kubernetes-master --listen-peer-urls https://10.40.0.2:2380 1>>/var/log/etcd.log 2>&1"))],
            {"component": "etcd-server", "tier": "control-plane"}, host_network=True, mirror=True),
        pod("kube-system", "kube-apiserver-" + m, m, mip, [container("kube-apiserver", "registry.k8s.io/kube-apiserver:" + v,
            command=sh("exec /usr/local/bin/kube-apiserver --v=2 --allow-privileged=true --cloud-provider=external --service-cluster-ip-range=10.0.0.0/16 --secure-port=443 1>>/var/log/kube-apiserver.log 2>&1"))],
            cp("kube-apiserver"), host_network=True, mirror=True),
        pod("kube-system", "kube-controller-manager-" + m, m, mip, [container("kube-controller-manager", "registry.k8s.io/kube-controller-manager:" + v,
            command=sh("exec /usr/local/bin/kube-controller-manager --v=2 --cloud-provider=external --cluster-cidr=10.64.0.0/14 --service-cluster-ip-range=10.0.0.0/16 --allocate-node-cidrs=true --cidr-allocator-type=CloudAllocator --controllers=*,-node-ipam-controller 1>>/var/log/kube-controller-manager.log 2>&1"))],
            cp("kube-controller-manager"), host_network=True, mirror=True),
        pod("kube-system", "kube-scheduler-" + m, m, mip, [container("kube-scheduler", "registry.k8s.io/kube-scheduler:" + v,
            command=sh("exec /usr/local/bin/kube-scheduler --v=2 1>>/var/log/kube-scheduler.log 2>&1"))],
            cp("kube-scheduler"), host_network=True, mirror=True),
        pod("kube-system", "konnectivity-server-" + m, m, mip, [container("konnectivity-server-container", "registry.k8s.io/kas-network-proxy/proxy-server:v0.31.0")],
            {"component": "konnectivity-server", "tier": "control-plane"}, host_network=True, mirror=True),
    ]
    # kube-proxy static pods on the minions, except c3d4, whose manifest is missing.
    for n, ip in minions[:2]:
        pods.append(pod("kube-system", "kube-proxy-" + n, n, ip, [container("kube-proxy", "registry.k8s.io/kube-proxy-amd64:" + v,
            command=sh("exec kube-proxy --master=https://kubernetes-master --kubeconfig=/var/lib/kube-proxy/kubeconfig --cluster-cidr=10.64.0.0/14 --oom-score-adj=-998 --v=2 --iptables-sync-period=1m --iptables-min-sync-period=10s --ipvs-sync-period=1m --ipvs-min-sync-period=10s 1>>/var/log/kube-proxy.log 2>&1"))],
            {"component": "kube-proxy", "tier": "node"}, host_network=True, mirror=True))
    pods += workloads([
        ("kube-system", "coredns-6f6b679f8f-4wqzr", minions[0][0], "10.64.1.4"),
        ("kube-system", "konnectivity-agent-5c7d9f8b6-n2m4k", minions[1][0], "10.64.2.3"),
        ("default", "web-7d4b9c8f6-t5r6e", minions[2][0], "10.64.3.8"),
        ("default", "web-7d4b9c8f6-y7u8i", minions[2][0], "10.64.3.9"),
    ])
    services = [svc("default", "kubernetes", "10.0.0.1"), svc("kube-system", "kube-dns", "10.0.0.10"),
                svc("default", "web", "10.0.144.17")]
    logs = [{"namespace": "kube-system", "pod": "kube-proxy-" + n, "container": "kube-proxy", "text": ""} for n, _ in minions[:2]]
    write("kube-up-gce-master", cluster(v, nodes, pods, services, logs=logs))


# ----------------------------------------------------------------------------- kubeadm variants

def kubeadm_base(v, nodes_, pod_cidr="10.244.0.0/16", service="10.96.0.0/12", node_extra=None):
    """kubeadm nodes with podCIDRs, the control plane on the first node, kubeadm's ConfigMaps."""
    nodes = []
    for i, (n, ip) in enumerate(nodes_):
        extra = (node_extra or {}).get(n, {})
        lab = {"node-role.kubernetes.io/control-plane": ""} if i == 0 else {}
        lab.update(extra.pop("labels", {}))
        taints = [("node-role.kubernetes.io/control-plane", "NoSchedule")] if i == 0 else None
        nodes.append(node(n, ip, v, lab, extra.pop("annotations", None),
                          extra.pop("podcidrs", ["10.244.%d.0/24" % i]), taints=taints, **extra))
    pods = control_plane(nodes_[0][0], nodes_[0][1], v, service, pod_cidr)
    cms = [kubeadm_config(pod_cidr, service, v)]
    return nodes, pods, cms


def flannel_ds(nodes_, n=None, node_selector=None):
    d = ds("kube-flannel", "kube-flannel-ds", {"app": "flannel", "k8s-app": "flannel"},
           [container("kube-flannel", "ghcr.io/flannel-io/flannel:v0.26.4",
                      command=["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"])],
           n if n is not None else len(nodes_), node_selector=node_selector or {"kubernetes.io/os": "linux"},
           tolerations=[{"operator": "Exists", "effect": "NoSchedule"}])
    return d, ds_pods(d, nodes_)


FLANNEL_CM = cm("kube-flannel", "kube-flannel-cfg", {
    "net-conf.json": '{\n  "Network": "10.244.0.0/16",\n  "EnableNFTables": false,\n  "Backend": {\n    "Type": "vxlan"\n  }\n}\n'})


@scenario
def windows_node_uncovered():
    v = "v1.30.6"
    nodes_ = [("cp1", "10.20.0.10"), ("worker1", "10.20.0.11"), ("win-1", "10.20.0.21"), ("win-2", "10.20.0.22")]
    win = {"labels": {"node.kubernetes.io/windows-build": "10.0.20348"}, "os_": "windows",
           "image": "Windows Server 2022 Datacenter"}
    msg = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
           "message:Network plugin returns error: cni plugin not initialized")
    extra = {"win-1": dict(win, ready=False, ready_message=msg, podcidrs=["10.244.2.0/24"]),
             "win-2": dict(win, labels=dict(win["labels"]), podcidrs=["10.244.3.0/24"])}
    nodes, pods, cms = kubeadm_base(v, nodes_, node_extra=extra)
    linux = nodes_[:2]
    fl, flp = flannel_ds(linux)
    kp, kpp = kube_proxy_ds(linux, v)
    # win-2 is networked by flannel's Windows DaemonSet and runs kube-proxy for Windows.
    flw = ds("kube-flannel", "kube-flannel-ds-windows-amd64", {"app": "flannel", "os": "windows"},
             [container("kube-flannel", "sigwindowstools/flannel:v0.21.5-hostprocess")], 1,
             node_selector={"kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": "10.0.20348"})
    kpw = ds("kube-system", "kube-proxy-windows", {"k8s-app": "kube-proxy-windows"},
             [container("kube-proxy", "sigwindowstools/kube-proxy:v1.30.6-calico-hostprocess")], 1,
             node_selector={"kubernetes.io/os": "windows"})
    # win-1 matches the same selectors but its pods never started: no network yet.
    flw["status"].update(desiredNumberScheduled=2, currentNumberScheduled=1, numberReady=1, numberAvailable=1,
                         updatedNumberScheduled=2)
    pods += flp + kpp + ds_pods(flw, [nodes_[3]]) + ds_pods(kpw, [nodes_[3]])
    pods += workloads([("kube-system", "coredns-55cb58b774-6v9kd", "worker1", "10.244.1.2"),
                       ("default", "iis-5f9c8b7d6-w4x5y", "win-2", "10.244.3.5")])
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10")]
    cms += [kubeadm_proxy_cm("iptables", "10.244.0.0/16"), FLANNEL_CM]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    write("windows-node-uncovered", cluster(v, nodes, pods, services, [fl, kp, flw, kpw], cms, logs=logs))


@scenario
def kube_proxy_beside_cilium():
    v = "v1.30.6"
    nodes_ = [("cp1", "172.16.5.10"), ("worker1", "172.16.5.11"), ("worker2", "172.16.5.12")]
    nodes, pods, cms = kubeadm_base(v, nodes_, pod_cidr="10.0.0.0/16",
                                    node_extra={n: {"podcidrs": ["10.0.%d.0/24" % i]} for i, (n, _) in enumerate(nodes_)})
    for i, n in enumerate(nodes):
        n["metadata"].setdefault("annotations", {})["network.cilium.io/ipv4-pod-cidr"] = "10.0.%d.0/24" % i
    kp, kpp = kube_proxy_ds(nodes_, v)
    cil = ds("kube-system", "cilium", {"k8s-app": "cilium"},
             [container("cilium-agent", "quay.io/cilium/cilium:v1.16.4", command=["cilium-agent"],
                        args=["--config-dir=/tmp/cilium/config-map"])], 3)
    pods += kpp + ds_pods(cil, nodes_)
    pods += workloads([("kube-system", "coredns-7db6d8ff4d-2xk8l", "worker1", "10.0.1.33"),
                       ("default", "api-6d8b9c7f5-q2w3e", "worker2", "10.0.2.71")])
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10"),
                svc("default", "api", "10.107.40.2")]
    cms += [kubeadm_proxy_cm("iptables", "10.0.0.0/16"),
            cm("kube-system", "cilium-config", {"ipam": "cluster-pool", "cluster-pool-ipv4-cidr": "10.0.0.0/16",
                                                "cluster-pool-ipv4-mask-size": "24",
                                                "kube-proxy-replacement": "true", "routing-mode": "tunnel",
                                                "tunnel-protocol": "vxlan"})]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    write("kube-proxy-beside-cilium", cluster(v, nodes, pods, services, [kp, cil], cms, logs=logs))


@scenario
def no_service_proxy():
    v = "v1.31.6"
    nodes_ = [("cp1", "10.30.0.10"), ("worker1", "10.30.0.11")]
    nodes, pods, cms = kubeadm_base(v, nodes_)
    fl, flp = flannel_ds(nodes_)
    pods += flp + workloads([("kube-system", "coredns-7c65d6cfc9-fj4k2", "worker1", "10.244.1.2"),
                             ("default", "web-6d9f8c7b5-kl3m4", "worker1", "10.244.1.3")])
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10")]
    cms.append(FLANNEL_CM)
    write("no-service-proxy", cluster(v, nodes, pods, services, [fl], cms))


@scenario
def calico_operator():
    v = "v1.31.6"
    nodes_ = [("cp1", "192.168.50.10"), ("worker1", "192.168.50.11"), ("worker2", "192.168.50.12")]
    ann = lambda ip: {"annotations": {"projectcalico.org/IPv4Address": ip + "/24",
                                      "projectcalico.org/IPv4IPIPTunnelAddr": "10.244.%s.0" % ip.split(".")[-1]}}
    nodes, pods, cms = kubeadm_base(v, nodes_, node_extra={n: ann(ip) for n, ip in nodes_})
    cn = ds("calico-system", "calico-node", {"k8s-app": "calico-node", "app.kubernetes.io/name": "calico-node"},
            [container("calico-node", "docker.io/calico/node:v3.29.2",
                       env=[("DATASTORE_TYPE", "kubernetes"), ("CLUSTER_TYPE", "k8s,operator,bgp"),
                            ("CALICO_DISABLE_FILE_LOGGING", "false"), ("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
                            ("IP", "autodetect"), ("IP_AUTODETECTION_METHOD", "first-found")])], 3)
    kp, kpp = kube_proxy_ds(nodes_, v)
    pods += ds_pods(cn, nodes_) + kpp
    pods += workloads([("calico-system", "calico-kube-controllers-5d8b9c7f6d-ab1cd", "worker1", "10.244.147.65"),
                       ("kube-system", "coredns-7c65d6cfc9-xz9y8", "worker1", "10.244.147.66"),
                       ("default", "db-0-6c8d9b7f5-r5t6y", "worker2", "10.244.22.129")])
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10"),
                svc("calico-system", "calico-typha", "10.103.11.20")]
    cms.append(kubeadm_proxy_cm("", "10.244.0.0/16"))
    pools = [{"metadata": meta("default-ipv4-ippool"),
              "spec": {"cidr": "10.244.0.0/16", "blockSize": 26}}]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    write("calico-operator", cluster(v, nodes, pods, services, [cn, kp], cms, pools, logs=logs))


@scenario
def kube_ovn():
    v = "v1.30.6"
    nodes_ = [("cp1", "10.50.0.10"), ("worker1", "10.50.0.11")]
    # kubeadm without --pod-network-cidr: Kube-OVN allocates from its own subnets, not podCIDRs.
    nodes, pods, cms = kubeadm_base(v, nodes_, pod_cidr=None,
                                    node_extra={n: {"podcidrs": [], "annotations": {
                                        "ovn.kubernetes.io/ip_address": "100.64.0.%d" % (i + 2),
                                        "ovn.kubernetes.io/cidr": "100.64.0.0/16"}} for i, (n, _) in enumerate(nodes_)})
    cni = ds("kube-system", "kube-ovn-cni", {"app": "kube-ovn-cni"},
             [container("cni-server", "docker.io/kubeovn/kube-ovn:v1.13.3",
                        command=["bash", "/kube-ovn/start-cniserver.sh"],
                        args=["--enable-mirror=false", "--encap-checksum=true", "--service-cluster-ip-range=10.96.0.0/12",
                              "--iface=", "--network-type=geneve", "--default-interface-name="])], 2)
    ovs = ds("kube-system", "ovs-ovn", {"app": "ovs"},
             [container("openvswitch", "docker.io/kubeovn/kube-ovn:v1.13.3", command=["/kube-ovn/start-ovs.sh"])], 2)
    kp, kpp = kube_proxy_ds(nodes_, v)
    pods += ds_pods(cni, nodes_) + ds_pods(ovs, nodes_) + kpp
    pods += workloads([("kube-system", "coredns-55cb58b774-q8w9e", "worker1", "10.16.0.4"),
                       ("kube-system", "kube-ovn-controller-6c9d8b7f5-z1x2c", "cp1", "10.16.0.2"),
                       ("default", "web-7b8c9d6f5-v3b4n", "worker1", "10.16.0.9")])
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10"),
                svc("kube-system", "kube-ovn-controller", "10.99.12.4")]
    cms.append(kubeadm_proxy_cm("", ""))
    objects = [obj("kubeovn.io/v1", "Subnet", "ovn-default",
                   spec={"default": True, "cidrBlock": "10.16.0.0/16", "gateway": "10.16.0.1", "protocol": "IPv4",
                         "provider": "ovn", "natOutgoing": True, "excludeIps": ["10.16.0.1"]},
                   status={"v4usingIPs": 3, "v4availableIPs": 65530}),
               obj("kubeovn.io/v1", "Subnet", "join",
                   spec={"default": False, "cidrBlock": "100.64.0.0/16", "gateway": "100.64.0.1", "protocol": "IPv4",
                         "provider": "ovn", "excludeIps": ["100.64.0.1"]})]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    write("kube-ovn", cluster(v, nodes, pods, services, [cni, ovs, kp], cms, objects=objects, logs=logs))


@scenario
def antrea_proxy_all():
    v = "v1.31.6"
    nodes_ = [("cp1", "10.60.0.10"), ("worker1", "10.60.0.11")]
    nodes, pods, cms = kubeadm_base(v, nodes_)
    agent = ds("kube-system", "antrea-agent", {"app": "antrea", "component": "antrea-agent"},
               [container("antrea-agent", "antrea/antrea-agent-ubuntu:v2.2.0", command=["antrea-agent"],
                          args=["--config=/etc/antrea/antrea-agent.conf", "--logtostderr=false"]),
                container("antrea-ovs", "antrea/antrea-agent-ubuntu:v2.2.0", command=["start_ovs"])], 2)
    pods += ds_pods(agent, nodes_)
    pods += workloads([("kube-system", "coredns-7c65d6cfc9-m4n5b", "worker1", "10.244.1.2"),
                       ("kube-system", "antrea-controller-7d9c8b6f5-p0o9i", "cp1", "10.60.0.10"),
                       ("default", "api-5c8d7b9f6-u7y6t", "worker1", "10.244.1.5")])
    # antrea-controller runs in the host network
    pods[-2]["spec"]["hostNetwork"] = True
    services = [svc("default", "kubernetes", "10.96.0.1"), svc("kube-system", "kube-dns", "10.96.0.10"),
                svc("kube-system", "antrea", "10.104.2.8")]
    cms.append(cm("kube-system", "antrea-config", {
        "antrea-agent.conf": "featureGates:\n  AntreaProxy: true\ntrafficEncapMode: encap\nantreaProxy:\n"
                             "  enable: true\n  proxyAll: true\n  nodePortAddresses: []\n"
                             "kubeAPIServerOverride: \"https://10.60.0.10:6443\"\n",
        "antrea-controller.conf": "nodeIPAM:\n  enableNodeIPAM: false\n"}))
    write("antrea-proxy-all", cluster(v, nodes, pods, services, [agent], cms))


@scenario
def gke_legacy_static_proxy():
    v = "v1.27.16-gke.1287000"
    nodes_ = [("gke-legacy-pool-1-5f2a9c1e-2bqm", "10.128.0.31"), ("gke-legacy-pool-1-5f2a9c1e-7wkd", "10.128.0.32")]
    nodes = [node(n, ip, v, {"cloud.google.com/gke-nodepool": "pool-1", "cloud.google.com/gke-os-distribution": "cos",
                              "cloud.google.com/gke-container-runtime": "containerd", "cloud.google.com/gke-netd-ready": "true"},
                  podcidrs=["10.52.%d.0/24" % i], provider="gce://shop-legacy/us-east1-c/" + n,
                  image="Container-Optimized OS from Google")
             for i, (n, ip) in enumerate(nodes_)]
    pods = []
    for n, ip in nodes_:
        pods.append(pod("kube-system", "kube-proxy-" + n, n, ip, [container("kube-proxy", "gke.gcr.io/kube-proxy-amd64:" + v,
            command=["/bin/sh", "-c", "exec kube-proxy --master=https://34.74.12.9 --kubeconfig=/var/lib/kube-proxy/kubeconfig --cluster-cidr=10.52.0.0/14 --oom-score-adj=-998 --v=2 --iptables-sync-period=1m --iptables-min-sync-period=10s --ipvs-sync-period=1m --ipvs-min-sync-period=10s 1>>/var/log/kube-proxy.log 2>&1"])],
            {"component": "kube-proxy", "tier": "node"}, host_network=True, mirror=True))
    netd = ds("kube-system", "netd", {"app": "netd"}, [container("netd", "gke.gcr.io/netd-amd64:v0.2.20")], 2,
              node_selector={"cloud.google.com/gke-netd-ready": "true"})
    pods += ds_pods(netd, nodes_)
    pods += workloads([("kube-system", "kube-dns-6d5f7b9c8-8x7cv", nodes_[0][0], "10.52.0.6"),
                       ("default", "legacy-app-5b8c7d6f9-5rt6y", nodes_[1][0], "10.52.1.14")])
    services = [svc("default", "kubernetes", "10.56.0.1"), svc("kube-system", "kube-dns", "10.56.0.10"),
                svc("default", "legacy-app", "10.56.12.201")]
    logs = [{"namespace": "kube-system", "pod": "kube-proxy-" + n, "container": "kube-proxy", "text": ""} for n, _ in nodes_]
    write("gke-legacy-static-proxy", cluster(v, nodes, pods, services, [netd], logs=logs))


# ----------------------------------------------------------------------------- Services (#12)

def app_pod(ns, name, node_, ip, labels, ports=(), ready=True, phase="Running", waiting=None, restarts=0,
            ready_message=None, scheduled_message=None, owner=None):
    """A workload pod with declared container ports and the Ready condition the kubelet writes."""
    c = container("app", "registry.example.com/app:2.1", )
    if ports:
        c["ports"] = [dict(zip(("name", "containerPort", "protocol"), p)) for p in ports]
    p = pod(ns, name, node_, ip, [c], labels=labels, owner=owner or ("ReplicaSet", name.rsplit("-", 1)[0]),
            phase=phase, ready=ready, restarts=restarts, waiting=waiting)
    conds = []
    if scheduled_message:
        conds.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": scheduled_message})
        p["spec"].pop("nodeName", None)
        p["status"].pop("containerStatuses", None)
    else:
        conds.append({"type": "PodScheduled", "status": "True"})
    if ready:
        conds.append({"type": "Ready", "status": "True"})
    else:
        conds.append({"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                      "message": ready_message or "containers with unready status: [app]"})
    p["status"]["conditions"] = conds
    if waiting == "CrashLoopBackOff":
        st = p["status"]["containerStatuses"][0]
        st["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                   "message": "back-off 5m0s restarting failed container=app pod=%s_%s" % (name, ns)}}
        st["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1}}
    return p


def service(ns, name, ip, ports, selector=None, kind="ClusterIP", lb_ingress=None, **spec):
    """ports: [(name, port, targetPort, protocol, nodePort)]"""
    sp = {"type": kind}
    if ip == "None":
        sp["clusterIP"] = "None"
    elif ip:
        ips = ip if isinstance(ip, list) else [ip]
        sp["clusterIP"], sp["clusterIPs"] = ips[0], ips
    if ports:
        out = []
        for n, port, target, proto, node_port in ports:
            x = {"port": port, "protocol": proto}
            if n:
                x["name"] = n
            if target is not None:
                x["targetPort"] = target
            if node_port:
                x["nodePort"] = node_port
            out.append(x)
        sp["ports"] = out
    if selector:
        sp["selector"] = selector
    sp.update(spec)
    o = {"metadata": meta(name, ns), "spec": sp}
    if lb_ingress is not None:
        o["status"] = {"loadBalancer": {"ingress": lb_ingress}}
    return o


def eslice(ns, svc_name, suffix, endpoints, ports, family="IPv4", managed="endpointslice-controller.k8s.io"):
    """endpoints: [(ip, pod or None, node or None, ready, serving, terminating)]; ports: [(name, port, proto)]"""
    eps = []
    for ip, pod_, node_, ready, serving, term in endpoints:
        e = {"addresses": [ip], "conditions": {"ready": ready, "serving": serving, "terminating": term}}
        if node_:
            e["nodeName"] = node_
        if pod_:
            e["targetRef"] = {"kind": "Pod", "namespace": ns, "name": pod_}
        eps.append(e)
    return {"metadata": meta("%s-%s" % (svc_name, suffix), ns,
                             labels={"kubernetes.io/service-name": svc_name,
                                     "endpointslice.kubernetes.io/managed-by": managed}),
            "addressType": family, "endpoints": eps,
            "ports": [dict(zip(("name", "port", "protocol"), p)) for p in ports]}


def kubelet_config(dns_ip, domain="cluster.local"):
    return cm("kube-system", "kubelet-config", {
        "kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n"
                   "clusterDNS:\n- %s\nclusterDomain: %s\n" % (dns_ip, domain)})


COREFILE = (".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
            "    kubernetes %s in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n"
            "       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n"
            "    cache 30\n    loop\n    reload\n    loadbalance\n}\n")


def coredns(nodes_, dns_ip, ips, domain="cluster.local"):
    """CoreDNS pods, the kube-dns Service and its slice, as kubeadm deploys them."""
    pods = [app_pod("kube-system", "coredns-7c65d6cfc9-%s" % sfx, n, ip, {"k8s-app": "kube-dns", "pod-template-hash": "7c65d6cfc9"},
                    [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")])
            for (n, _), ip, sfx in zip(nodes_, ips, ["x8k2p", "m4q9z"])]
    svc = service("kube-system", "kube-dns", dns_ip,
                  [("dns", 53, 53, "UDP", None), ("dns-tcp", 53, 53, "TCP", None), ("metrics", 9153, 9153, "TCP", None)],
                  {"k8s-app": "kube-dns"})
    svc["metadata"]["labels"] = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}
    sl = eslice("kube-system", "kube-dns", "6v7xk", [(p["status"]["podIP"], p["metadata"]["name"], p["spec"]["nodeName"], True, True, False) for p in pods],
                [("dns-tcp", 53, "TCP"), ("dns", 53, "UDP"), ("metrics", 9153, "TCP")])
    return pods, svc, sl, cm("kube-system", "coredns", {"Corefile": COREFILE % domain})


def kubernetes_svc(ip, endpoint):
    return (service("default", "kubernetes", ip, [("https", 443, 6443, "TCP", None)]),
            eslice("default", "kubernetes", "abcde", [(endpoint, None, None, True, True, False)], [("https", 6443, "TCP")],
                   managed="endpointslicemirroring-controller.k8s.io"))


@scenario
def services_broken():
    v = "v1.31.6"
    nodes_ = [("cp1", "10.70.0.10"), ("worker1", "10.70.0.11"), ("worker2", "10.70.0.12"), ("worker3", "10.70.0.13")]
    nodes, pods, cms = kubeadm_base(v, nodes_)
    fl, flp = flannel_ds(nodes_)
    kp, kpp = kube_proxy_ds(nodes_, v)
    pods += flp + kpp
    dns_pods, dns_svc, dns_slice, corefile = coredns(nodes_[1:], "10.96.0.10", ["10.244.1.2", "10.244.2.2"])
    pods += dns_pods
    k_svc, k_slice = kubernetes_svc("10.96.0.1", "10.70.0.10")
    http = [("http", 8080, "TCP")]
    shop = "shop"
    P = lambda *a, **k: pods.append(app_pod(*a, **k))
    # web: the selector says app=web, the Deployment labels its pods app=webapp.
    P(shop, "webapp-5d8f9c7b6-h2k4m", "worker1", "10.244.1.10", {"app": "webapp", "tier": "frontend"}, http)
    P(shop, "webapp-5d8f9c7b6-p9q8r", "worker2", "10.244.2.10", {"app": "webapp", "tier": "frontend"}, http)
    # api: both pods crash-loop.
    P(shop, "api-7f6d5c4b3-a1b2c", "worker1", "10.244.1.11", {"app": "api"}, http, ready=False, waiting="CrashLoopBackOff", restarts=7)
    P(shop, "api-7f6d5c4b3-d3e4f", "worker2", "10.244.2.11", {"app": "api"}, http, ready=False, waiting="CrashLoopBackOff", restarts=6)
    # search: running, but its readiness probe fails.
    P(shop, "search-6c5b4a3f2-g5h6j", "worker3", "10.244.3.12", {"app": "search"}, [("http", 9200, "TCP")], ready=False)
    # reports: cannot be scheduled, no IP yet.
    P(shop, "reports-8e7d6c5b4-k7l8m", None, None, {"app": "reports"}, http, ready=False, phase="Pending",
      scheduled_message="0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient memory. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.")
    # cart: the Service targets the port name "web", the pods name theirs "http".
    P(shop, "cart-4b3a2f1e0-n9p0q", "worker3", "10.244.3.13", {"app": "cart"}, http)
    # ledger: targetPort 9090, the container declares 8080.
    P(shop, "ledger-3a2f1e0d9-r1s2t", "worker1", "10.244.1.14", {"app": "ledger"}, http)
    # checkout: its slice still lists a pod that was replaced.
    P(shop, "checkout-2f1e0d9c8-u3v4w", "worker2", "10.244.2.15", {"app": "checkout"}, http)
    # edge: a NodePort with externalTrafficPolicy Local, its one pod on worker3.
    P(shop, "edge-1e0d9c8b7-x5y6z", "worker3", "10.244.3.16", {"app": "edge"}, http)
    services = [k_svc, dns_svc,
        service(shop, "web", "10.96.10.10", [("http", 80, "http", "TCP", None)], {"app": "web"}),
        service(shop, "api", "10.96.10.11", [("http", 80, "http", "TCP", None)], {"app": "api"}),
        service(shop, "search", "10.96.10.12", [("http", 9200, "http", "TCP", None)], {"app": "search"}),
        service(shop, "reports", "10.96.10.13", [("http", 80, "http", "TCP", None)], {"app": "reports"}),
        service(shop, "cart", "10.96.10.14", [("http", 80, "web", "TCP", None)], {"app": "cart"}),
        service(shop, "ledger", "10.96.10.15", [(None, 80, 9090, "TCP", None)], {"app": "ledger"}),
        service(shop, "checkout", "10.96.10.16", [("http", 80, "http", "TCP", None)], {"app": "checkout"}),
        service(shop, "legacy-np", "10.96.10.17", [("http", 80, "http", "TCP", 32900)], {"app": "checkout"}, kind="NodePort"),
        service(shop, "partner", "10.96.10.18", [("http", 80, "http", "TCP", None)], {"app": "checkout"}, externalIPs=["203.0.113.10"]),
        service(shop, "edge", "10.96.10.19", [("http", 80, "http", "TCP", 30480)], {"app": "edge"}, kind="NodePort", externalTrafficPolicy="Local"),
        service(shop, "payments-gw", "10.96.10.20", [("https", 443, 443, "TCP", None)]),
        service(shop, "db", "10.96.10.21", [("pg", 5432, 5432, "TCP", None)]),
        service(shop, "payments", None, [], kind="ExternalName", externalName="payments.example.com"),
        service(shop, "cart-peers", "None", [("http", 8080, 8080, "TCP", None)], {"app": "cart"}),
    ]
    ep = lambda p, ready=True: (p["status"]["podIP"], p["metadata"]["name"], p["spec"].get("nodeName"), ready, ready, False)
    byname = {p["metadata"]["name"]: p for p in pods}
    slices = [k_slice, dns_slice,
        eslice(shop, "web", "q1w2e", [], []),
        eslice(shop, "api", "r3t4y", [ep(byname["api-7f6d5c4b3-a1b2c"], False), ep(byname["api-7f6d5c4b3-d3e4f"], False)], [("http", 8080, "TCP")]),
        eslice(shop, "search", "u5i6o", [ep(byname["search-6c5b4a3f2-g5h6j"], False)], [("http", 9200, "TCP")]),
        eslice(shop, "reports", "p7a8s", [], []),
        # the controller groups pods lacking the named port into a slice without that port
        eslice(shop, "cart", "d9f0g", [ep(byname["cart-4b3a2f1e0-n9p0q"])], []),
        eslice(shop, "ledger", "h1j2k", [ep(byname["ledger-3a2f1e0d9-r1s2t"])], [("", 9090, "TCP")]),
        eslice(shop, "checkout", "l3z4x", [ep(byname["checkout-2f1e0d9c8-u3v4w"]),
                                           ("10.244.1.99", "checkout-2f1e0d9c8-old99", "worker1", True, True, False)], [("http", 8080, "TCP")]),
        eslice(shop, "legacy-np", "c5v6b", [ep(byname["checkout-2f1e0d9c8-u3v4w"])], [("http", 8080, "TCP")]),
        eslice(shop, "partner", "n7m8q", [ep(byname["checkout-2f1e0d9c8-u3v4w"])], [("http", 8080, "TCP")]),
        eslice(shop, "edge", "w9e0r", [ep(byname["edge-1e0d9c8b7-x5y6z"])], [("http", 8080, "TCP")]),
        # db: selector-less, with an EndpointSlice made by hand for a database outside the cluster
        eslice(shop, "db", "manual", [("192.0.2.40", None, None, True, True, False)], [("pg", 5432, "TCP")], managed="staff"),
        eslice(shop, "cart-peers", "t1y2u", [ep(byname["cart-4b3a2f1e0-n9p0q"])], [("http", 8080, "TCP")]),
        # left behind after its Service was deleted
        eslice(shop, "old-frontend", "i3o4p", [("10.244.2.77", None, "worker2", True, True, False)], [("http", 8080, "TCP")], managed="staff"),
    ]
    cms += [kubeadm_proxy_cm("iptables", "10.244.0.0/16"), FLANNEL_CM, kubelet_config("10.96.0.10"), corefile]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    c = cluster(v, nodes, pods, services, [fl, kp], cms, logs=logs)
    c["endpointSlices"] = slices
    c["endpointsApi"] = "discovery.k8s.io/v1"
    write("services-broken", c)


def with_endpoints(c, slices, api="discovery.k8s.io/v1"):
    c["endpointSlices"] = slices
    c["endpointsApi"] = api
    return c


def ready_ep(p):
    return (p["status"]["podIP"], p["metadata"]["name"], p["spec"].get("nodeName"), True, True, False)


@scenario
def services_k3s_servicelb():
    v = "v1.31.4+k3s1"
    nodes_ = [("k3s-server", "192.168.122.10"), ("k3s-agent", "192.168.122.11")]
    args = {"k3s-server": '["server","--write-kubeconfig-mode","644"]',
            "k3s-agent": '["agent","--server","https://192.168.122.10:6443","--token","********"]'}
    nodes = [node(n, ip, v, {"node.kubernetes.io/instance-type": "k3s"} if i else
                  {"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"},
                  {"k3s.io/node-args": args[n], "k3s.io/internal-ip": ip, "flannel.alpha.coreos.com/backend-type": "vxlan",
                   "flannel.alpha.coreos.com/public-ip": ip}, ["10.42.%d.0/24" % i], provider="k3s://" + n)
             for i, (n, ip) in enumerate(nodes_)]
    traefik = [app_pod("kube-system", "traefik-5fb479b4f7-8xk2p", "k3s-agent", "10.42.1.4",
                       {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system"},
                       [("web", 8000, "TCP"), ("websecure", 8443, "TCP")])]
    svclb = ds("kube-system", "svclb-traefik-3a9f2c1d", {"app": "svclb-traefik-3a9f2c1d", "svccontroller.k3s.cattle.io/svcname": "traefik",
                                                        "svccontroller.k3s.cattle.io/svcnamespace": "kube-system"},
               [container("lb-tcp-80", "rancher/klipper-lb:v0.4.9"), container("lb-tcp-443", "rancher/klipper-lb:v0.4.9")], 2,
               host_network=False)
    svclb_pods = ds_pods(svclb, nodes_, ips=["10.42.0.5", "10.42.1.5"])
    dns_pods, dns_svc, dns_slice, corefile = coredns(nodes_[:1], "10.43.0.10", ["10.42.0.3"])
    k_svc, k_slice = kubernetes_svc("10.43.0.1", "192.168.122.10")
    lb = service("kube-system", "traefik", "10.43.51.120", [("web", 80, "web", "TCP", 31880), ("websecure", 443, "websecure", "TCP", 30443)],
                 {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system"}, kind="LoadBalancer",
                 lb_ingress=[{"ip": "192.168.122.10", "ipMode": "VIP"}, {"ip": "192.168.122.11", "ipMode": "VIP"}],
                 externalTrafficPolicy="Cluster")
    slices = [k_slice, dns_slice, eslice("kube-system", "traefik", "9d2xq", [ready_ep(traefik[0])], [("web", 8000, "TCP"), ("websecure", 8443, "TCP")])]
    c = cluster(v, nodes, dns_pods + traefik + svclb_pods, [k_svc, dns_svc, lb], [svclb], [corefile])
    write("services-k3s-servicelb", with_endpoints(c, slices))


@scenario
def services_metallb():
    v = "v1.31.6"
    nodes_ = [("cp1", "192.168.60.10"), ("worker1", "192.168.60.11"), ("worker2", "192.168.60.12")]
    nodes, pods, cms = kubeadm_base(v, nodes_)
    fl, flp = flannel_ds(nodes_)
    kp, kpp = kube_proxy_ds(nodes_, v)
    speaker = ds("metallb-system", "speaker", {"app": "metallb", "component": "speaker"},
                 [container("speaker", "quay.io/metallb/speaker:v0.14.9", args=["--port=7472", "--log-level=info"])], 3)
    pods += flp + kpp + ds_pods(speaker, nodes_)
    pods.append(app_pod("metallb-system", "controller-5f98465b6b-tk2wz", "worker1", "10.244.1.3",
                        {"app": "metallb", "component": "controller"}, [("monitoring", 7472, "TCP")]))
    dns_pods, dns_svc, dns_slice, corefile = coredns(nodes_[1:], "10.96.0.10", ["10.244.1.2", "10.244.2.2"])
    k_svc, k_slice = kubernetes_svc("10.96.0.1", "192.168.60.10")
    ing = [app_pod("ingress-nginx", "ingress-nginx-controller-7d9f8b6c5-v8b7n", n, ip, {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
                   [("http", 80, "TCP"), ("https", 443, "TCP")]) for n, ip in [("worker1", "10.244.1.9"), ("worker2", "10.244.2.9")]]
    ing[1]["metadata"]["name"] = "ingress-nginx-controller-7d9f8b6c5-q2w3e"
    api = [app_pod("apps", "partner-api-6b5c4d3e2-k1l2m", "worker2", "10.244.2.20", {"app": "partner-api"}, [("http", 8080, "TCP")])]
    pods += dns_pods + ing + api
    lb_ok = service("ingress-nginx", "ingress-nginx-controller", "10.104.88.10",
                    [("http", 80, "http", "TCP", 31080), ("https", 443, "https", "TCP", 31443)],
                    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}, kind="LoadBalancer",
                    lb_ingress=[{"ip": "192.168.60.240", "ipMode": "VIP"}], externalTrafficPolicy="Local", healthCheckNodePort=32102)
    # A class MetalLB does not serve: nothing will assign it an address.
    lb_class = service("apps", "partner-api", "10.104.88.11", [("http", 80, "http", "TCP", 30781)], {"app": "partner-api"},
                       kind="LoadBalancer", loadBalancerClass="service.k8s.aws/nlb")
    slices = [k_slice, dns_slice,
              eslice("ingress-nginx", "ingress-nginx-controller", "h7k2m", [ready_ep(p) for p in ing], [("http", 80, "TCP"), ("https", 443, "TCP")]),
              eslice("apps", "partner-api", "z9x8c", [ready_ep(api[0])], [("http", 8080, "TCP")])]
    cms += [kubeadm_proxy_cm("iptables", "10.244.0.0/16"), FLANNEL_CM, kubelet_config("10.96.0.10"), corefile]
    c = cluster(v, nodes, pods, [k_svc, dns_svc, lb_ok, lb_class], [fl, kp, speaker], cms)
    write("services-metallb", with_endpoints(c, slices))


@scenario
def services_cloud_lb():
    v = "v1.31.2-eks-7f9249a"
    nodes_ = [("ip-192-168-12-34.eu-west-1.compute.internal", "192.168.12.34"), ("ip-192-168-45-67.eu-west-1.compute.internal", "192.168.45.67")]
    nodes = [node(n, ip, v, {"eks.amazonaws.com/nodegroup": "ng-1", "topology.kubernetes.io/zone": "eu-west-1" + z},
                  provider="aws:///eu-west-1%s/i-0%015x" % (z, i + 77)) for i, ((n, ip), z) in enumerate(zip(nodes_, "ab"))]
    aws = ds("kube-system", "aws-node", {"k8s-app": "aws-node"}, [container("aws-node", "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.0")], 2)
    kp = ds("kube-system", "kube-proxy", {"k8s-app": "kube-proxy", "eks.amazonaws.com/component": "kube-proxy"},
            [container("kube-proxy", "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.31.2-eksbuild.3",
                       command=["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config", "--hostname-override=$(NODE_NAME)"])], 2)
    pods = ds_pods(aws, nodes_) + ds_pods(kp, nodes_)
    dns_pods, dns_svc, dns_slice, corefile = coredns(nodes_, "10.100.0.10", ["192.168.3.117", "192.168.50.8"])
    web = [app_pod("shop", "storefront-7c9d8b6f5-%s" % s_, n, ip, {"app": "storefront"}, [("http", 8080, "TCP")])
           for (n, _), ip, s_ in zip(nodes_, ["192.168.20.11", "192.168.60.12"], ["a1b2c", "d3e4f"])]
    k_svc, k_slice = kubernetes_svc("10.100.0.1", "192.168.5.5")
    lb = service("shop", "storefront", "10.100.123.45", [("http", 80, "http", "TCP", 30912)], {"app": "storefront"}, kind="LoadBalancer",
                 lb_ingress=[{"hostname": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6-1234567890.eu-west-1.elb.amazonaws.com"}])
    slices = [k_slice, dns_slice, eslice("shop", "storefront", "q5w6e", [ready_ep(p) for p in web], [("http", 8080, "TCP")])]
    cms = [cm("kube-system", "kube-proxy-config", {"config": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"iptables\"\nclusterCIDR: \"\"\n"}), corefile]
    c = cluster(v, nodes, pods + dns_pods + web, [k_svc, dns_svc, lb], [aws, kp], cms)
    write("services-cloud-lb", with_endpoints(c, slices))


@scenario
def services_dualstack():
    v = "v1.33.1"
    nodes_ = [("kind-control-plane", "172.18.0.2"), ("kind-worker", "172.18.0.3")]
    nodes = []
    for i, (n, ip) in enumerate(nodes_):
        nd = node(n, ip, v, {"node-role.kubernetes.io/control-plane": ""} if i == 0 else None,
                  podcidrs=["10.244.%d.0/24" % i, "fd00:10:244:%d::/64" % (i + 1)], provider="kind://docker/kind/" + n,
                  taints=[("node-role.kubernetes.io/control-plane", "NoSchedule")] if i == 0 else None)
        nd["status"]["addresses"].insert(1, {"type": "InternalIP", "address": "fc00:f853:ccd:e793::%d" % (i + 2)})
        nodes.append(nd)
    pods = control_plane("kind-control-plane", "172.18.0.2", v, "10.96.0.0/16,fd00:10:96::/112", "10.244.0.0/16,fd00:10:244::/56")
    kn = ds("kube-system", "kindnet", {"app": "kindnet"}, [container("kindnet-cni", "docker.io/kindest/kindnetd:v20250214-acbabc1a",
            env=[("POD_SUBNET", "10.244.0.0/16"), ("POD_SUBNETV6", "fd00:10:244::/56")])], 2)
    pods += ds_pods(kn, nodes_)
    web = []
    for (n, _), v4, v6, sfx in [(nodes_[1], "10.244.1.5", "fd00:10:244:2::5", "p1q2r")]:
        p = app_pod("default", "web-6b7c8d9f5-" + sfx, n, v4, {"app": "web"}, [("http", 8080, "TCP")])
        p["status"]["podIPs"] = [{"ip": v4}, {"ip": v6}]
        web.append(p)
    k_svc, k_slice = kubernetes_svc("10.96.0.1", "172.18.0.2")
    svc = service("default", "web", ["10.96.201.4", "fd00:10:96::c9"], [("http", 80, "http", "TCP", None)], {"app": "web"},
                  ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="PreferDualStack")
    slices = [k_slice,
              eslice("default", "web", "v4abc", [("10.244.1.5", web[0]["metadata"]["name"], "kind-worker", True, True, False)], [("http", 8080, "TCP")]),
              eslice("default", "web", "v6def", [("fd00:10:244:2::5", web[0]["metadata"]["name"], "kind-worker", True, True, False)], [("http", 8080, "TCP")], family="IPv6")]
    cms = [kubeadm_config("10.244.0.0/16,fd00:10:244::/56", "10.96.0.0/16,fd00:10:96::/112", v), kubeadm_proxy_cm("iptables", "10.244.0.0/16,fd00:10:244::/56")]
    c = cluster(v, nodes, pods + web, [k_svc, svc], [kn], cms)
    write("services-dualstack", with_endpoints(c, slices))


@scenario
def dns_mismatch():
    v = "v1.30.6"
    nodes_ = [("cp1", "10.80.0.10"), ("worker1", "10.80.0.11")]
    # The service range moved to 10.100.0.0/16 and kube-dns with it, but the kubelets still say
    # 10.96.0.10, and their clusterDomain is corp.local while CoreDNS serves cluster.local.
    nodes, pods, cms = kubeadm_base(v, nodes_, service="10.100.0.0/16")
    fl, flp = flannel_ds(nodes_)
    kp, kpp = kube_proxy_ds(nodes_, v)
    dns_pods, dns_svc, dns_slice, corefile = coredns(nodes_[1:], "10.100.0.10", ["10.244.1.2"])
    k_svc, k_slice = kubernetes_svc("10.100.0.1", "10.80.0.10")
    pods += flp + kpp + dns_pods
    cms += [kubeadm_proxy_cm("iptables", "10.244.0.0/16"), FLANNEL_CM, kubelet_config("10.96.0.10", "corp.local"), corefile]
    logs = [proxy_log("kube-system", p["metadata"]["name"]) for p in kpp]
    c = cluster(v, nodes, pods, [k_svc, dns_svc], [fl, kp], cms, logs=logs)
    write("dns-mismatch", with_endpoints(c, [k_slice, dns_slice]))


@scenario
def services_many():
    v = "v1.31.6"
    nodes_ = [("cp1", "10.90.0.10"), ("worker1", "10.90.0.11"), ("worker2", "10.90.0.12")]
    # /23 per node: 300 pods on each worker.
    nodes, pods, cms = kubeadm_base(v, nodes_, node_extra={n: {"podcidrs": ["10.244.%d.0/23" % (2 * i)]}
                                                            for i, (n, _) in enumerate(nodes_)})
    fl, flp = flannel_ds(nodes_)
    pods += flp
    services, slices = [], []
    k_svc, k_slice = kubernetes_svc("10.96.0.1", "10.90.0.10")
    services.append(k_svc)
    slices.append(k_slice)
    # 300 microservices in one namespace, two pods each, and one whose pods all crash.
    for i in range(300):
        app = "svc-%03d" % i
        ps = []
        for j, (n, _) in enumerate(nodes_[1:]):
            ip = "10.244.%d.%d" % (2 * (j + 1) + (10 + i) // 256, (10 + i) % 256)

            ps.append(app_pod("mesh", "%s-6d8f9c7b5-%d%03d" % (app, j, i), n, ip, {"app": app, "pod-template-hash": "6d8f9c7b5"},
                              [("http", 8080, "TCP")], ready=(i != 137), waiting=None if i != 137 else "CrashLoopBackOff", restarts=0 if i != 137 else 4))
        pods += ps
        services.append(service("mesh", app, "10.96.%d.%d" % (20 + i // 250, i % 250 + 1), [("http", 80, "http", "TCP", None)], {"app": app}))
        slices.append(eslice("mesh", app, "s%03d" % i, [(p["status"]["podIP"], p["metadata"]["name"], p["spec"]["nodeName"], i != 137, i != 137, False) for p in ps],
                             [("http", 8080, "TCP")]))
    cms.append(FLANNEL_CM)
    c = cluster(v, nodes, pods, services, [fl], cms)
    write("services-many", with_endpoints(c, slices))


@scenario
def services_core_endpoints():
    """A 1.20 cluster: no discovery.k8s.io/v1, so core Endpoints are read."""
    v = "v1.20.15"
    nodes_ = [("master", "10.95.0.10"), ("node1", "10.95.0.11")]
    nodes, pods, cms = kubeadm_base(v, nodes_)
    fl, flp = flannel_ds(nodes_)
    pods += flp
    web = [app_pod("default", "web-5b6c7d8e9-%s" % s_, "node1", ip, {"app": "web"}, [("http", 80, "TCP")], ready=r)
           for s_, ip, r in [("a1a1a", "10.244.1.4", True), ("b2b2b", "10.244.1.5", False)]]
    services = [service("default", "kubernetes", "10.96.0.1", [("https", 443, 6443, "TCP", None)]),
                service("default", "web", "10.111.2.3", [("http", 80, "http", "TCP", None)], {"app": "web"})]
    c = cluster(v, nodes, pods + web, services, [fl], cms + [FLANNEL_CM])
    c["endpoints"] = [
        {"metadata": meta("kubernetes", "default"), "subsets": [{"addresses": [{"ip": "10.95.0.10"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]},
        {"metadata": meta("web", "default"), "subsets": [{
            "addresses": [{"ip": "10.244.1.4", "nodeName": "node1", "targetRef": {"kind": "Pod", "namespace": "default", "name": web[0]["metadata"]["name"]}}],
            "notReadyAddresses": [{"ip": "10.244.1.5", "nodeName": "node1", "targetRef": {"kind": "Pod", "namespace": "default", "name": web[1]["metadata"]["name"]}}],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]},
    ]
    c["endpointsApi"] = "v1"
    write("services-core-endpoints", c)


# ----------------------------------------------------------------------- from outside in (#19)

GW = "gateway.networking.k8s.io/"


def cond(kind, status, reason, message):
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": T0, "observedGeneration": 1}


def ingress(ns, name, rules, cls=None, tls=None, address=None, annotations=None):
    """rules: [(host, [(path, pathType, service, port)])]; port an int (number) or a str (name)."""
    def backend(svc, port):
        return {"service": {"name": svc, "port": {"number": port} if isinstance(port, int) else {"name": port}}}
    spec = {"rules": [{**({"host": h} if h else {}), "http": {"paths": [
        {"path": p, "pathType": t, "backend": backend(svc, port)} for p, t, svc, port in paths]}} for h, paths in rules]}
    if cls:
        spec["ingressClassName"] = cls
    if tls:
        spec["tls"] = [{"hosts": hosts, "secretName": secret} for hosts, secret in tls]
    o = obj("networking.k8s.io/v1", "Ingress", name, ns, spec,
            {"loadBalancer": {"ingress": [{"ip": address}]} if address else {}})
    if annotations:
        o["metadata"]["annotations"] = annotations
    return o


def ingress_class(name, controller, default=False):
    o = obj("networking.k8s.io/v1", "IngressClass", name, spec={"controller": controller})
    if default:
        o["metadata"]["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    return o


def http_route(version, ns, name, parents, hostnames, rules, status_parents=None, kind="HTTPRoute"):
    """parents: [(namespace or None, name, sectionName or None)]; rules: [(path or None, [(ns or None, svc, port)])];
    status_parents: [(parent index, controllerName, [conditions])]."""
    def ref(pns, pname, section):
        r = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": pname}
        if pns:
            r["namespace"] = pns
        if section:
            r["sectionName"] = section
        return r
    refs = [ref(*x) for x in parents]
    spec_rules = []
    for path, backends in rules:
        r = {"backendRefs": [{"group": "", "kind": "Service", "name": b, "port": port, "weight": 1,
                              **({"namespace": bns} if bns else {})} for bns, b, port in backends]}
        if path:
            r["matches"] = [{"path": {"type": "PathPrefix", "value": path}}]
        spec_rules.append(r)
    spec = {"parentRefs": refs, "rules": spec_rules}
    if hostnames:
        spec["hostnames"] = hostnames
    status = {"parents": [{"parentRef": refs[i], "controllerName": ctl, "conditions": cs}
                          for i, ctl, cs in (status_parents or [])]}
    return obj(GW + version, kind, name, ns, spec, status)


def gateway(version, ns, name, cls, listeners, addresses, conditions, attached):
    """listeners: [(name, protocol, port)]; attached: {listener: n} as the controller counts them."""
    spec = {"gatewayClassName": cls, "listeners": [
        {"name": n, "protocol": p, "port": port, "allowedRoutes": {"namespaces": {"from": "Same"}}} for n, p, port in listeners]}
    status = {"conditions": conditions,
              "listeners": [{"name": n, "attachedRoutes": k, "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                             "conditions": [cond("Programmed", "True", "Programmed", "Sending translated listener configuration to the data plane")]}
                            for n, k in attached.items()]}
    if addresses:
        status["addresses"] = [{"type": "IPAddress", "value": a} for a in addresses]
    return obj(GW + version, "Gateway", name, ns, spec, status)


def gateway_class(version, name, controller, conditions):
    return obj(GW + version, "GatewayClass", name, spec={"controllerName": controller}, status={"conditions": conditions})


def route_apis(objects):
    """What a live read would find served: the kinds of the objects held."""
    plural = {"Ingress": "ingresses.networking.k8s.io", "IngressClass": "ingressclasses.networking.k8s.io"}
    out = []
    for o in objects:
        r = plural.get(o["kind"], o["kind"].lower() + ("es" if o["kind"].endswith("s") else "s") + ".gateway.networking.k8s.io")
        if r not in out:
            out.append(r)
    return sorted(out)


def routes_base(v, nodes_, net):
    """kubeadm + flannel + kube-proxy + CoreDNS, the kubernetes Service: what every route scenario stands on."""
    nodes, pods, cms = kubeadm_base(v, nodes_)
    fl, flp = flannel_ds(nodes_)
    kp, kpp = kube_proxy_ds(nodes_, v)
    dns_pods, dns_svc, dns_slice, corefile = coredns(nodes_[1:], "10.96.0.10", ["10.244.1.2", "10.244.2.2"])
    k_svc, k_slice = kubernetes_svc("10.96.0.1", net + ".10")
    pods += flp + kpp + dns_pods
    cms += [kubeadm_proxy_cm("iptables", "10.244.0.0/16"), FLANNEL_CM, kubelet_config("10.96.0.10"), corefile]
    return nodes, pods, cms, [fl, kp], [k_svc, dns_svc], [k_slice, dns_slice]


@scenario
def routes_side_by_side():
    v = "v1.31.6"
    nodes_ = [("cp1", "192.168.60.10"), ("worker1", "192.168.60.11"), ("worker2", "192.168.60.12")]
    nodes, pods, cms, dss, svcs, slices = routes_base(v, nodes_, "192.168.60")
    nginx = [app_pod("ingress-nginx", "ingress-nginx-controller-7d9f8b6c5-" + sfx, n, ip,
                     {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller",
                      "app.kubernetes.io/instance": "ingress-nginx"}, [("http", 80, "TCP"), ("https", 443, "TCP")])
             for sfx, n, ip in [("v8b7n", "worker1", "10.244.1.9"), ("q2w3e", "worker2", "10.244.2.9")]]
    eg = [app_pod("envoy-gateway-system", "envoy-gateway-6d8f7c9b4-x2k4j", "worker1", "10.244.1.20",
                  {"control-plane": "envoy-gateway", "app.kubernetes.io/name": "gateway-helm", "app.kubernetes.io/instance": "eg"},
                  [("grpc", 18000, "TCP"), ("ratelimit", 18001, "TCP"), ("wasm", 18002, "TCP"), ("metrics", 19001, "TCP")]),
          app_pod("envoy-gateway-system", "envoy-shop-eg-3b7c9e1f-7f9c8b6d5-abcde", "worker2", "10.244.2.21",
                  {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway",
                   "gateway.envoyproxy.io/owning-gateway-name": "eg", "gateway.envoyproxy.io/owning-gateway-namespace": "shop"},
                  [("http-10080", 10080, "TCP"), ("https-10443", 10443, "TCP")])]
    web = [app_pod("shop", "web-5d4c8b7f9-" + sfx, n, ip, {"app": "web"}, [("http", 8080, "TCP")])
           for sfx, n, ip in [("k2l3m", "worker1", "10.244.1.30"), ("n4p5q", "worker2", "10.244.2.30")]]
    api = [app_pod("shop", "api-7b6a5c4d3-r6s7t", "worker2", "10.244.2.31", {"app": "api"}, [("http", 8080, "TCP")])]
    billing = [app_pod("payments", "billing-6c5b4a3d2-u8v9w", "worker1", "10.244.1.40", {"app": "billing"}, [("http", 8080, "TCP")])]
    ledger = [app_pod("payments", "ledger-grpc-5a4b3c2d1-x1y2z", "worker2", "10.244.2.41", {"app": "ledger-grpc"}, [("grpc", 9000, "TCP")])]
    landing = [app_pod("marketing", "landing-4d3c2b1a0-b3c4d", "worker1", "10.244.1.50", {"app": "landing"}, [("http", 8080, "TCP")])]
    pods += nginx + eg + web + api + billing + ledger + landing
    svcs += [
        service("ingress-nginx", "ingress-nginx-controller", "10.104.88.10",
                [("http", 80, "http", "TCP", 31080), ("https", 443, "https", "TCP", 31443)],
                {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}, kind="LoadBalancer",
                lb_ingress=[{"ip": "192.168.60.240", "ipMode": "VIP"}]),
        service("shop", "web", "10.104.10.1", [("http", 80, "http", "TCP", None)], {"app": "web"}),
        service("shop", "api", "10.104.10.2", [("http", 8080, 8080, "TCP", None)], {"app": "api"}),
        service("payments", "billing", "10.104.20.1", [("http", 80, 8080, "TCP", None)], {"app": "billing"}),
        service("payments", "ledger-grpc", "10.104.20.2", [("grpc", 9000, 9000, "TCP", None)], {"app": "ledger-grpc"}),
        service("marketing", "landing", "10.104.30.1", [("http", 80, 8080, "TCP", None)], {"app": "landing"}),
    ]
    slices += [eslice("ingress-nginx", "ingress-nginx-controller", "h7k2m", [ready_ep(p) for p in nginx], [("http", 80, "TCP"), ("https", 443, "TCP")]),
               eslice("shop", "web", "a1b2c", [ready_ep(p) for p in web], [("http", 8080, "TCP")]),
               eslice("shop", "api", "d3e4f", [ready_ep(p) for p in api], [("http", 8080, "TCP")]),
               eslice("payments", "billing", "g5h6i", [ready_ep(p) for p in billing], [("http", 8080, "TCP")]),
               eslice("payments", "ledger-grpc", "j7k8l", [ready_ep(p) for p in ledger], [("grpc", 9000, "TCP")]),
               eslice("marketing", "landing", "m9n0p", [ready_ep(p) for p in landing], [("http", 8080, "TCP")])]
    lb = "192.168.60.240"
    eg_ctl = "gateway.envoyproxy.io/gatewayclass-controller"
    ok = [cond("Accepted", "True", "Accepted", "Route is accepted"), cond("ResolvedRefs", "True", "ResolvedRefs", "Resolved all the Object references for the Route")]
    objects = [
        ingress_class("nginx", "k8s.io/ingress-nginx", default=True),
        ingress("shop", "storefront", [("shop.example.com", [("/api", "Prefix", "api", 8080), ("/", "Prefix", "web", "http")])],
                cls="nginx", tls=[(["shop.example.com"], "shop-tls")], address=lb),
        # No class: the default (nginx) takes it; 8080 is web's targetPort, not its port.
        ingress("shop", "legacy", [("legacy.example.com", [("/", "Prefix", "web", 8080)])], address=lb),
        ingress("shop", "promo", [("promo.example.com", [("/", "Prefix", "promo", 80)])], cls="nginx", address=lb),
        ingress("shop", "internal", [("internal.example.com", [("/", "Prefix", "web", "http")])], cls="nginx-internal"),
        gateway_class("v1", "eg", eg_ctl, [cond("Accepted", "True", "Accepted", "Valid GatewayClass")]),
        gateway_class("v1", "istio", "istio.io/gateway-controller", [cond("Accepted", "True", "Accepted", "Handled by Istio controller")]),
        gateway("v1", "shop", "eg", "eg", [("http", "HTTP", 80), ("https", "HTTPS", 443), ("admin", "HTTP", 8080)], ["192.168.60.241"],
                [cond("Accepted", "True", "Accepted", "The Gateway has been scheduled by Envoy Gateway"),
                 cond("Programmed", "True", "Programmed", "Address assigned to the Gateway, 1/1 envoy replicas available")],
                {"http": 2, "https": 1, "admin": 0}),
        gateway("v1", "istio-ingress", "mesh-gw", "istio", [("http", "HTTP", 80)], [],
                [cond("Accepted", "True", "Accepted", "Resource accepted"),
                 cond("Programmed", "False", "AddressNotUsable", 'Failed to assign to any requested addresses: hostname "mesh-gw-istio.istio-ingress.svc.cluster.local" not found')],
                {"http": 0}),
        http_route("v1", "shop", "storefront", [(None, "eg", "http")], ["shop.example.com"],
                   [("/api", [(None, "api", 8080)]), ("/", [(None, "web", 80)])], [(0, eg_ctl, ok)]),
        http_route("v1", "shop", "billing", [(None, "eg", "http")], ["billing.example.com"], [("/", [("payments", "billing", 80)])],
                   [(0, eg_ctl, [cond("Accepted", "True", "Accepted", "Route is accepted"),
                                 cond("ResolvedRefs", "False", "RefNotPermitted", "Backend ref to Service payments/billing not permitted by any ReferenceGrant.")])]),
        http_route("v1", "shop", "checkout", [(None, "shop-gw", None)], ["checkout.example.com"], [("/", [(None, "web", 80)])]),
        http_route("v1", "marketing", "campaign", [("shop", "eg", "http")], ["shop.example.com"], [("/spring", [(None, "landing", 80)])],
                   [(0, eg_ctl, [cond("Accepted", "False", "NotAllowedByListeners", "No listeners included by this parent ref allowed this attachment."),
                                 cond("ResolvedRefs", "True", "ResolvedRefs", "Resolved all the Object references for the Route")])]),
        http_route("v1", "shop", "inventory", [(None, "eg", "https")], ["grpc.example.com"], [(None, [("payments", "ledger-grpc", 9000)])],
                   [(0, eg_ctl, ok)], kind="GRPCRoute"),
        obj(GW + "v1beta1", "ReferenceGrant", "allow-shop-grpc", "payments",
            {"from": [{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute", "namespace": "shop"}],
             "to": [{"group": "", "kind": "Service"}]}),
    ]
    c = cluster(v, nodes, pods, svcs, dss, cms, objects=objects)
    c["routeApis"] = route_apis(objects)
    write("routes-side-by-side", with_endpoints(c, slices))


@scenario
def routes_traefik_v1beta1():
    v = "v1.27.16"
    nodes_ = [("cp1", "192.168.70.10"), ("worker1", "192.168.70.11"), ("worker2", "192.168.70.12")]
    nodes, pods, cms, dss, svcs, slices = routes_base(v, nodes_, "192.168.70")
    traefik = [app_pod("traefik", "traefik-6f7d9c8b5-m3n4p", "worker1", "10.244.1.9",
                       {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-traefik"},
                       [("web", 8000, "TCP"), ("websecure", 8443, "TCP"), ("traefik", 9000, "TCP")])]
    who = [app_pod("default", "whoami-5c7f6d9b8-a1b2c", "worker2", "10.244.2.30", {"app": "whoami"}, [("http", 80, "TCP")])]
    pods += traefik + who
    svcs += [service("traefik", "traefik", "10.105.1.1", [("web", 80, "web", "TCP", 30080), ("websecure", 443, "websecure", "TCP", 30443)],
                     {"app.kubernetes.io/name": "traefik"}, kind="LoadBalancer", lb_ingress=[{"ip": "192.168.70.240", "ipMode": "VIP"}]),
             service("default", "whoami", "10.105.2.1", [("http", 80, "http", "TCP", None)], {"app": "whoami"})]
    slices += [eslice("traefik", "traefik", "p9q8r", [ready_ep(p) for p in traefik], [("web", 8000, "TCP"), ("websecure", 8443, "TCP")]),
               eslice("default", "whoami", "s7t6u", [ready_ep(p) for p in who], [("http", 80, "TCP")])]
    ctl = "traefik.io/gateway-controller"
    objects = [
        ingress("default", "whoami", [("whoami.example.com", [("/", "Prefix", "whoami", "http")])], cls="traefik", address="192.168.70.240"),
        gateway_class("v1beta1", "traefik", ctl, [cond("Accepted", "True", "Handled", "Handled by Traefik controller")]),
        gateway("v1beta1", "default", "traefik-gateway", "traefik", [("web", "HTTP", 8000)], ["192.168.70.240"],
                [cond("Accepted", "True", "Accepted", "Gateway successfully scheduled"),
                 cond("Programmed", "True", "Programmed", "Gateway successfully programmed")],
                {"web": 2}),
        http_route("v1beta1", "default", "whoami", [(None, "traefik-gateway", None)], ["gw.example.com"], [("/", [(None, "whoami", 80)])],
                   [(0, ctl, [cond("Accepted", "True", "Accepted", "Route successfully accepted"), cond("ResolvedRefs", "True", "ResolvedRefs", "Route references resolved")])]),
        http_route("v1beta1", "default", "whoami-typo", [(None, "traefik-gateway", None)], ["typo.example.com"], [("/", [(None, "whoammi", 80)])],
                   [(0, ctl, [cond("Accepted", "True", "Accepted", "Route successfully accepted"),
                              cond("ResolvedRefs", "False", "BackendNotFound", "service default/whoammi not found")])]),
    ]
    # The identity may not list IngressClasses: the snapshot has none, and says why.
    errors = [{"what": "ingressclasses.networking.k8s.io",
               "reason": '403 Forbidden: ingressclasses.networking.k8s.io is forbidden: User "system:serviceaccount:netcheck:netcheck" cannot list resource "ingressclasses" in API group "networking.k8s.io" at the cluster scope',
               "needs": "list ingressclasses.networking.k8s.io"}]
    c = cluster(v, nodes, pods, svcs, dss, cms, objects=objects, errors=errors)
    c["routeApis"] = route_apis(objects)
    write("routes-traefik-v1beta1", with_endpoints(c, slices))


if __name__ == "__main__":
    names = sys.argv[1:] or list(SCENARIOS)
    for n in names:
        SCENARIOS[n]()
        print("wrote", n)
