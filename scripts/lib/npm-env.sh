# Sourced by the install scripts. Run from `npm test` or `npm start`, a script inherits npm's own
# npm_config_* variables: among them npm_config_user_agent ("npm/11 node/v20 …"), from which
# code-server's postinstall reads the Node major and refuses, and npm_config_loglevel=silent under
# `npm --silent`, which would hide every error of a nested install. `npm_clean` runs a command without
# them (but for where packages come from: registry, cache, proxies, CA) and without our
# node_modules/.bin on PATH, so a nested install sees only the Node it is for.
#   npm_clean [VAR=value …] CMD …
npm_clean() {
  local -a unset=() keep=() dirs=()
  local v dir
  while IFS= read -r v; do unset+=(-u "$v"); done < <(compgen -e | grep -E '^(npm_|NPM_CONFIG_|INIT_CWD$|NODE$)' |
    grep -viE '^npm_config_(registry|cache|proxy|https_proxy|noproxy|cafile|ca|strict_ssl|userconfig)$' || true)
  IFS=: read -r -a dirs <<< "$PATH"
  for dir in "${dirs[@]}"; do case "$dir" in *node_modules/.bin|*node-gyp-bin) ;; *) keep+=("$dir") ;; esac; done
  env "${unset[@]}" PATH="$(IFS=:; echo "${keep[*]}")" "$@"
}
