#!/usr/bin/env bash
# virtscope lab, LXD: a real 3-member LXD cluster (Debian 12 lxd 5.0.2, containers only) on this machine,
# every daemon in a network namespace of its own (issue #15). Nothing gets an address in the host's netns,
# and no LXD daemon or lxd/lxc client command ever runs there.
#
#   netns vslxd-hub  bridge vslxd0 10.82.0.254/24, no default route: every lxc/lxd client command runs
#                    here (`exec-hub`), so whatever TCP a client makes stays inside our namespaces
#   netns vslxd-N    eth0 10.82.0.N/24 (veth vslxd-vN in the hub's bridge), LXD daemon memberN, HTTPS at
#                    10.82.0.N:8443, LXD_DIR=$BASE/N, unix socket $BASE/N/unix.socket (a file: reachable
#                    from the host netns); managed bridge lxdbr0 10.83.0.1/24 (no NAT, no IPv6) and its
#                    dnsmasq inside the member's netns
#   each daemon runs in a private mount namespace with a sysfs of its own netns and the host's cgroup tree
#   (`ip netns exec` would hide /sys/fs/cgroup: LXD then runs without cgroup limits)
#   storage pool `data` (dir), image `busybox` built offline from busybox-static, default profile: root on
#   `data`, eth0 on lxdbr0
#   client side ($BASE/client): cluster.crt (the cluster certificate: names only this machine's hostname),
#   client.crt/key (trusted, name virtscope-lab-client), untrusted.crt/key (never trusted); lxc client
#   config in $BASE/lxcconf
#
# Subcommands (run as root; up/down idempotent):
#   up | down | status | verify (down left nothing) | env (KEY=VALUE lines for tests)
#   lxc N ARGS...      the lxc client against member N (inside the hub netns)
#   exec-hub CMD...    any command inside the hub netns (tests talking HTTPS to the members)
#   kill-member N      SIGKILL member N's daemon      start-member N   start it again, wait until ready
#   populate COUNT RUNNING [PREFIX=bench]   COUNT busybox containers PREFIX-NNN round-robin over the
#                      members, RUNNING of them started; prints the time
#   unpopulate [PREFIX=bench]               delete them (force)
# Env: VIRTSCOPE_LXD_BASE (/var/lib/virtscope-lxd)
set -euo pipefail
umask 022
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BASE=${VIRTSCOPE_LXD_BASE:-/var/lib/virtscope-lxd}
MEMBERS=(1 2 3)
HUB=vslxd-hub
HUBPATH=/run/netns/$HUB
HUBBR=vslxd0
SUB=10.82.0               # between the members (and the hub), only inside our namespaces
INNER=10.83.0.1/24        # each member's lxdbr0, inside that member's netns
PORT=8443
POOL=data
IMAGE=busybox
CLIENT_NAME=virtscope-lab-client
C=$BASE/client
IMG=$BASE/image
export LXD_CONF=$BASE/lxcconf   # the lxc client's config stays out of ~/.config/lxc

