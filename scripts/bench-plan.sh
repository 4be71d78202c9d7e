#!/usr/bin/env bash
# Times `kube6 plan` as a whole process (release build) with hyperfine, next to the floor of
# starting any process (`true`), and fails if the mean exceeds the 20 ms budget.
# Usage: scripts/bench-plan.sh [runs]   (results as Markdown in target/bench-plan.md)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
budget_ms=${PLAN_BUDGET_MS:-20}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)"; exit 1; }
cargo build --release --locked -q -p kube6
bin=target/release/kube6
mkdir -p target
hyperfine -N --warmup 20 --runs "$runs" \
  --export-json target/bench-plan.json --export-markdown target/bench-plan.md \
  -n 'process floor: true' 'true' \
  -n 'kube6 plan (built-in example)' "$bin plan" \
  -n 'kube6 plan kubeadm (4 documents) -o json' "$bin plan examples/kubeadm-ipv6-calico.yaml -o json" \
  -n 'kube6 plan kube6 dual-stack -o json' "$bin plan examples/kube6-dual-stack-ipv6-first.yaml -o json" \
  >/dev/null 2>&1 || true
cat target/bench-plan.md
# The slowest kube6 run must stay within budget.
python3 - "$budget_ms" <<'PY'
import json, sys
budget = float(sys.argv[1])
results = json.load(open("target/bench-plan.json"))["results"]
floor = results[0]["mean"] * 1000
worst = max(r["mean"] for r in results[1:]) * 1000
print(f"slowest kube6 plan: mean {worst:.2f} ms (process floor {floor:.2f} ms, ratio {worst / floor:.1f}x); budget {budget:.0f} ms")
sys.exit(0 if worst < budget else 1)
PY
