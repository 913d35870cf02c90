#!/usr/bin/env bash
# The e2e stage (npm run test:e2e; called by scripts/test.sh):
#   1. scripts/install-e2e.sh (idempotent): code-server = a real VS Code, Node 24, Chromium, playwright-core
#   2. npm run package → dist/virtscope.vsix
#   3. (a) extension-host tests: mocha (test/e2e/suite, bundled into out/e2e) inside code-server's real
#          extension host, with the repo as extensionDevelopmentPath (smoke-test driver on)
#      (b) UI tests: the installed VSIX, clicked through in headless Chromium (test/e2e/ui*.test.js)
# Each of (a) and (b) prints a closing `N passed, N failed`. Exit status is non-zero if either fails.
# Needs the lab (`bash scripts/lab.sh up`). Runs in the host's network namespace, like the lab's
# lxc-start (lxc-tools' monitor socket is per netns: from another one labct would look STOPPED).
# Servers listen on free 127.0.0.1 ports; every run gets a fresh HOME/XDG/TMPDIR/user-data-dir under
# a temp dir, removed at exit (KEEP_E2E_RUN=1 keeps it).
# The whole stage is bounded (E2E_BUDGET seconds, default 1500).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export VIRTSCOPE_E2E_DIR=${VIRTSCOPE_E2E_DIR:-$HOME/.cache/virtscope-e2e}
E2E_DIR=$VIRTSCOPE_E2E_DIR
N24=$E2E_DIR/node24/node_modules/node/bin/node
CS=$E2E_DIR/cs/node_modules/code-server/out/node/entry.js
PW=$E2E_DIR/pw/node_modules
BUDGET=${E2E_BUDGET:-1500}
# E2E_ONLY="ext ui-hosts": only these parts (ext: the extension-host suite; ui*: UI test files by name)
ONLY=${E2E_ONLY:-}
wanted() {
  [ -z "$ONLY" ] && return 0
  case " $ONLY " in *" $1 "*) return 0 ;; esac
  return 1
}
T0=$(date +%s)
RUN=$(mktemp -d "${TMPDIR:-/tmp}/virtscope-e2e.XXXXXX")
SERVERS=()

say() { printf '[e2e %3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
# fails the stage before any test ran: counts as one failed test for the overall sum
die() { say "ERROR: $*"; echo "0 passed, 1 failed"; exit 1; }
# seconds left of the stage budget, capped at $1
left() {
  local rest=$((BUDGET - ($(date +%s) - T0)))
  [ "$rest" -gt "$1" ] && rest=$1
  [ "$rest" -lt 1 ] && rest=1
  echo "$rest"
}
# run a command bounded by min($1, what is left of the budget); 124 = timed out
bounded() {
  local max=$1; shift
  timeout -k 5 "$(left "$max")" "$@"
}

stop_server() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  for pid in "${SERVERS[@]}"; do stop_server "$pid"; done
  if [ "${KEEP_E2E_RUN:-0}" = 1 ]; then say "run dir kept: $RUN"; else rm -rf "$RUN"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# prepare_profile NAME → a fresh home, user-data-dir (with settings), extensions dir, workspace
prepare_profile() {
  local d=$RUN/$1
  mkdir -p "$d"/{home,tmp,ud/User,ext,ws}
  cp "$ROOT/scripts/vscode-settings.json" "$d/ud/User/settings.json"
}

# profile_env NAME → PENV=(env …): that profile's HOME/XDG/TMPDIR and no extension gallery
profile_env() {
  local d=$RUN/$1
  PENV=(env HOME="$d/home" XDG_CONFIG_HOME="$d/home/.config" XDG_DATA_HOME="$d/home/.local/share"
    XDG_CACHE_HOME="$d/home/.cache" TMPDIR="$d/tmp" EXTENSIONS_GALLERY='{"serviceUrl":""}')
}

# start_server NAME PORT [extra code-server args…]: code-server in its own process group
start_server() {
  local name=$1 port=$2; shift 2
  local d=$RUN/$name
  profile_env "$name"
  "${PENV[@]}" setsid "$N24" "$CS" --auth none --bind-addr "127.0.0.1:$port" \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    --reconnection-grace-time 5 --user-data-dir "$d/ud" --extensions-dir "$d/ext" "$@" \
    > "$d/server.log" 2>&1 < /dev/null &
  local pid=$!
  SERVERS+=("$pid")
  local end=$(($(date +%s) + $(left 60)))
  until curl -sf --max-time 2 "http://127.0.0.1:$port/healthz" > /dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then tail -20 "$d/server.log"; say "ERROR: code-server ($name) exited during start-up"; return 1; fi
    [ "$(date +%s)" -lt "$end" ] || { tail -20 "$d/server.log"; say "ERROR: code-server ($name) not healthy on 127.0.0.1:$port within 60 s"; return 1; }
    sleep 0.2
  done
  say "code-server ($name) up on 127.0.0.1:$port (pgid $pid)"
}

# counts LOGFILE → "P F" from the last `N passed, N failed` line (or "0 1" when there is none)
counts() {
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -n "$line" ]; then echo "$line" | awk '{print $1, $3}'; else echo "0 1"; fi
}