say() { printf '[lab lxd %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'lab lxd: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mark() { say "  $1: $2 s"; }
[ "$(id -u)" = 0 ] || die "run as root"
case $BASE in /*/*) ;; *) die "VIRTSCOPE_LXD_BASE must be an absolute path with 2+ components" ;; esac
[[ $BASE != *[!A-Za-z0-9._/+-]* ]] || die "VIRTSCOPE_LXD_BASE may contain only A-Z a-z 0-9 . _ / + -"

member_ns() { echo "vslxd-$1"; }
check_member() { case ${1:-} in 1|2|3) ;; *) die "member must be 1, 2 or 3 (got '${1:-}')" ;; esac; }
# in_hub CMD...: inside the hub netns, with our fds closed (the up/down lock is fd 9)
in_hub() { nsenter --net="$HUBPATH" -- "$@" 9<&-; }
lxcN() { local i=$1; shift; LXD_DIR=$BASE/$i in_hub lxc "$@"; }
lxdN() { local i=$1; shift; LXD_DIR=$BASE/$i in_hub lxd "$@"; }
# api N PATH [curl args...]: the REST API of member N over its unix socket
api() { local i=$1 p=$2; shift 2; in_hub curl -sS --max-time 30 --unix-socket "$BASE/$i/unix.socket" "$@" "http://lxd$p"; }

proc_start() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
# lxdpid N: pid of member N's daemon, if the one we recorded is alive (pid + start time)
lxdpid() {
  local pid st; [ -f "$BASE/$1/daemon.pid" ] || return 1
  read -r pid st < "$BASE/$1/daemon.pid" || return 1
  [ -n "$pid" ] && [ "$(proc_start "$pid" 2>/dev/null)" = "$st" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = lxd ] || return 1
  echo "$pid"
}
ready() { [ -S "$BASE/$1/unix.socket" ] && [ -e "$HUBPATH" ] && api "$1" /1.0 -f -o /dev/null 2>/dev/null; }
any_ready() { local i; for i in "${MEMBERS[@]}"; do lxdpid "$i" >/dev/null && ready "$i" && { echo "$i"; return 0; }; done; return 1; }
netns_pids() { # host pids of every process in our network namespaces
  local n; for n in "$HUB" vslxd-1 vslxd-2 vslxd-3; do [ -e "/run/netns/$n" ] && ip netns pids "$n" 2>/dev/null; done; return 0
}
# our_pids: processes our daemons started that live outside our netns too (lxc monitors, containers):
# lxd/dnsmasq whose command line names $BASE, liblxc monitors "[lxc monitor] $BASE/...", and every
# descendant of those monitors (the containers' processes, in namespaces of their own)
our_pids() {
  ps -e -o pid=,ppid=,comm=,args= | awk -v base="$BASE/" -v self=$$ '
    { pid[NR] = $1; ppid[NR] = $2; comm = $3; args = $0; sub(/^ *[0-9]+ +[0-9]+ +[^ ]+ +/, "", args)
      if ($1 == self) next
      if (((comm == "lxd" || comm == "dnsmasq") && index(args, base)) || index(args, "[lxc monitor] " base) == 1) root[$1] = 1 }
    END { do { grew = 0; for (k in pid) if (!(pid[k] in root) && (ppid[k] in root)) { root[pid[k]] = 1; grew = 1 } } while (grew)
          for (p in root) print p }'
}

# ---------------------------------------------------------------------------- up
preflight() {
  local c; for c in lxd lxc ip nsenter unshare curl jq openssl tar busybox flock; do
    command -v "$c" >/dev/null || die "'$c' not found: run 'bash scripts/lab.sh deps' (packages lxd lxd-client)"; done
  [ -d /sys/fs/cgroup ] || die "no /sys/fs/cgroup"
  grep -q '^root:' /etc/subuid && grep -q '^root:' /etc/subgid || die "no root entry in /etc/subuid|subgid (the lxd package adds root:100000:10000001)"
}

net_up() {
  local i ns
  [ -e "$HUBPATH" ] || ip netns add "$HUB"
  ip -n "$HUB" link set lo up
  ip -n "$HUB" link show "$HUBBR" >/dev/null 2>&1 || ip -n "$HUB" link add "$HUBBR" type bridge
  ip -n "$HUB" addr replace "$SUB.254/24" dev "$HUBBR"
  ip -n "$HUB" link set "$HUBBR" up
  for i in "${MEMBERS[@]}"; do
    ns=$(member_ns "$i")
    [ -e "/run/netns/$ns" ] || ip netns add "$ns"
    ip -n "$ns" link set lo up
    # the veth is made inside the hub and its peer goes straight into the member: never in the host netns
    ip -n "$ns" link show eth0 >/dev/null 2>&1 || ip -n "$HUB" link add "vslxd-v$i" type veth peer name eth0 netns "$ns"
    ip -n "$HUB" link set "vslxd-v$i" master "$HUBBR" up
    ip -n "$ns" addr replace "$SUB.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

# start_member N: the daemon in member N's netns, in a private mount namespace with a fresh sysfs (that
# of the member's netns: LXD reads /sys/class/net) and the host's cgroup tree moved back under it. An
# empty resolv.conf there: LXD looks up images.linuxcontainers.org at start (instance types); with no
# name server it asks loopback and gives up at once (the netns has no route out anyway)
start_member() {
  local i=$1 D=$BASE/$1 ns pid
  ns=$(member_ns "$i")
  lxdpid "$i" >/dev/null && return 0
  mkdir -p -- "$D"; chmod 0711 "$D"
  rm -f -- "$D/unix.socket"
  setsid nsenter --net="/run/netns/$ns" -- unshare --mount --propagation private -- \
    env -i PATH="$PATH" LANG=C.UTF-8 LXD_DIR="$D" /bin/sh -c '
      set -e
      mkdir -p "$LXD_DIR/.oldsys"
      mount --move /sys "$LXD_DIR/.oldsys"
      mount -t sysfs sysfs /sys
      mount --move "$LXD_DIR/.oldsys/fs/cgroup" /sys/fs/cgroup
      umount -l "$LXD_DIR/.oldsys"; rmdir "$LXD_DIR/.oldsys"
      : > "$LXD_DIR/resolv.conf"; mount --bind "$LXD_DIR/resolv.conf" /etc/resolv.conf
      exec lxd --group root --logfile "$LXD_DIR/lxd.log"' < /dev/null > "$D/daemon.out" 2>&1 9<&- &
  pid=$!   # setsid/nsenter/unshare/env/sh all exec: this becomes lxd itself
  for _ in $(seq 50); do [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = lxd ] && break; sleep 0.05; done
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = lxd ] || { cat "$D/daemon.out" >&2; die "member$i: lxd did not start"; }
  echo "$pid $(proc_start "$pid")" > "$D/daemon.pid"
}
wait_member() { lxdN "$1" waitready --timeout=120 || { tail -n 20 "$BASE/$1/lxd.log" >&2; die "member$1 not ready"; }; }

bootstrap() {
  [ "$(api 1 /1.0 | jq -r .metadata.environment.server_clustered)" = true ] && return 0
  lxdN 1 init --preseed <<EOF
config:
  core.https_address: $SUB.1:$PORT
  images.auto_update_interval: "0"
storage_pools:
- name: $POOL
  driver: dir
networks:
- name: lxdbr0
  type: bridge
  config:
    ipv4.address: $INNER
    ipv4.nat: "false"
    ipv6.address: none
profiles:
- name: default
  devices:
    root: {path: /, pool: $POOL, type: disk}
    eth0: {name: eth0, network: lxdbr0, type: nic}
cluster:
  server_name: member1
  enabled: true
EOF
}

join() {
  local i=$1 tok
  api 1 "/1.0/cluster/members/member$i" -f -o /dev/null 2>/dev/null && return 0
  lxcN 1 cluster revoke-token "member$i" >/dev/null 2>&1 || true   # a stale token of an aborted run
  tok=$(lxcN 1 cluster add "member$i" --quiet)
  lxdN "$i" init --preseed <<EOF
cluster:
  enabled: true
  server_name: member$i
  server_address: $SUB.$i:$PORT
  cluster_token: $tok
  member_config:
  - entity: storage-pool
    name: $POOL
    key: source
    value: ""
EOF
}

# the image: busybox-static's binary, an init that brings lo up and asks lxdbr0's dnsmasq for an address
build_image() {
  [ -f "$IMG/rootfs.tar.gz" ] && [ -f "$IMG/metadata.tar.gz" ] && return 0
  local R=$IMG/rootfs a
  rm -rf -- "$IMG"; mkdir -p -- "$R"/{bin,sbin,etc/init.d,proc,sys,dev,tmp,root,run,var/log,usr/share/udhcpc} "$IMG/templates"
  chmod 1777 "$R/tmp"
  cp -- "$(command -v busybox)" "$R/bin/busybox"
  for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
  ln -sf ../bin/busybox "$R/sbin/init"
  printf '::sysinit:/etc/init.d/rcS\n::shutdown:/bin/umount -a -r\n' > "$R/etc/inittab"
  cat > "$R/etc/init.d/rcS" <<'EOF'
#!/bin/sh
ip link set lo up
[ -e /sys/class/net/eth0 ] && udhcpc -i eth0 -b -p /run/udhcpc.pid -s /usr/share/udhcpc/default.script >/var/log/udhcpc.log 2>&1
exit 0
EOF
  cat > "$R/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface" ;;
esac
exit 0
EOF
  chmod 755 "$R/etc/init.d/rcS" "$R/usr/share/udhcpc/default.script"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
  echo busybox > "$R/etc/hostname"
  cat > "$IMG/metadata.yaml" <<EOF
architecture: x86_64
creation_date: $(date +%s)
properties:
  description: virtscope lab busybox (Debian busybox-static)
  os: busybox
  release: "$("$R/bin/busybox" | head -n 1 | awk '{ print $2 }')"
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
EOF
  echo '{{ container.name }}' > "$IMG/templates/hostname.tpl"
  tar -C "$IMG" -czf "$IMG/metadata.tar.gz" metadata.yaml templates
  tar -C "$R" --numeric-owner -czf "$IMG/rootfs.tar.gz" .
  rm -rf -- "$R"
}
import_image() {
  api 1 "/1.0/images/aliases/$IMAGE" -f -o /dev/null 2>/dev/null && return 0
  lxcN 1 image import "$IMG/metadata.tar.gz" "$IMG/rootfs.tar.gz" --alias "$IMAGE" >/dev/null
}

# client side: the cluster certificate, a trusted client certificate, an untrusted one
client_certs() {
  local n
  mkdir -p -- "$C" "$LXD_CONF"; chmod 0755 "$C"
  install -m 0644 "$BASE/1/cluster.crt" "$C/cluster.crt"
  for n in client untrusted; do
    [ -f "$C/$n.crt" ] && continue
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -sha384 -days 3650 \
      -keyout "$C/$n.key" -out "$C/$n.crt" -subj "/CN=virtscope-lab-$n" 2>/dev/null
    chmod 0644 "$C/$n.key"    # tests may run as another user; the lab is a throwaway
  done
  api 1 /1.0/certificates?recursion=1 | jq -e --arg n "$CLIENT_NAME" '.metadata[] | select(.name == $n)' >/dev/null ||
    lxcN 1 config trust add "$C/client.crt" --name "$CLIENT_NAME"
}

cmd_up() {
  local T0 t i; T0=$(now); t=$T0
  preflight
  mkdir -p -- "$BASE" "$LXD_CONF"; chmod 0711 "$BASE"
  net_up;                                           mark netns "$(since "$t")"; t=$(now)
  for i in "${MEMBERS[@]}"; do start_member "$i"; done
  for i in "${MEMBERS[@]}"; do wait_member "$i"; done; mark daemons "$(since "$t")"; t=$(now)
  bootstrap;                                        mark bootstrap "$(since "$t")"; t=$(now)
  for i in "${MEMBERS[@]:1}"; do join "$i"; done;   mark join "$(since "$t")"; t=$(now)
  build_image; import_image;                        mark image "$(since "$t")"; t=$(now)
  client_certs;                                     mark certs "$(since "$t")"
  mark total_up "$(since "$T0")"
  cmd_status
}

# ---------------------------------------------------------------------------- down
alive() { local st; st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; st=${st##*) }; [ "${st%% *}" != Z ]; }
# kill_all: SIGKILL every process of ours until none is left (a daemon may fork while we look). The
# state is thrown away, so nothing needs an orderly stop: the instances' mounts live in the daemons'
# private mount namespaces and their links and firewall rules in our netns, all gone with them.
kill_all() {
  local i p pids left=""
  for _ in 1 2 3 4 5; do
    pids=$( { for i in "${MEMBERS[@]}"; do lxdpid "$i" || true; done; our_pids; netns_pids; } | sort -u |
      while read -r p; do ! alive "$p" || echo "$p"; done | tr '\n' ' ')
    [ -n "${pids// /}" ] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for _ in $(seq 50); do left=""; for p in $pids; do alive "$p" && left="$left $p"; done; [ -z "$left" ] && break; sleep 0.1; done
  done
  [ -z "$left" ] || die "processes did not die:$left"
}
# instance names known to our members (API if up, else their LXD_DIRs): their cgroups are ours
our_instances() {
  local i
  if i=$(any_ready); then api "$i" '/1.0/instances?recursion=1&all-projects=true' | jq -r '.metadata[] | if .project == "default" then .name else .project + "_" + .name end'; fi
  for i in "${MEMBERS[@]}"; do ls -1 "$BASE/$i/containers" 2>/dev/null || true; done
}
our_cgroups() { # NAMES on stdin: cgroup dirs liblxc makes for them, deepest first
  local names; names=$(sort -u | awk 'NF { printf "%s%s", sep, $0; sep = "\n" }')
  [ -n "$names" ] || return 0
  find /sys/fs/cgroup -maxdepth 6 -type d \( -name 'lxc.payload.*' -o -name 'lxc.monitor.*' \) 2>/dev/null |
    awk -v names="$names" 'BEGIN { n = split(names, a, "\n"); for (k = 1; k <= n; k++) want[a[k]] = 1 }
      { b = $0; sub(/.*\/lxc\.(payload|monitor)\./, "", b); sub(/\/.*/, "", b); if (b in want) print }' | sort -r
}

