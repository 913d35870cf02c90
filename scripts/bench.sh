#!/usr/bin/env bash
# `npm run bench`: every benchmark, from the state a user's machine may be in. Brings up what they need
# as the test command does (npm packages, the build, the Debian packages, the lab with its daemons),
# runs each benchmark whether or not an earlier one failed, prints a summary that names each one's
# outcome, and takes down what it started (a lab that was already up stays up).
#   VIRTSCOPE_BENCH="activation inventory language sampler trace fidelity lxd-list"   run only some (in this order)
#   (lxd-list needs the LXD lab cluster up: scripts/lab/lxd-cluster.sh up; without it, it says so and is not run)
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/npm-env.sh
source scripts/lib/npm-env.sh
say() { echo "== [bench] $*"; }
[ "$(id -u)" = 0 ] || { echo "The benchmarks start libvirtd, LXC and Podman (the lab): run them as root." >&2; exit 2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm_clean npm ci --no-audit --no-fund || { echo "npm ci failed: see above" >&2; exit 1; }
fi
say "build (dist/server.js for the language-server benchmark)"
npm_clean npm run build || { echo "the build failed: see above" >&2; exit 1; }
bash scripts/lab.sh deps || { echo "installing the Debian packages failed: see above" >&2; exit 1; }

started_lab=0
if bash scripts/lab.sh status 2>/dev/null | tail -1 | grep -qx 'lab: up'; then
  say "the lab is up already: it stays up afterwards"
else
  say "lab up (taken down again at the end)"
  started_lab=1
  bash scripts/lab.sh up || { echo "The lab did not come up: the benchmarks cannot run." >&2; bash scripts/lab.sh down --all; exit 1; }
fi
take_down() { [ "$started_lab" = 1 ] && { say "lab down"; bash scripts/lab.sh down --all; }; started_lab=0; }
trap 'take_down; exit 130' INT TERM

declare -A FILE=([activation]=activation [inventory]=inventory [language]=language [sampler]=sampler [trace]=trace-overhead [fidelity]=fidelity [lxd-list]=lxd-list)
results=()
failed=0
for b in ${VIRTSCOPE_BENCH:-activation inventory language sampler trace fidelity lxd-list}; do
  [ -n "${FILE[$b]:-}" ] || { echo "unknown benchmark '$b' (known: ${!FILE[*]})" >&2; exit 2; }
  say "$b: node --import tsx bench/${FILE[$b]}.ts"
  t=$(date +%s)
  node --import tsx "bench/${FILE[$b]}.ts"
  rc=$?
  if [ $rc -eq 0 ]; then results+=("$b: ok ($(($(date +%s) - t)) s)")
  else results+=("$b: FAILED (exit $rc, $(($(date +%s) - t)) s; its message is above)"); failed=$((failed + 1)); fi
done
take_down
say "summary"
printf '  %s\n' "${results[@]}"
[ "$failed" = 0 ]
