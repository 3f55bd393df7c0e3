#!/usr/bin/env bash
# Release archives and the filled krew manifest.
#
#   .ci/release.sh --base-url URL --homepage URL [--out DIR] [--no-build [--from DIR]]
#
# For each krew platform whose Rust target is installed (rustup target list --installed), builds
# the release binaries, packs netcheck, kubectl-netcheck, kubectl_complete-netcheck and LICENSE
# flat into DIR/netcheck-vVERSION-OS-ARCH.tar.gz, and writes
# DIR/SHA256SUMS and DIR/netcheck.yaml: plugins/netcheck.yaml with its @...@ placeholders filled.
# Platforms not built are left out of that manifest (and named on stderr), so that what it lists
# always exists. The archives are to be uploaded under URL/vVERSION/.
#
# Paths are relative to the repository root.
# --no-build packs and hashes what is already in target/release (the host's target) or
# target/TRIPLE/release; --from DIR takes the host's binaries from DIR instead (tests use it).
# Exit codes: 0 done, 2 bad arguments or nothing could be built.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/dist
base_url=
homepage=
build=1
from=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --base-url) base_url=${2%/}; shift 2 ;;
    --homepage) homepage=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --from) from=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "release.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$from" ] && [ "$build" = 1 ]; then
  echo "release.sh: --from needs --no-build" >&2
  exit 2
fi
case "$base_url" in
  https://?*) ;;
  *) echo "release.sh: --base-url must be an https:// URL (got '$base_url')" >&2; exit 2 ;;
esac
case "$homepage" in
  https://?*) ;;
  *) echo "release.sh: --homepage must be an https:// URL (got '$homepage')" >&2; exit 2 ;;
esac

version=v$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
# krew takes semver with a leading v (internal/installation/semver in krew).
if ! [[ $version =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release.sh: Cargo.toml's version '$version' is not semver" >&2
  exit 2
fi

# krew's os/arch and the Rust targets that make them, statically linked (musl) first.
platforms="linux/amd64:x86_64-unknown-linux-musl,x86_64-unknown-linux-gnu
linux/arm64:aarch64-unknown-linux-musl,aarch64-unknown-linux-gnu
darwin/amd64:x86_64-apple-darwin
darwin/arm64:aarch64-apple-darwin"

host=$(rustc -vV | sed -n 's/^host: //p')
installed=$(rustup target list --installed 2>/dev/null || echo "$host")
bins=(netcheck kubectl-netcheck kubectl_complete-netcheck)
mkdir -p "$out"
manifest=$(cat plugins/netcheck.yaml)
manifest=${manifest//@VERSION@/$version}
manifest=${manifest//@BASE_URL@/$base_url}
manifest=${manifest//@HOMEPAGE@/$homepage}
: >"$out/SHA256SUMS"
built=0
while IFS=: read -r platform triples; do
  os=${platform%/*} arch=${platform#*/}
  triple=
  for t in ${triples//,/ }; do
    if grep -qx "$t" <<<"$installed"; then triple=$t; break; fi
  done
  if [ -z "$triple" ]; then
    echo "release.sh: $platform skipped: none of $triples is installed" >&2
    continue
  fi
  # The host's own target builds into target/release, where `cargo build --release` puts it.
  dir=target/$triple/release target=(--target "$triple")
  if [ "$triple" = "$host" ]; then dir=${from:-target/release} target=(); fi
  if [ "$build" = 1 ]; then
    args=()
    for b in "${bins[@]}"; do args+=(--bin "$b"); done
    if ! cargo build --release --locked "${target[@]}" "${args[@]}" >&2; then
      echo "release.sh: $platform skipped: cargo build --target $triple failed" >&2
      continue
    fi
  fi
  missing=
  for b in "${bins[@]}"; do [ -x "$dir/$b" ] || missing="$missing $b"; done
  if [ -n "$missing" ]; then
    echo "release.sh: $platform skipped: not built in $dir:$missing" >&2
    continue
  fi
  stage=$(mktemp -d)
  files=("${bins[@]}")
  cp "${bins[@]/#/$dir/}" "$stage/"
  cp LICENSE "$stage/"
  files+=(LICENSE)
  archive=netcheck-$version-$os-$arch.tar.gz
  # Flat, with fixed owner, order and times: the same binaries give the same archive and hash.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage" -cf - "${files[@]}" \
    | gzip -n >"$out/$archive"
  rm -rf "$stage"
  sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
  echo "$sum  $archive" >>"$out/SHA256SUMS"
  key=SHA256_$(tr a-z A-Z <<<"${os}_$arch")
  manifest=${manifest//@$key@/$sum}
  echo "release.sh: $platform: $out/$archive ($triple) $sum" >&2
  built=$((built + 1))
done <<<"$platforms"

if [ "$built" = 0 ]; then
  echo "release.sh: no platform could be built" >&2
  exit 2
fi
# Drop the platform entries whose hash is still a placeholder: each entry runs from its
# "  - selector:" line to the next one (or the end of the file).
awk '
  NR == 1 { print "# Filled by .ci/release.sh from plugins/netcheck.yaml." }
  !started && /^#/ { next }
  /^apiVersion:/ { started = 1 }
  function flush() { if (block != "" && block !~ /@SHA256_/) printf "%s", block; block = "" }
  /^  - selector:/ { flush(); inblock = 1 }
  inblock { block = block $0 "\n"; next }
  { print }
  END { flush() }
' <<<"$manifest" >"$out/netcheck.yaml"
echo "release.sh: $out/netcheck.yaml lists $built platform(s)" >&2