cmd_down() {
  local T0 t i p names
  T0=$(now); t=$T0
  names=$(our_instances 2>/dev/null || true)
  kill_all; mark processes "$(since "$t")"
  # cgroups liblxc made for our instances (rmdir removes only empty ones)
  printf '%s\n' "$names" | our_cgroups | while read -r p; do rmdir -- "$p" 2>/dev/null || true; done
  # mounts seen from the host (normally none: the daemons had private mount namespaces)
  { findmnt -rn -o TARGET | grep -F "$BASE/" || true; } | sort -r | while read -r p; do umount -l "$p" || true; done
  for i in "${MEMBERS[@]}"; do [ ! -e "/run/netns/$(member_ns "$i")" ] || ip netns del "$(member_ns "$i")"; done
  [ ! -e "$HUBPATH" ] || ip netns del "$HUB"
  rm -rf -- "/run/lxc/lock${BASE:?}" "${BASE:?}"
  mark down_total "$(since "$T0")"
  VERIFY_NAMES=$names cmd_verify
}

cmd_verify() {
  local bad=0 n left
  for n in "$HUB" vslxd-1 vslxd-2 vslxd-3; do [ -e "/run/netns/$n" ] && { echo "netns $n exists"; bad=1; }; done
  ip -o link | grep -E 'vslxd|lxdbr0' && bad=1
  findmnt -rn | grep -F "$BASE" && bad=1
  left=$(our_pids | tr '\n' ' ')
  # shellcheck disable=SC2086
  [ -n "${left// /}" ] && { ps -o pid,args -p "$(echo $left | tr ' ' ,)"; bad=1; }
  left=$(printf '%s\n' "${VERIFY_NAMES:-}" | our_cgroups)
  [ -n "$left" ] && { echo "cgroups left: $left"; bad=1; }
  [ -e "$BASE" ] && { echo "$BASE exists"; bad=1; }
  [ -e "/run/lxc/lock$BASE" ] && { echo "/run/lxc/lock$BASE exists"; bad=1; }
  if [ $bad = 0 ]; then echo "lxd: down left nothing"; else echo "lxd: LEFTOVERS ABOVE" >&2; return 1; fi
}

