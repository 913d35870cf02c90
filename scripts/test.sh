#!/usr/bin/env bash
# Everything virtscope's tests need, then every test: unit (plain Node), integration (real libvirtd,
# QEMU guest, libvirt-LXC, lxc-tools, Podman — the lab), end to end (real VS Code in headless
# Chromium). Installs what it needs on a fresh Debian machine. Ends with "N passed, N failed".
#   VIRTSCOPE_KEEP_LAB=1   leave the lab up afterwards (faster re-runs)
#   VIRTSCOPE_STAGES="unit integration e2e"   run only some stages
#   VIRTSCOPE_E2E_DIR   where the e2e tools (code-server, its Node 24, playwright-core) live; default
#                       ~/.cache/virtscope-e2e, but under CI=true a new empty folder on every run (removed
#                       afterwards), so CI walks a fresh machine's install path each time
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAGES=${VIRTSCOPE_STAGES:-"unit integration e2e"}
OUT=$(mktemp -d /tmp/virtscope-test-XXXXXX)
NETNS=virtscope-lab
passed=0; failed=0; broken=()
t0=$(date +%s)
say() { echo "== [test $(( $(date +%s) - t0 ))s] $*"; }

need_root() { [ "$(id -u)" = 0 ] || { echo "The tests start libvirtd, LXC and Podman: run them as root." >&2; exit 2; }; }
has_stage() { case " $STAGES " in *" $1 "*) return 0;; esac; return 1; }

# node --test writes TAP to a file too; its "# pass N" / "# fail N" lines are added up here.
count_tap() {
  local f=$1 p fl
  p=$(awk '/^# pass /{print $3}' "$f" | tail -1); fl=$(awk '/^# fail /{print $3}' "$f" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0}))
}
node_stage() { # name, netns|-, files...
  local name=$1 ns=$2; shift 2
  local tap=$OUT/$name.tap pre=()
  [ "$ns" = netns ] && pre=(nsenter "--net=/run/netns/$NETNS")
  say "$name tests"
  "${pre[@]}" node --import tsx --test --test-concurrency=1 --test-timeout=300000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@"
  local rc=$?
  count_tap "$tap"
  [ $rc -eq 0 ] || broken+=("$name")
}

need_root
# shellcheck source=lib/npm-env.sh
source scripts/lib/npm-env.sh
if [ -z "${VIRTSCOPE_E2E_DIR:-}" ] && [ "${CI:-}" = true ]; then
  VIRTSCOPE_E2E_DIR=$(mktemp -d /tmp/virtscope-e2e-tools-XXXXXX)
  fresh_e2e_dir=$VIRTSCOPE_E2E_DIR
