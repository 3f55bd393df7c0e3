#!/usr/bin/env python3
"""Writes raw seeds, DIR/<target>/ (default /tmp/netcheck-fuzz-seeds), from the repository's real
inputs (scenario snapshots, the CKA lab example, docs) and ../shared/seeds lab notes. They are then
minimised into fuzz/corpus/<target>/ with `cargo fuzz cmin`: see docs/fuzzing.md.
"""
import glob, hashlib, json, os, re, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/netcheck-fuzz-seeds"
MAX = 64 * 1024
seeds = {t: {} for t in ["logs", "flags", "cidr_list", "snapshot", "config_yaml"]}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX:
        return
    seeds[target][hashlib.sha1(data).hexdigest()] = data


snapshots = sorted(glob.glob(os.path.join(ROOT, "tests/scenarios/*/cluster.json")))
snapshots.append(os.path.join(ROOT, "examples/cka-lab.json"))
CIDRISH = re.compile(r"[0-9a-fA-F:.]+(?:/\d{1,3})?")

for path in snapshots:
    raw = open(path, "rb").read()
    add("snapshot", raw)
    c = json.loads(raw)
    add("snapshot", json.dumps(c, separators=(",", ":")))
    # Trimmed variants: one kind of object at a time, so small seeds reach each discovery path.
    for key in ["nodes", "pods", "daemonSets", "configMaps", "logs", "host", "serviceCidrs", "ipPools", "services"]:
        if c.get(key):
            add("snapshot", json.dumps({"apiVersion": c["apiVersion"], "kind": c["kind"], key: c[key]}))

    strings = []

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            strings.append(v)

    walk(c)
    cidrs = sorted({s for s in strings if CIDRISH.fullmatch(s) and any(ch.isdigit() for ch in s)})
    if cidrs:
        add("cidr_list", ",".join(c for c in cidrs if "/" in c))
        add("cidr_list", "\n".join(cidrs))
    for log in c.get("logs", []):
        add("logs", log.get("text", ""))
    for pod in c.get("pods", []):
        for ctr in pod.get("spec", {}).get("containers", []):
            argv = ctr.get("command", []) + ctr.get("args", [])
            if argv:
                add("flags", "\0".join(argv))
        for k, v in pod.get("metadata", {}).get("annotations", {}).items():
            if "node-args" in k:
                add("flags", v)
        add("config_yaml", json.dumps(pod, indent=2))
    for node in c.get("nodes", []):
        for k, v in node.get("metadata", {}).get("annotations", {}).items():
            if "node-args" in k:
                add("flags", v)
    for cm in c.get("configMaps", []):
        for k, v in (cm.get("data") or {}).items():
            add("config_yaml", v)
            if "subnet.env" in k or v.startswith("FLANNEL_"):
                add("logs", v)
    host = c.get("host") or {}
    for m in host.get("manifests", []):
        if m.get("content"):
            add("config_yaml", m["content"])
    for k, v in host.items():
        if isinstance(v, str) and "=" in v:
            add("logs", v)
    ifaddrs = [a for i in host.get("interfaces", []) for a in i.get("addresses", [])]
    if ifaddrs:
        add("cidr_list", "\n".join(ifaddrs))

# Lab notes and docs: whole files (logs), fenced blocks (manifests), flag-bearing lines.
texts = sorted(glob.glob(os.path.join(ROOT, "../shared/seeds/*"))) + sorted(glob.glob(os.path.join(ROOT, "docs/*.md")))
for path in texts:
    t = open(path, encoding="utf-8", errors="replace").read()
    if "/shared/seeds/" in path:
        add("logs", t[:MAX])
    for block in re.findall(r"```[a-z]*\n(.*?)```", t, re.S):
        if re.search(r"^\s*(apiVersion|kind|spec|networking):", block, re.M):
            add("config_yaml", block)
        if re.search(r"Proxier|ipalloc-range|FLANNEL_|klog|^[IWEF]\d{4} ", block, re.M):
            add("logs", block)
        if block.lstrip().startswith("{"):
            add("snapshot", block)
            add("config_yaml", block)
    for line in t.splitlines():
        if re.search(r"(^|\s)--?[a-z][a-z-]+[= ]", line):
            add("flags", line.strip())
            add("flags", "\0".join(line.split()))
        if re.search(r"Proxier|ipalloc-range|Command line options|FLANNEL_", line):
            add("logs", line)
        found = re.findall(r"\b[0-9a-f:.]*\d+[.:][0-9a-f:.]+/\d+\b", line)
        if found:
            add("cidr_list", ",".join(found))

# Hand-written edge cases from the unit tests' territory.
for s in ["10.244.0.0/16, fd00:10:244::/56,10.1.0.0/33", " 10.19.9.9/24 ", "fd00:10:96::1/112",
          "\"10.96.0.0/12\"", "0.0.0.0/0,::/0", "10.0.0.0/-1", "192.168.1.5\n10.19.9.9\nfd00::ff"]:
    add("cidr_list", s)
add("config_yaml", '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}')
add("config_yaml", '{"Network": "10.42.0.0/16", "IPv6Network": "fd00:42::/56", "EnableIPv4": true}')
add("config_yaml", "networking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\nkubernetesVersion: v1.26.0\n")
add("config_yaml", "a: &x [1, 2]\nb: *x\n---\nkind: Pod\nspec:\n  containers:\n  - name: c\n    args: [\"--proxy-mode=ipvs\"]\n")
add("flags", "server\0--kube-proxy-arg=proxy-mode=ipvs\0--kube-proxy-arg\0metrics-bind-address=0.0.0.0")
add("flags", '["server","--cluster-cidr","10.42.0.0/16","--kube-controller-manager-arg","cluster-cidr=10.42.0.0/16"]')
add("flags", "/bin/sh\0-c\0exec kube-proxy --proxy-mode=ipvs --cluster-cidr '10.64.0.0/14' 1>>/var/log/kube-proxy.log 2>&1")
add("logs", "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")

for target, files in seeds.items():
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for h, data in files.items():
        open(os.path.join(d, h), "wb").write(data)
    print(target, len(files), "seeds,", sum(map(len, files.values())), "bytes", file=sys.stderr)