# ---------------------------------------------------------------------------- status / env
cmd_status() {
  local i pid st via n_up=0 members="" any=0
  via=$(any_ready || true)
  [ -n "$via" ] && members=$(api "$via" '/1.0/cluster/members?recursion=1' 2>/dev/null | jq -r '.metadata[] | "\(.server_name) \(.status)"' 2>/dev/null || true)
  for i in "${MEMBERS[@]}"; do
    pid=$(lxdpid "$i" || true)
    st=$(printf '%s\n' "$members" | awk -v m="member$i" '$1 == m { print $2 }')
    [ -n "$pid" ] || [ -e "/run/netns/$(member_ns "$i")" ] && any=1
    if [ -n "$pid" ] && [ "$st" = Online ]; then n_up=$((n_up + 1)); fi
    printf 'member%s  %-16s %-22s %s\n' "$i" "$SUB.$i:$PORT" "$([ -n "$pid" ] && echo "pid $pid" || echo "no daemon")" "${st:-unknown}"
  done
  [ -e "$HUBPATH" ] || [ -d "$BASE" ] && any=1
  if [ "$n_up" = "${#MEMBERS[@]}" ]; then echo "lxd: up"; elif [ "$any" = 0 ]; then echo "lxd: down"; else echo "lxd: partial"; fi
}

