#!/usr/bin/env bash
# The whole kube6 test suite, as CI runs it: installs what the tests need (Debian packages for the
# network-namespace tests, cargo tools), checks formatting and lints, then runs every test.
# Run as root on Debian; the namespace tests need root and fail (not skip) under CI=true without it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Programs the tests drive, as "command:package".
needed=(
  ip:iproute2 ping:iputils-ping sysctl:procps modprobe:kmod
  ndppd:ndppd radvd:radvd dnsmasq:dnsmasq unbound:unbound bird:bird2
  tcpdump:tcpdump hyperfine:hyperfine jq:jq
)
missing=()
for pair in "${needed[@]}"; do
  cmd=${pair%%:*} pkg=${pair##*:}
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Packaged daemons must not run on the host itself: the tests start their own copies in namespaces.
for svc in radvd dnsmasq unbound bird ndppd; do
  (systemctl stop "$svc" || service "$svc" stop || pkill -x "$svc") >/dev/null 2>&1 || true
done
export PATH="$PATH:/usr/sbin:/sbin"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
cargo test --workspace --locked --doc

# Every importer (and the NDP packet parser) under coverage-guided fuzzing, for a bounded time.
scripts/fuzz.sh
