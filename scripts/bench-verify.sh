#!/usr/bin/env bash
# Benchmark of `kube6 verify --dump` (issue 6): a generated dump of a large dual-stack cluster
# checked against its plan, timed with hyperfine and measured with /usr/bin/time -v, and in the
# same run `jq` doing a comparable job on the same file (every pod IP and node podCIDR).
#
#   scripts/bench-verify.sh [NODES PODS SERVICES]     (default: 5000 150000 10000)
#
# Environment: RUNS (hyperfine runs per command, default 5), BENCH_DIR (where the dump goes,
# default a temporary directory, removed at the end), CARGO_TARGET_DIR as for cargo.
# Fails when kube6 takes 2 s or more on average, or more than 1 GiB of RSS.
set -euo pipefail

nodes=${1:-5000}
pods=${2:-150000}
services=${3:-10000}
runs=${RUNS:-5}

for tool in hyperfine jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-verify: $tool is missing (apt-get install hyperfine jq time)" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
cd "$root"
# Two builds: with --example, cargo would build only the example of each package.
cargo build --release -q -p kube6
cargo build --release -q -p kube6-verify --example gen-dump
kube6=$target/release/kube6
gen=$target/release/examples/gen-dump

if [[ -n ${BENCH_DIR:-} ]]; then
    dir=$BENCH_DIR
    mkdir -p "$dir"
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi
dump=$dir/cluster.json
plan=$dir/k3s-config.yaml
"$gen" --nodes "$nodes" --pods "$pods" --services "$services" --stack dual --plan "$plan" "$dump"
size=$(stat -c %s "$dump")
echo "dump: $nodes nodes, $pods pods, $services services; $((size / 1000000)) MB ($dump)"

# The same job for jq: every pod IP and every node podCIDR, in one pass.
jq_filter='.items[] | if .kind == "Pod" then (.status.podIPs // [])[].ip elif .kind == "Node" then (.spec.podCIDRs // [])[] else empty end'

# Both must read the file completely and agree that it is good.
"$kube6" verify --dump "$dump" --plan "$plan" -o json | jq -e '.status == "pass"' >/dev/null
jq -r "$jq_filter" "$dump" | wc -l | xargs echo "jq lines:"

hyperfine --warmup 1 --runs "$runs" --export-json "$dir/hyperfine.json" --export-markdown "$dir/hyperfine.md" \
    -n "kube6 verify --dump (12 checks)" "$kube6 verify --dump $dump --plan $plan -o json > /dev/null" \
    -n "jq (pod IPs and node podCIDRs)" "jq -r '$jq_filter' $dump > /dev/null"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }
kube6_rss=$(rss "$kube6" verify --dump "$dump" --plan "$plan" -o json)
jq_rss=$(rss jq -r "$jq_filter" "$dump")

kube6_mean=$(jq '.results[0].mean' "$dir/hyperfine.json")
jq_mean=$(jq '.results[1].mean' "$dir/hyperfine.json")
echo
cat "$dir/hyperfine.md"
echo
awk -v k="$kube6_mean" -v j="$jq_mean" -v kr="$kube6_rss" -v jr="$jq_rss" 'BEGIN {
    printf "kube6: %.2f s, %d MB max RSS\n", k, kr / 1024
    printf "jq:    %.2f s, %d MB max RSS\n", j, jr / 1024
    printf "ratio: kube6 is %.1fx faster than jq and uses %.1fx less memory\n", j / k, jr / kr
}'
awk -v k="$kube6_mean" -v kr="$kube6_rss" 'BEGIN {
    if (k >= 2.0) { print "FAIL: kube6 verify took 2 s or more"; exit 1 }
    if (kr > 1048576) { print "FAIL: kube6 verify used more than 1 GiB"; exit 1 }
    print "within budget (< 2 s, < 1 GiB)"
}'