cmd_env() {
  local name i
  name=$(openssl x509 -in "$C/cluster.crt" -noout -ext subjectAltName 2>/dev/null | grep -o 'DNS:[^,]*' | head -n 1 | cut -d: -f2) || true
  echo "LXD_BASE=$BASE"
  for i in "${MEMBERS[@]}"; do echo "LXD_SOCKET_$i=$BASE/$i/unix.socket"; done
  echo "LXD_HUB_NETNS=$HUBPATH"
  for i in "${MEMBERS[@]}"; do echo "LXD_HTTPS_$i=https://$SUB.$i:$PORT"; done
  cat <<EOF
LXD_CLUSTER_CERT=$C/cluster.crt
LXD_SERVER_NAME=${name:-$(hostname)}
LXD_CLIENT_CERT=$C/client.crt
LXD_CLIENT_KEY=$C/client.key
LXD_UNTRUSTED_CERT=$C/untrusted.crt
LXD_UNTRUSTED_KEY=$C/untrusted.key
LXD_IMAGE=$IMAGE
EOF
}

# ---------------------------------------------------------------------------- members, instances
cmd_kill_member() {
  local pid; check_member "${1:-}"
  pid=$(lxdpid "$1") || { say "member$1: no daemon"; return 0; }
  kill -KILL "$pid"; for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  say "member$1: daemon $pid killed"
}
cmd_start_member() {
  local t; check_member "${1:-}"; [ -e "/run/netns/$(member_ns "$1")" ] || die "not up: run '$0 up'"
  t=$(now); start_member "$1"; wait_member "$1"
  # ready = serving, and seen Online again by the cluster (its heartbeat)
  for _ in $(seq 300); do [ "$(api "$1" "/1.0/cluster/members/member$1" | jq -r .metadata.status)" = Online ] && break; sleep 0.1; done
  mark "member$1 ready" "$(since "$t")"
}