# ---- 1. tools --------------------------------------------------------------------------------
say "installing/checking e2e tools in $E2E_DIR"
bounded 480 bash "$ROOT/scripts/install-e2e.sh" > "$RUN/install.log" 2>&1
rc=$?
[ $rc -eq 124 ] && { tail -20 "$RUN/install.log"; die "scripts/install-e2e.sh timed out"; }
[ $rc -eq 0 ] || { tail -40 "$RUN/install.log"; die "scripts/install-e2e.sh failed ($rc)"; }
for f in "$N24" "$CS" "$PW/playwright-core"; do [ -e "$f" ] || die "missing $f after install-e2e.sh"; done
command -v chromium > /dev/null || die "chromium is not installed"

# ---- 2. VSIX + test bundle -------------------------------------------------------------------
say "npm run package"
bounded 180 npm run package --silent > "$RUN/package.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { tail -40 "$RUN/package.log"; die "npm run package failed ($rc)"; }
VSIX=$ROOT/dist/virtscope.vsix
[ -f "$VSIX" ] || die "npm run package did not produce $VSIX"
say "VSIX: dist/virtscope.vsix, $(stat -c %s "$VSIX") bytes ($(( ($(stat -c %s "$VSIX") + 1023) / 1024 )) KiB)"
bounded 60 node "$ROOT/test/e2e/build-suite.mjs" || die "bundling test/e2e/suite failed"

FAILED=0
SUMMARY=()
# run_part NAME LABEL MAX_S cmd… — runs one test runner, bounded; its output ends with
# `N passed, N failed` (one is added when it died without saying so); records the counts.
run_part() {
  local name=$1 label=$2 max=$3; shift 3
  local t rc p f
  t=$(date +%s)
  bounded "$max" "$@" 2>&1 | tee "$RUN/$name.out"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && say "ERROR: $label timed out (bound ${max} s)"
  grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$RUN/$name.out" || echo "0 passed, 1 failed" | tee -a "$RUN/$name.out"
  read -r p f < <(counts "$RUN/$name.out")
  [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || FAILED=1
  SUMMARY+=("$label $p/$((p + f))")
  say "$label done in $(($(date +%s) - t)) s: $p passed, $f failed"
}
# part_broken LABEL WHY — a part that could not even start counts as one failed test
part_broken() {
  say "ERROR: $1: $2"
  echo "0 passed, 1 failed"
  FAILED=1
  SUMMARY+=("$1 0/1")
}

# ---- 3a. extension-host tests ----------------------------------------------------------------
say "(a) extension-host tests"
prepare_profile ext
PORT_A=$(free_port)
if ! wanted ext; then
  say "extension-host suite skipped (E2E_ONLY)"
elif start_server ext "$PORT_A" --vscode-option enable-smoke-test-driver; then
  EXT_S=$(left 200)
  CS_BASE="http://127.0.0.1:$PORT_A" DEV_PATH="$ROOT" TESTS_PATH="$ROOT/out/e2e/index.js" RESULT_FILE="$RUN/ext/result.json" \
    WORKSPACE="$RUN/ext/ws" RUN_DIR="$RUN/ext/tmp" EXT_TIMEOUT_MS=$((EXT_S > 30 ? (EXT_S - 15) * 1000 : 15000)) NODE_PATH="$PW" \
    run_part ext "extension host" 210 node "$ROOT/test/e2e/ext-host.js"
  stop_server "${SERVERS[-1]}"
  if [ "$FAILED" -ne 0 ]; then
    say "extension-host server log (errors, virtscope lines):"; grep -iE 'error|virtscope' "$RUN/ext/server.log" | tail -15
  fi
else
  part_broken "extension host" "code-server did not start (log above)"
fi

# ---- 3b. UI tests against the installed VSIX -------------------------------------------------
say "(b) UI tests (installed VSIX)"
prepare_profile ui
profile_env ui
PORT_B=$(free_port)
if ! bounded 120 "${PENV[@]}" "$N24" "$CS" --user-data-dir "$RUN/ui/ud" --extensions-dir "$RUN/ui/ext" \
  --install-extension "$VSIX" > "$RUN/ui/install.log" 2>&1 || ! ls "$RUN/ui/ext" | grep -q '^virtscope\.virtscope-'; then
  cat "$RUN/ui/install.log"
  part_broken UI "installing dist/virtscope.vsix into code-server failed"
elif start_server ui "$PORT_B"; then
  for t in "$ROOT"/test/e2e/ui.test.js "$ROOT"/test/e2e/ui-*.test.js; do # ui.test.js first: it clears screenshots/
    n=$(basename "$t" .test.js)
    wanted "$n" || continue
    CS_URL="http://127.0.0.1:$PORT_B/?folder=$RUN/ui/ws" RUN_DIR="$RUN/ui/tmp" SETTINGS_FILE="$RUN/ui/ud/User/settings.json" NODE_PATH="$PW" \
      run_part "$n" "UI${n#ui}" 240 node "$t"
  done
  stop_server "${SERVERS[-1]}"
  say "screenshots and browser console: test/e2e/screenshots/"
else
  part_broken UI "code-server did not start (log above)"
fi

say "e2e stage finished in $(($(date +%s) - T0)) s: ${SUMMARY[*]} — $([ $FAILED = 0 ] && echo PASS || echo FAIL)"
exit $FAILED
