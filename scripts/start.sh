#!/usr/bin/env bash
# `npm start`: run virtscope in a real VS Code (code-server) on this machine, from a fresh Debian.
#   1. installs what it needs: npm ci (if node_modules is missing), code-server + Node 24 + Chromium
#      (scripts/install-e2e.sh), the virtualization packages and daemons (scripts/lab.sh deps, daemons)
#   2. builds dist/virtscope.vsix and installs it into a persistent profile ($VIRTSCOPE_E2E_DIR/profile)
#   3. serves VS Code on http://127.0.0.1:$PORT (default 8080, no password: loopback only) with this
#      repository as the workspace, in the foreground; Ctrl-C stops it.
# From another machine, forward the port (ssh -L 8080:127.0.0.1:8080 host, or VS Code Remote-SSH's
# port forwarding) and open http://127.0.0.1:8080/ there.
# Env: PORT, VIRTSCOPE_E2E_DIR (~/.cache/virtscope-e2e), VIRTSCOPE_SKIP_LAB_DAEMONS=1 (skip step 1's daemons)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export VIRTSCOPE_E2E_DIR=${VIRTSCOPE_E2E_DIR:-$HOME/.cache/virtscope-e2e}
E2E_DIR=$VIRTSCOPE_E2E_DIR
PORT=${PORT:-8080}
PROFILE=$E2E_DIR/profile
N24=$E2E_DIR/node24/node_modules/node/bin/node
CS=$E2E_DIR/cs/node_modules/code-server/out/node/entry.js
say() { echo "[start] $*"; }
# shellcheck source=lib/npm-env.sh
source scripts/lib/npm-env.sh

# ---- 1. install ------------------------------------------------------------------------------
if [ ! -d node_modules ]; then
  say "npm ci"
  npm_clean npm ci --no-audit --no-fund
fi
say "code-server (a real VS Code), Node 24, Chromium → $E2E_DIR"
bash scripts/install-e2e.sh

# The lab script owns the Debian virtualization packages and the daemons (libvirtd, virtlogd, netns).
lab_has() { [ -f scripts/lab.sh ] && grep -qE "^[[:space:]]*([a-z|-]+\|)?$1(\|[a-z|-]+)?\)" scripts/lab.sh; }
if [ "${VIRTSCOPE_SKIP_LAB_DAEMONS:-0}" = 1 ]; then
  say "skipping lab deps/daemons (VIRTSCOPE_SKIP_LAB_DAEMONS=1)"
elif [ "$(id -u)" != 0 ]; then
  say "not root: skipping scripts/lab.sh deps/daemons (libvirtd, LXC, Podman must already run)"
else
  if lab_has deps; then say "lab.sh deps"; bash scripts/lab.sh deps; fi
  if lab_has daemons; then say "lab.sh daemons"; bash scripts/lab.sh daemons; fi
  lab_has deps || say "scripts/lab.sh has no 'deps': install libvirt/LXC/Podman yourself"
fi

# ---- 2. build + install the VSIX into the persistent profile ----------------------------------
say "npm run package"
npm run package --silent
VSIX=$ROOT/dist/virtscope.vsix
mkdir -p "$PROFILE/data/User" "$PROFILE/extensions" "$PROFILE/config"
"$N24" "$CS" --user-data-dir "$PROFILE/data" --extensions-dir "$PROFILE/extensions" \
  --install-extension "$VSIX" --force > "$PROFILE/install.log" 2>&1 || { cat "$PROFILE/install.log"; exit 1; }
say "installed $(basename "$VSIX") ($(( ($(stat -c %s "$VSIX") + 1023) / 1024 )) KiB) into $PROFILE/extensions"

# Settings that remove clutter (scripts/vscode-settings.json); keys the user set already stay as they are.
"$N24" -e '
const fs = require("fs");
const [defaults, file] = process.argv.slice(1);
let cur = {};
if (fs.existsSync(file)) {
  try { cur = JSON.parse(fs.readFileSync(file, "utf8")); } catch { process.exit(0); } // JSONC edited by hand: leave it
}
fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(defaults, "utf8")), ...cur }, null, 2) + "\n");
' "$ROOT/scripts/vscode-settings.json" "$PROFILE/data/User/settings.json"

# ---- 3. serve ---------------------------------------------------------------------------------
if curl -sf --max-time 2 "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1; then
  echo "Something already answers on 127.0.0.1:$PORT (another npm start?). Stop it, or use PORT=<port> npm start." >&2
  exit 1
fi
# code-server keeps its own config (config.yaml) in the profile, not in ~/.config
XDG_CONFIG_HOME=$PROFILE/config EXTENSIONS_GALLERY='{"serviceUrl":""}' \
  setsid "$N24" "$CS" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$PROFILE/data" --extensions-dir "$PROFILE/extensions" "$ROOT" < /dev/null &
SRV=$!
stop() {
  trap - INT TERM EXIT
  echo
  say "stopping code-server"
  kill -TERM -- "-$SRV" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 -- "-$SRV" 2>/dev/null || exit 0; sleep 0.1; done
  kill -KILL -- "-$SRV" 2>/dev/null || true
  exit 0
}
trap stop INT TERM EXIT
for i in $(seq 300); do
  curl -sf --max-time 2 "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
  kill -0 "$SRV" 2>/dev/null || { say "code-server exited during start-up"; exit 1; }
  [ "$i" -lt 300 ] || { say "code-server did not answer on 127.0.0.1:$PORT within 60 s"; exit 1; }
  sleep 0.2
done
cat <<EOF

  virtscope is running in VS Code: open  http://127.0.0.1:$PORT/
  (the workspace is $ROOT; click "Virtualization" in the activity bar)

  It listens on 127.0.0.1 only, without a password. From another machine, forward the port:
    ssh -L $PORT:127.0.0.1:$PORT $(id -un)@$(hostname)      then open http://127.0.0.1:$PORT/ there,
  or connect with VS Code Remote-SSH and let it forward port $PORT.
  Ctrl-C stops it. Profile (settings, extensions): $PROFILE

EOF
wait "$SRV"