check_prefix() { [[ $1 =~ ^[a-z][a-z0-9-]{0,40}$ ]] || die "prefix must match [a-z][a-z0-9-]* (got '$1')"; }
# lxc_xargs P N ARGS...: each input line's fields appended to `lxc ARGS...`, P at a time, in the hub netns
lxc_xargs() { local p=$1 i=$2; shift 2; LXD_DIR=$BASE/$i xargs -r -P "$p" -L 1 sh -c 'h=$1; shift; exec nsenter --net="$h" -- lxc "$@"' sh "$HUBPATH" "$@" 9<&-; }
cmd_populate() {
  local count=${1:-} running=${2:-} prefix=${3:-bench} t0 t i k todo have
  [[ $count =~ ^[0-9]+$ ]] && [[ $running =~ ^[0-9]+$ ]] && [ "$running" -le "$count" ] || die "usage: populate COUNT RUNNING [PREFIX]"
  check_prefix "$prefix"; i=$(any_ready) || die "not up"
  t0=$(now)
  have=$(api "$i" '/1.0/instances?recursion=1' | jq -r '.metadata[] | "\(.name) \(.status)"')
  # NAME TARGET for those not there yet (populate again = only what is missing)
  todo=$(for k in $(seq 1 "$count"); do printf '%s-%03d member%s\n' "$prefix" "$k" $(( (k - 1) % ${#MEMBERS[@]} + 1 )); done |
    awk -v have="$have" 'BEGIN { n = split(have, a, "\n"); for (k = 1; k <= n; k++) { split(a[k], f, " "); h[f[1]] = 1 } } !($1 in h)')
  # one per member first: the first instance on a member copies the image to it
  printf '%s\n' "$todo" | awk 'NF' | head -n "${#MEMBERS[@]}" | awk '{ print $1, "--target", $2 }' | lxc_xargs 3 "$i" init -q "$IMAGE"
  printf '%s\n' "$todo" | awk 'NF' | tail -n +"$(( ${#MEMBERS[@]} + 1 ))" | awk '{ print $1, "--target", $2 }' | lxc_xargs 6 "$i" init -q "$IMAGE"
  t=$(since "$t0")
  have=$(api "$i" '/1.0/instances?recursion=1' | jq -r '.metadata[] | select(.status == "Running") | .name')
  for k in $(seq 1 "$running"); do printf '%s-%03d\n' "$prefix" "$k"; done | { grep -vxF -f <(printf '%s\n' "$have") || true; } | lxc_xargs 4 "$i" start -q
  printf 'populate: %s created in %s s (%s were there), %s running; total %s s\n' \
    "$(printf '%s\n' "$todo" | awk 'NF' | wc -l)" "$t" "$((count - $(printf '%s\n' "$todo" | awk 'NF' | wc -l)))" "$running" "$(since "$t0")"
}
cmd_unpopulate() {
  local prefix=${1:-bench} t0 i; check_prefix "$prefix"; i=$(any_ready) || die "not up"
  t0=$(now)
  api "$i" '/1.0/instances?recursion=0' | jq -r --arg p "$prefix-" '.metadata[] | sub("^/1.0/instances/"; "") | select(startswith($p))' |
    lxc_xargs 6 "$i" delete --force
  printf 'unpopulate: done in %s s\n' "$(since "$t0")"
}

# up/down/kill/start: one at a time; the lock is on this script itself, so nothing is left behind
case ${1:-} in
  up|down|kill-member|start-member) exec 9< "$SELF"; flock -w 300 9 || die "another lxd-cluster.sh up/down is still running" ;;
esac
cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  verify) cmd_verify ;;
  env) cmd_env ;;
  lxc) check_member "${1:-}"; i=$1; shift; [ -e "$HUBPATH" ] || die "not up"; LXD_DIR=$BASE/$i exec nsenter --net="$HUBPATH" -- lxc "$@" ;;
  exec-hub) [ $# -gt 0 ] || die "usage: exec-hub CMD..."; [ -e "$HUBPATH" ] || die "not up"; exec nsenter --net="$HUBPATH" -- "$@" ;;
  kill-member) cmd_kill_member "$@" ;;
  start-member) cmd_start_member "$@" ;;
  populate) cmd_populate "$@" ;;
  unpopulate) cmd_unpopulate "$@" ;;
  *) echo "usage: $0 up|down|status|verify|env|lxc N ARGS...|exec-hub CMD...|kill-member N|start-member N|populate COUNT RUNNING [PREFIX]|unpopulate [PREFIX]" >&2; exit 2 ;;
esac
