#!/usr/bin/env bash
# Opens `kube6 plan -o html` pages in headless Chromium (Debian package `chromium`) and checks what
# a reader gets: the page renders (the map's SVG, the plan's tables, the carving's reasons, the
# renumbering), it loads nothing (no network: every host resolves nowhere, and Chromium reports
# no blocked or failed load), and the screenshot is not blank.
#
# Usage: scripts/html-check.sh [KUBE6_BINARY]   (default: target/debug/kube6, built if missing)
# Exit status 0 when every page passes, 1 when one fails, 2 when Chromium is missing (CI installs
# it through scripts/test.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kube6=${1:-${CARGO_TARGET_DIR:-$root/target}/debug/kube6}
if [[ ! -x $kube6 ]]; then
  cargo build -q --locked -p kube6 --manifest-path "$root/Cargo.toml"
fi
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium ]]; then
  echo "html-check: chromium is not installed (Debian: apt-get install chromium)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

failures=0
fail() {
  echo "html-check: FAIL: $*" >&2
  failures=$((failures + 1))
}

# check NAME EXPECTED... -- KUBE6-ARGS...: plans with the args, opens the page, and looks for each
# expected text in the rendered DOM.
check() {
  local name=$1
  shift
  local expected=()
  while [[ $1 != -- ]]; do
    expected+=("$1")
    shift
  done
  shift
  local page=$work/$name.html
  (cd "$root" && "$kube6" plan "$@" -o html >"$page") || {
    local status=$?
    # An invalid plan still prints the page (exit 1); anything else is a failure.
    [[ $status -eq 1 ]] || { fail "$name: kube6 plan $* exited $status"; return; }
  }
  if grep -Eiq '<script|<link|<iframe|<img[^>]+src=|@import|url\(["'\'']?(https?:|//)' "$page"; then
    fail "$name: the page refers to an external asset or runs a script"
  fi
  local profile=$work/$name.profile
  local flags=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile"
    --host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=0
    --window-size=1200,1600 --virtual-time-budget=2000)
  timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$page" >"$work/$name.dom" 2>"$work/$name.log" ||
    { fail "$name: chromium --dump-dom failed (see below)"; sed 's/^/  /' "$work/$name.log" >&2; return; }
  timeout 120 "$chromium" "${flags[@]}" --screenshot="$work/$name.png" "file://$page" \
    >/dev/null 2>>"$work/$name.log" || { fail "$name: chromium --screenshot failed"; return; }
  if grep -Eq 'Refused to|net::ERR_|Content Security Policy' "$work/$name.log"; then
    fail "$name: the page tried to load something:"
    grep -E 'Refused to|net::ERR_|Content Security Policy' "$work/$name.log" | sed 's/^/  /' >&2
  fi
  grep -q '<svg' "$work/$name.dom" || fail "$name: no map (<svg>) in the rendered page"
  grep -q '<table' "$work/$name.dom" || fail "$name: no table in the rendered page"
  for text in "${expected[@]}"; do
    grep -qF -- "$text" "$work/$name.dom" || fail "$name: the rendered page lacks \"$text\""
  done
  # A blank 1200x1600 screenshot compresses to a few kilobytes; the plan's page does not.
  local size
  size=$(stat -c %s "$work/$name.png" 2>/dev/null || echo 0)
  ((size > 40000)) || fail "$name: the screenshot is nearly blank ($size bytes)"
  echo "html-check: $name ok (page $(stat -c %s "$page") bytes, screenshot $size bytes)"
}

check delegated-prefix 'Address plan of examples/kube6-delegated-prefix.yaml' \
  '2001:db8:1234:5601::/64' 'worker2' 'load-balancer pool' -- \
  examples/kube6-delegated-prefix.yaml
check renumbered 'Renumbering' '2001:db8:1234:7701::/64' -- \
  examples/kube6-delegated-prefix.yaml --prefix 2001:db8:1234:7700::/56
check single-64 '2001:db8:1234:5700::/64' 'ndp-proxy' -- \
  examples/kube6-delegated-prefix.yaml --prefix 2001:db8:1234:5700::/64
check dual-stack '10.244.0.0/16' 'fd00::/108' -- examples/k0s-dual-stack.yaml
# A file name with markup in it is the page's title: escaped, never an element.
hostile="$work/<img src=x onerror=alert(1)>.yaml"
cp "$root/examples/kube6-delegated-prefix.yaml" "$hostile"
check hostile-title '&lt;img src=x onerror=alert(1)&gt;.yaml' -- "$hostile"
if grep -q '<img' "$work/hostile-title.dom"; then
  fail "hostile-title: the file name's markup became an element"
fi

if ((failures > 0)); then
  echo "html-check: $failures failure(s)" >&2
  exit 1
fi
echo "html-check: every page passes"
