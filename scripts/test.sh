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
  tcpdump:tcpdump hyperfine:hyperfine jq:jq /usr/bin/time:time setpriv:util-linux unshare:util-linux
  nft:nftables ss:iproute2 tayga:tayga /usr/lib/cni/bridge:containernetworking-plugins
  chromium:chromium
)
missing=()
for pair in "${needed[@]}"; do
  cmd=${pair%%:*} pkg=${pair##*:}
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# The picture tests render labels with the system's fonts (kube6-picture's pixels test).
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]] || missing+=(fonts-dejavu-core)
if ((${#missing[@]})); then
  # The tests run their own copies of radvd, dnsmasq, unbound, bird, ndppd and tayga, each in its own
  # network namespace with its own configuration and pid file; the host's own services (a
  # workstation's DNS resolver, libvirt's dnsmasq) are never stopped, and packages installed
  # here do not start theirs: a policy-rc.d that refuses every start (exit 101, see
  # invoke-rc.d(8); deb-systemd-invoke honours it too) is in place for the install only, and
  # whatever policy-rc.d was there before is put back.
  echo "installing: ${missing[*]} (their services are not started)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  policy=/usr/sbin/policy-rc.d
  saved=
  if [ -e "$policy" ]; then
    saved=$(mktemp)
    cp -p "$policy" "$saved"
  fi
  restore_policy() {
    if [ -n "$saved" ]; then
      cp -p "$saved" "$policy" && rm -f "$saved"
    else
      rm -f "$policy"
    fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n# Written by kube6 scripts/test.sh while it installs packages: start no service.\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  restore_policy
  trap - EXIT
fi
export PATH="$PATH:/usr/sbin:/sbin"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# Licences and banned crates (deny.toml), offline: the build above fetched every crate.
# cargo-deny is installed once per machine, pinned to a release that builds with the toolchain
# here (0.20.2 needs rustc 1.88). Its release profile asks for fat LTO with one codegen unit,
# which triples the build on two cores; the check runs in about a second either way, so the
# build keeps the default optimisation without LTO (see docs/benchmarks.md for the timings).
if ! cargo deny --version >/dev/null 2>&1; then
  echo "installing cargo-deny 0.20.2"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --locked cargo-deny --version 0.20.2
fi
cargo deny --offline check licenses bans

if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
cargo test --workspace --locked --doc

# The plan's HTML page, once in headless Chromium (docs/plan.md).
scripts/html-check.sh "${CARGO_TARGET_DIR:-target}/debug/kube6"

# Every importer (and the NDP packet parser) under coverage-guided fuzzing, for a bounded time.
scripts/fuzz.sh