fi
export VIRTSCOPE_E2E_DIR=${VIRTSCOPE_E2E_DIR:-$HOME/.cache/virtscope-e2e}
say "installing: Debian packages (scripts/lab.sh deps)"
bash scripts/lab.sh deps || { echo "installing the Debian packages failed: see above; re-run: bash scripts/lab.sh deps" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing: npm ci"
  npm_clean npm ci --no-audit --no-fund || { echo "npm ci failed: see above; re-run: npm ci" >&2; exit 1; }
fi
if has_stage e2e; then
  say "installing: e2e tools (code-server, Node 24, playwright-core, Chromium) into $VIRTSCOPE_E2E_DIR"
  bash scripts/install-e2e.sh || { echo "installing the e2e VS Code failed: see above" >&2; exit 1; }
fi
say "installing done"

say "typecheck"
if ! npx tsc -p . --noEmit; then broken+=(typecheck); failed=$((failed + 1)); else passed=$((passed + 1)); fi

# lint, format and the README's architecture picture: each a check of its own, each counted
check() { # name, command...
  local name=$1; shift
  say "$name"
  if "$@"; then passed=$((passed + 1)); else broken+=("$name"); failed=$((failed + 1)); fi
}
check "lint (eslint)" npx eslint .
check "format (prettier --check)" npx prettier --check .
check "architecture picture (README.md against the imports)" node scripts/arch.mjs --check

if has_stage unit; then node_stage unit - test/unit/*.test.ts; fi

if has_stage integration || has_stage e2e; then
  say "lab up"
  if ! bash scripts/lab.sh up; then
    echo "The lab did not come up: integration and e2e tests cannot run." >&2
    broken+=(lab); failed=$((failed + 1))
  else
    lab_up=1
    # Integration and e2e tests reach the daemons through their unix sockets and VS Code on 127.0.0.1,
    # from the host's namespace: lxc-tools' monitor socket is per network namespace, so lxc-info would
    # see labct as STOPPED from inside the lab's. Anything that sends packets to a guest runs inside
    # the lab's netns (scripts/lab.sh exec-netns).
    if has_stage integration; then node_stage integration - test/integration/*.test.ts; fi
    if has_stage e2e; then
      say "e2e tests (real VS Code in headless Chromium)"
      bash test/e2e/run.sh 2>&1 | tee "$OUT/e2e.log"
      rc=${PIPESTATUS[0]}
      while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' "$OUT/e2e.log")
      [ "$rc" -eq 0 ] || broken+=(e2e)
      # The README's other command: `npm start` from an empty tool folder under CI (see the test's header).
      say "npm start test"
      if [ "${CI:-}" = true ]; then start_dir=$(mktemp -d /tmp/virtscope-start-tools-XXXXXX); else start_dir=$VIRTSCOPE_E2E_DIR; fi
      START_E2E_DIR=$start_dir timeout -k 10 1200 node test/e2e/start.test.js 2>&1 | tee "$OUT/start.log"
      rc=${PIPESTATUS[0]}
      [ "${CI:-}" = true ] && rm -rf "$start_dir"
      if grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$OUT/start.log"; then
        read -r p f < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/start.log" | tail -1 | awk '{print $1, $3}')
      else p=0; f=1; fi
      passed=$((passed + p)); failed=$((failed + f))
      [ "$rc" -eq 0 ] || broken+=(npm-start)
    fi
  fi
fi

# `down --all` must leave nothing behind: no netns, bridge, guests, containers, image, daemons it started.
if [ "${lab_up:-0}" = 1 ] && [ "${VIRTSCOPE_KEEP_LAB:-0}" != 1 ]; then
  say "lab down"
  left=""
  if bash scripts/lab.sh down --all; then
    ip netns list | grep -qw "$NETNS" && left+=" netns"
    ip netns list | grep -qw virtscope-sshhost && left+=" sshhost-netns"
    [ -e /var/lib/virtscope-sshhost ] && left+=" sshhost-state"
    bash scripts/lab/lxd-cluster.sh verify >/dev/null 2>&1 || left+=" lxd"
    ip link show vsbr0 >/dev/null 2>&1 && left+=" bridge"
    lxc-info -n labct >/dev/null 2>&1 && left+=" labct"
    podman ps -a --format '{{.Names}}' 2>/dev/null | grep -qx labpod && left+=" labpod"
    virsh -c qemu:///system dominfo labvm >/dev/null 2>&1 && left+=" labvm"
  else left+=" (down failed)"; fi
  if [ -z "$left" ]; then echo "ok - lab down left nothing behind"; passed=$((passed + 1))
  else echo "not ok - lab down left:$left"; failed=$((failed + 1)); broken+=(lab-down); fi
fi

[ -n "${fresh_e2e_dir:-}" ] && rm -rf "$fresh_e2e_dir"
say "done in $(( $(date +%s) - t0 ))s; logs in $OUT"
[ ${#broken[@]} -eq 0 ] || echo "stages that failed: ${broken[*]}"
echo "${passed} passed, ${failed} failed"
[ ${#broken[@]} -eq 0 ] && [ "$failed" -eq 0 ]
