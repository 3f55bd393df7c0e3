#!/usr/bin/env python3
"""Writes raw seeds for the rules_* targets, DIR/<target>/ (default /tmp/netcheck-fuzz-seeds),
from real rule dumps: tests/fixtures/rules/* (and the ruleSets of its snapshot), the iptables
listings in ../shared/seeds/*.txt (whole, and each fenced block), the string constants of the
parsers' unit tests, the fenced examples of docs/rules.md, and, when present, the dumps the
rules tests leave in target/tmp/ (crates/testkit's kube-proxy generators loaded into real
iptables, nft and ipvsadm and read back: iptables-save, nft list ruleset, nft -j, ipvsadm -Ln,
ipvsadm-save). They are then merged into fuzz/corpus/<target>/ as docs/fuzzing.md describes.
"""
import glob, hashlib, json, os, re, struct, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/netcheck-fuzz-seeds"
MAX = 64 * 1024
DUMPS = ["rules_iptables", "rules_nft", "rules_ipvs", "rules_detect", "rules_discover"]
seeds = {t: {} for t in DUMPS + ["rules_words", "rules_shares"]}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX:
        return
    seeds[target][hashlib.sha1(data).hexdigest()] = data


PIECE = 8 * 1024


def nft_json_pieces(text):
    """Smaller valid `nft -j` dumps from a big one: compact, then per kube-proxy table its
    sets and maps, and its chains and rules a window at a time (the fuzzer mutates small
    inputs much faster)."""
    try:
        items = json.loads(text)["nftables"]
    except (ValueError, KeyError, TypeError):
        return []
    out = [{"nftables": items}]
    head = [i for i in items if isinstance(i, dict) and ("metainfo" in i or "table" in i)]
    for kinds in [("set", "map"), ("chain", "rule")]:
        body = [i for i in items if isinstance(i, dict) and next(iter(i), None) in kinds]
        for at in range(0, len(body), 24):
            out.append({"nftables": head + body[at:at + 24]})
    return [json.dumps(o, separators=(",", ":")) for o in out]


def nft_text_pieces(text):
    """Each top-level table of `nft list ruleset` alone, and a big table's blocks (sets, maps,
    chains) a few at a time inside it."""
    out, table, depth = [], [], 0
    for line in text.splitlines(keepends=True):
        table.append(line)
        depth += line.count("{") - line.count("}")
        if depth <= 0 and line.strip() == "}":
            out.append("".join(table))
            table, depth = [], 0
    pieces = list(out)
    for t in out:
        lines = t.splitlines(keepends=True)
        if len(t) <= PIECE or len(lines) < 3:
            continue
        blocks, cur, d = [], [], 0
        for line in lines[1:-1]:
            cur.append(line)
            d += line.count("{") - line.count("}")
            if d <= 0:
                blocks.append("".join(cur))
                cur, d = [], 0
        group = ""
        for b in blocks:
            if group and len(group) + len(b) > PIECE:
                pieces.append(lines[0] + group + lines[-1])
                group = ""
            group += b
        if group:
            pieces.append(lines[0] + group + lines[-1])
    return pieces if len(out) > 1 or len(pieces) > 1 else []


def dump(text):
    for t in DUMPS:
        add(t, text)
    if len(text) > PIECE:
        for piece in nft_json_pieces(text) + nft_text_pieces(text):
            for t in ["rules_nft", "rules_detect", "rules_discover"]:
                add(t, piece)
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("-A ") and '"' in line:
            add("rules_words", line)


def snapshot_rule_sets(path):
    try:
        c = json.load(open(path, encoding="utf-8"))
    except (ValueError, OSError):
        return
    for rs in c.get("ruleSets") or []:
        if isinstance(rs, dict) and isinstance(rs.get("text"), str):
            dump(rs["text"])


for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/rules/*"))):
    if path.endswith(".sh"):
        continue
    if path.endswith("-snapshot.json"):
        snapshot_rule_sets(path)
        continue
    dump(open(path, encoding="utf-8", errors="replace").read())

# The dumps the rules tests leave behind (generated, then read back from the real tools).
tmp = os.path.join(ROOT, "target/tmp")
for pattern in ["rules-*/node01.iptables-save", "on-node-*/restore.txt", "nft-*/node01.nft",
                "nft-*/node01.nft.json", "ipvs-*/node-1.ipvsadm", "ipvs-*/node-1.ipvsadm-save"]:
    for path in sorted(glob.glob(os.path.join(tmp, pattern))):
        dump(open(path, encoding="utf-8", errors="replace").read())
for pattern in ["snap-*/*.json", "ipvs-*/*.json"]:
    for path in sorted(glob.glob(os.path.join(tmp, pattern))):
        snapshot_rule_sets(path)

# Lab notes: the seed's `iptables -t nat -L` listings.
for path in sorted(glob.glob(os.path.join(ROOT, "../shared/seeds/*.txt"))):
    t = open(path, encoding="utf-8", errors="replace").read()
    if "Chain KUBE-" not in t and "KUBE-SVC" not in t:
        continue
    dump(t[:MAX])
    for block in re.findall(r"```[a-z]*\n(.*?)```", t, re.S):
        dump(block)

# docs/rules.md's examples.
t = open(os.path.join(ROOT, "docs/rules.md"), encoding="utf-8").read()
for block in re.findall(r"```[a-z]*\n(.*?)```", t, re.S):
    if re.search(r"KUBE-|kube-proxy|-> |nftables|TCP ", block):
        dump(block)


def unescape(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "0": "\0"}.get(m.group(1), m.group(1)), s)


# The unit tests' dumps: raw strings and "…\n…" literals of the parsers.
for path in sorted(glob.glob(os.path.join(ROOT, "src/parse/rules/*.rs"))):
    src = open(path, encoding="utf-8").read()
    for s in re.findall(r'r#"(.*?)"#', src, re.S):
        if "\n" in s:
            dump(s)
        else:
            add("rules_words", s)
    for s in re.findall(r'(?<![r#\w])"((?:[^"\\]|\\.)*\\n(?:[^"\\]|\\.)*)"', src):
        dump(unescape(s))

# words: hand-made lines, and NUL-separated word lists (the target quotes them itself).
for s in ['-A KUBE-SVC-X -m comment --comment "a \\"b\\" c" -j Y', 'a"b c"d "" é', 'x "\\',
          '-A "open', '"\\\\" \\ "\t"', "-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y"]:
    add("rules_words", s)
add("rules_words", "\0".join(["-A", "KUBE-SVC-X", "--comment", "default/my-service -> 10.244.2.3:80", "", "q\"\\"]))


# shares: 13 bytes per backend (tag, f64 probability bits, u32 weight); see rules_shares.rs.
def backend(tag, p=0.0, w=0, bits=None):
    return bytes([tag]) + (struct.pack("<Q", bits) if bits is not None else struct.pack("<d", p)) + struct.pack("<I", w)


add("rules_shares", b"".join(backend(1, p) for p in [0.33333333349, 0.5]) + backend(0))
add("rules_shares", b"".join(backend(3, bits=k) for k in [2, 1, 0]))
add("rules_shares", b"".join(backend(0x0c, w=w) for w in [1, 1, 3, 0]))
add("rules_shares", backend(1, float("nan")) + backend(1, float("inf")) + backend(1, -0.5) + backend(2, bits=1 << 30))
add("rules_shares", backend(0) * 5)

for target, files in seeds.items():
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for h, data in files.items():
        open(os.path.join(d, h), "wb").write(data)
    print(target, len(files), "seeds,", sum(map(len, files.values())), "bytes", file=sys.stderr)
