#!/usr/bin/env python3
"""Shrinks a grown snapshot corpus before committing it (see docs/fuzzing.md, Corpus).

    python3 trim_snapshot_corpus.py IN_DIR POOL_DIR [SEED_DIR]

IN_DIR is the edge-minimised corpus (`-merge=1 -use_counters=0`). Writes to POOL_DIR: every input of IN_DIR under MAX bytes after this transformation — JSON that
parses is re-serialised compactly; UTF-8 text that is not JSON and is over 8 KiB is cut 64 bytes
past its syntax error — plus the seeds of SEED_DIR (default /tmp/netcheck-fuzz-seeds/snapshot),
compacted. Then merge POOL_DIR into an empty corpus at edge level:
    target/x86_64-unknown-linux-gnu/release/snapshot -merge=1 -use_counters=0 -max_len=65536 OUT POOL_DIR
"""
import hashlib, json, os, sys

MAX = 4096
src, pool = sys.argv[1], sys.argv[2]
seeds = sys.argv[3] if len(sys.argv) > 3 else "/tmp/netcheck-fuzz-seeds/snapshot"
os.makedirs(pool, exist_ok=True)


def compact(d):
    try:
        s = d.decode("utf-8")
        n = json.dumps(json.loads(s), separators=(",", ":"), ensure_ascii=False).encode()
        return n if len(n) < len(d) else d
    except json.JSONDecodeError as e:
        if len(d) > 8192 and e.pos + 64 < len(s):
            return s[: e.pos + 64].encode()
    except Exception:
        pass
    return d


def put(d, prefix=""):
    open(os.path.join(pool, prefix + hashlib.sha1(d).hexdigest()), "wb").write(d)


for f in os.listdir(src):
    d = compact(open(os.path.join(src, f), "rb").read())
    if len(d) < MAX:
        put(d)
for f in os.listdir(seeds):
    put(compact(open(os.path.join(seeds, f), "rb").read()), "seed-")
