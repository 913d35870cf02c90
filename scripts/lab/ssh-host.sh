#!/usr/bin/env bash
# virtscope lab, second host: a machine on this machine that is reachable ONLY over SSH (issue #14).
#
#   network namespace $NS (veth $VETH_H 10.81.0.1/30 here <-> $VETH_N 10.81.0.2/30 inside; no default route,
#   no forwarding: the second host reaches nothing but 10.81.0.1, its guest remotevm nothing but the
#   second host's bridge address 10.81.1.1), plus its own mount/UTS/IPC/PID namespaces (hostname
#   "sshhost"). In its private mount namespace these are private, backed by $STATE/root/* or tmpfs:
#     /etc/ssh /etc/libvirt /etc/lxc /etc/containers (copies)   /var/lib/libvirt /var/cache/libvirt
#     /var/log /var/lib/lxc /var/cache/lxc /var/lib/containers /root   and tmpfs /run, /tmp
#   Daemons inside: sshd (10.81.0.2:22, key-only), virtlogd, libvirtd (test:///default, qemu:///system,
#   lxc:///system), podman API service (/run/podman/podman.sock). They run beside the local lab's daemons
#   and never touch them.
#   Guests (names of their own: cgroup paths are shared with this machine): QEMU domain remotevm (TCG,
#   128 MiB, direct kernel boot of the local lab's kernel with a slim copy of its initramfs: busybox,
#   iperf3, qemu-guest-agent; virtio-net NIC on bridge vsrbr0 10.81.1.1/24 inside the second host, guest
#   10.81.1.10; defined, started by the tests that need it), libvirt-LXC domain remotevlxc (defined),
#   lxc-tools container remotect (busybox, created).
#
# Client side (this machine), under $STATE/client: id_ed25519 (+.pub, the tests' key), known_hosts (the
# second host's keys only), ssh_config (Host sshhost-lab: HostName, User, IdentityFile, IdentitiesOnly,
# UserKnownHostsFile; connection sharing is the product's business) and `ssh`, a wrapper (ssh -F
# ssh_config, BatchMode, its own master) for libvirt's ?command= URI parameter.
#
# Subcommands (idempotent; run as root):
#   up | down | status | env (KEY=VALUE lines for tests) | exec CMD... (inside the second host)
#   selftest (ssh, qemu+ssh, forwarded sockets, sshd kill/restart; prints figures)
#   sshd-kill (the listening sshd only: open connections live on, as on a real host) | sshd-start
# Env: VIRTSCOPE_SSHHOST_STATE (/var/lib/virtscope-sshhost)  VIRTSCOPE_SSHHOST_PODMAN=1  VIRTSCOPE_SSHHOST_LXC=1
#      VIRTSCOPE_SSHHOST_VM_MEM=128 (MiB)  VIRTSCOPE_LAB_CACHE (the lab's build, for remotevm's boot files)
set -euo pipefail
umask 022
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
NS=virtscope-sshhost
ALIAS=sshhost-lab
VETH_H=vsh0
VETH_N=vsh1
HOST_IP=10.81.0.1
PEER_IP=10.81.0.2
PFX=30
HN=sshhost
STATE=${VIRTSCOPE_SSHHOST_STATE:-/var/lib/virtscope-sshhost}
R=$STATE/root            # backing dirs of the second host's private trees
C=$STATE/client          # client-side files
P=$STATE/pids
NSPATH=/run/netns/$NS
WITH_PODMAN=${VIRTSCOPE_SSHHOST_PODMAN:-1}
WITH_LXC=${VIRTSCOPE_SSHHOST_LXC:-1}
VM2=remotevm; LXC2=remotevlxc; CT2=remotect
# remotevm's network: a bridge inside the second host's netns, no route out of it (ip_forward 0)
BR2=vsrbr0; BR2_IP=10.81.1.1; VM2_IP=10.81.1.10; VM2_MAC=52:54:00:51:00:0a; VM2_IF=vs-remotevm
VM2_MEM=${VIRTSCOPE_SSHHOST_VM_MEM:-128}
# the local lab's guest build (kernel + initramfs tree) that remotevm's boot files are made from
LAB=$(dirname -- "$SELF")/../lab.sh
LAB_GUEST=${VIRTSCOPE_LAB_CACHE:-/var/cache/virtscope-lab}/guest
VM2_BOOT=/var/lib/libvirt/boot     # inside the second host (backed by $R/var-lib-libvirt/boot)
# private tree inside the second host  <-  backing dir name under $R
BINDS=(/etc/ssh:etc-ssh /etc/libvirt:etc-libvirt /etc/lxc:etc-lxc /etc/containers:etc-containers
       /var/lib/libvirt:var-lib-libvirt /var/cache/libvirt:var-cache-libvirt /var/log:var-log
       /var/lib/lxc:var-lib-lxc /var/cache/lxc:var-cache-lxc /var/lib/containers:var-lib-containers /root:root-home)

say() { printf '[lab sshhost %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'lab sshhost: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
case $STATE in /*/*) ;; *) die "VIRTSCOPE_SSHHOST_STATE must be an absolute path with 2+ components" ;; esac

wait_for() { local n=$1; shift; local i; for ((i = 0; i < n * 5; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
proc_start() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
# init_pid: host pid of the second host's PID 1 (the holder), if alive and the one we recorded
init_pid() {
  local pid st; [ -f "$P/init" ] || return 1
  read -r pid st < "$P/init" || return 1
  [ -n "$pid" ] && [ "$(proc_start "$pid" 2>/dev/null)" = "$st" ] || return 1
  readlink "/proc/$pid/ns/mnt" >/dev/null 2>&1 || return 1     # a zombie has no namespaces
  echo "$pid"
}
# nsx CMD...: run CMD inside the second host (all its namespaces), clean environment
nsx() {
  local pid; pid=$(init_pid) || die "second host not running"
  # 9<&-: daemons started here must not inherit (and so hold) the up/down lock
  nsenter -t "$pid" -m -u -i -n -p -- env -i PATH="$PATH" LANG=C.UTF-8 HOME=/root TERM=dumb "$@" 9<&-
}
netns_ino() { stat -L -c %i -- "$NSPATH" 2>/dev/null; }
netns_pids() { # host pids of every process in our netns
  local ino p; ino=$(netns_ino) || return 0
  for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$ino]" ] && echo "${p#/proc/}"; done; return 0
}
ns_pidfile_alive() { # NAME: /run/NAME.pid inside the second host names a live process
  local pid ip; ip=$(init_pid) || return 1
  pid=$(cat "/proc/$ip/root/run/$1.pid" 2>/dev/null) || return 1
  pid=${pid//[!0-9]/}; [ -n "$pid" ] && nsx kill -0 "$pid" 2>/dev/null
}

# ---------------------------------------------------------------------------- the holder (PID 1 inside)
# Runs as PID 1 of the new pid namespace, inside new mount/uts/ipc namespaces and the netns.
ns_init() {
  local R=$1 b dst src t
  # copies of the host's nsfs mounts (ip netns names) would keep those namespaces alive: drop them here
  findmnt -rn -t nsfs -o TARGET | sort -r | while read -r t; do umount -l "$t" 2>/dev/null || true; done
  hostname "$HN"
  for b in "${BINDS[@]}"; do dst=${b%%:*}; src=$R/${b#*:}; mount --bind "$src" "$dst"; done
  mount -t tmpfs -o mode=0755,nosuid,nodev,size=256m tmpfs /run
  mkdir -m 0755 /run/sshd /run/libvirt /run/lxc /run/podman /run/user
  mkdir -m 1777 /run/lock
  mount -t tmpfs -o mode=1777,nosuid,nodev,size=512m tmpfs /tmp
  mkdir -p /var/log/libvirt/qemu /var/log/libvirt/lxc
  : > /run/sshhost-ready
  trap 'exit 0' TERM INT
  while :; do sleep 3600 & wait $! || true; done
}

# ---------------------------------------------------------------------------- up
prepare_state() {
  local b f
  mkdir -p -- "$R" "$C" "$P"
  chmod 0755 "$STATE" "$R"; chmod 0700 "$C"
  for b in "${BINDS[@]}"; do mkdir -p -- "$R/${b#*:}"; done
  chmod 0700 "$R/root-home" "$R/var-lib-containers"
  # /etc/ssh: the package's client config + own host keys, sshd_config, authorized_keys
  if [ ! -f "$R/etc-ssh/sshd_config" ]; then
    cp -a /etc/ssh/ssh_config /etc/ssh/ssh_config.d /etc/ssh/moduli "$R/etc-ssh/"
    ssh-keygen -q -t ed25519 -N '' -C "root@$HN" -f "$R/etc-ssh/ssh_host_ed25519_key"
    ssh-keygen -q -t ecdsa -N '' -C "root@$HN" -f "$R/etc-ssh/ssh_host_ecdsa_key"
    mkdir -m 0755 "$R/etc-ssh/authorized_keys"
    cat > "$R/etc-ssh/sshd_config" <<EOF
# sshd of the second host ($HN)
ListenAddress $PEER_IP:22
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
# MaxSessions/MaxStartups left at their defaults (10 sessions per connection), as on a real host:
# the product must live with them
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
StreamLocalBindUnlink yes
AcceptEnv LANG LC_*
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  fi
  # client key pair, known_hosts, ssh_config, wrapper for libvirt's ?command=
  if [ ! -f "$C/id_ed25519" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "virtscope-sshhost-test" -f "$C/id_ed25519"
  fi
  install -m 0644 "$C/id_ed25519.pub" "$R/etc-ssh/authorized_keys/root"
  for f in "$R"/etc-ssh/ssh_host_*_key.pub; do awk -v h="$PEER_IP" '{ print h, $1, $2 }' "$f"; done > "$C/known_hosts"
  # names only: connection sharing, batch mode and host-key policy are the product's (or the wrapper's)
  cat > "$C/ssh_config" <<EOF
Host $ALIAS $PEER_IP
  HostName $PEER_IP
  User root
  IdentityFile $C/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $C/known_hosts
EOF
  # ssh: for libvirt's ?command= and status (no sharing); ssh-mux: the same through a master of its own.
  # (ssh takes the FIRST value given for an option: a wrapper's -o cannot be overridden by its caller's)
  printf '#!/bin/sh\nexec ssh -F %s -o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"\n' \
    "$C/ssh_config" > "$C/ssh"
  printf '#!/bin/sh\nexec %s -o ControlMaster=auto -o ControlPath=%s/cm-%%C -o ControlPersist=60 -o StreamLocalBindUnlink=yes "$@"\n' \
    "$C/ssh" "$C" > "$C/ssh-mux"
  chmod 0755 "$C/ssh" "$C/ssh-mux"
  # /etc/libvirt: the host's top-level *.conf only (no domains, networks, secrets of the host)
  if [ ! -f "$R/etc-libvirt/.sshhost" ]; then
    cp -a /etc/libvirt/*.conf "$R/etc-libvirt/" 2>/dev/null || true
    mkdir -p "$R"/etc-libvirt/{qemu/networks,lxc,storage,nwfilter,secrets}
    chmod 0700 "$R/etc-libvirt/secrets" "$R/etc-libvirt/nwfilter"
    f=$R/etc-libvirt/qemu.conf
    grep -qE '^\s*user\s*=' "$f" 2>/dev/null || echo 'user = "root"' >> "$f"
    grep -qE '^\s*group\s*=' "$f" || echo 'group = "root"' >> "$f"
    grep -qE '^\s*dynamic_ownership\s*=' "$f" || echo 'dynamic_ownership = 0' >> "$f"
    : > "$R/etc-libvirt/.sshhost"
  fi
  # qemu capabilities cache: start from the host's (saves the capability probing on first start)
  [ -d "$R/var-cache-libvirt/qemu" ] || { [ -d /var/cache/libvirt/qemu ] && cp -a /var/cache/libvirt/qemu "$R/var-cache-libvirt/"; } || true
  # /etc/lxc: no network by default (the second host has no lxcbr0); /etc/containers + containers.conf
  if [ ! -f "$R/etc-lxc/default.conf" ]; then
    printf 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n' > "$R/etc-lxc/default.conf"
  fi
  if [ ! -f "$R/etc-containers/containers.conf" ]; then
    cp -a /etc/containers/. "$R/etc-containers/"
    printf '[containers]\nnetns = "none"\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
      > "$R/etc-containers/containers.conf"
  fi
  [ -f "$R/root-home/.profile" ] || cp -a /etc/skel/. "$R/root-home/"
}

ensure_net() {
  [ -e "$NSPATH" ] || { ip netns add "$NS"; say "netns $NS created"; }
  ip -n "$NS" link set lo up
  if ! ip link show "$VETH_H" >/dev/null 2>&1; then
    ip link add "$VETH_H" type veth peer name "$VETH_N" netns "$NS"
    sysctl -qw "net.ipv6.conf.$VETH_H.disable_ipv6=1" 2>/dev/null || true
    ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VETH_N.disable_ipv6=1" 2>/dev/null || true
    say "veth $VETH_H <-> $NS:$VETH_N created"
  fi
  ip addr replace "$HOST_IP/$PFX" dev "$VETH_H"; ip link set "$VETH_H" up
  ip -n "$NS" addr replace "$PEER_IP/$PFX" dev "$VETH_N"; ip -n "$NS" link set "$VETH_N" up
  # remotevm's bridge: the guest reaches the second host's $BR2_IP and nothing else (no forwarding)
  ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=0
  ip -n "$NS" link show "$BR2" >/dev/null 2>&1 || ip -n "$NS" link add name "$BR2" type bridge forward_delay 0
  ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$BR2.disable_ipv6=1" 2>/dev/null || true
  ip -n "$NS" addr replace "$BR2_IP/24" dev "$BR2"; ip -n "$NS" link set "$BR2" up
}

ensure_init() {
  local up pid i
  init_pid >/dev/null && return 0
  [ -z "$(netns_pids)" ] || die "processes left in netns $NS but no holder: run '$0 down' first"
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null > "$P/cgroups-before" || true
  # unshare stays in the host pid ns as the holder's parent; --kill-child: if it dies, PID 1 (and so
  # everything in the pid namespace) dies with it
  setsid nsenter --net="$NSPATH" -- unshare --mount --uts --ipc --pid --fork --kill-child --mount-proc \
      --propagation private -- bash "$SELF" _init "$R" < /dev/null > "$STATE/init.log" 2>&1 9<&- &
  up=$!
  for i in $(seq 50); do
    pid=$(cat "/proc/$up/task/$up/children" 2>/dev/null | awk '{ print $1 }') || true
    [ -n "$pid" ] && [ -e "/proc/$pid/root/run/sshhost-ready" ] && break
    pid=""; sleep 0.1
  done
  [ -n "$pid" ] || { cat "$STATE/init.log" >&2; die "holder did not come up"; }
  echo "$pid $(proc_start "$pid")" > "$P/init"
  echo "$up $(proc_start "$up")" > "$P/unshare"
  say "second host: PID 1 = host pid $pid"
}

ensure_sshd() {
  ns_pidfile_alive sshd && return 0
  nsx /usr/sbin/sshd -t -f /etc/ssh/sshd_config
  nsx /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log < /dev/null
  wait_for 10 ns_pidfile_alive sshd || die "sshd did not start: see $R/var-log/sshd.log"
  say "sshd listening on $PEER_IP:22"
}

# ---------------------------------------------------------------------------- remotevm
# vm2_boot: remotevm's kernel and initramfs in the second host's /var/lib/libvirt/boot, made from the local
# lab's guest build (built first when missing): the same /init, kernel and virtio modules, but only busybox,
# iperf3 and qemu-ga with their libraries (no fio/sockperf/sysbench: 14 MB instead of 93 MB, so 128 MiB do).
vm2_boot() {
  local d=$R/var-lib-libvirt/boot t lib
  [ -f "$LAB_GUEST/stamp" ] || bash "$LAB" build
  [ -f "$d/stamp" ] && cmp -s "$d/stamp" "$LAB_GUEST/stamp" && return 0
  mkdir -p -- "$d"; t=$d/rootfs.tmp; rm -rf -- "$t"
  cp -a -- "$LAB_GUEST/rootfs" "$t"
  rm -f -- "$t"/usr/bin/fio "$t"/usr/bin/sockperf "$t"/usr/bin/sysbench
  rm -rf -- "$t"/lib/x86_64-linux-gnu "$t"/usr/lib "$t"/lib64
  for lib in $(ldd "$t"/usr/bin/iperf3 "$t"/usr/sbin/qemu-ga | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u); do
    mkdir -p -- "$t$(dirname -- "$lib")"; cp -L -- "$lib" "$t$lib"
  done
  (cd "$t" && find . | busybox cpio -o -H newc 2>/dev/null) > "$d/initrd.cpio.tmp"
  cp -- "$LAB_GUEST/vmlinuz" "$d/vmlinuz"
  mv -- "$d/initrd.cpio.tmp" "$d/initrd.cpio"
  rm -rf -- "$t"; cp -- "$LAB_GUEST/stamp" "$d/stamp"
  say "$VM2: boot files made ($(du -h "$d/initrd.cpio" | cut -f1) initramfs)"
}
vm2_xml() { # UUID_ELEMENT
  cat <<EOF
<domain type='qemu'>
  <name>$VM2</name>
  $1
  <description>virtscope second host's QEMU guest (scripts/lab/ssh-host.sh)</description>
  <memory unit='MiB'>$VM2_MEM</memory>
  <currentMemory unit='MiB'>$VM2_MEM</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$VM2_BOOT/vmlinuz</kernel>
    <initrd>$VM2_BOOT/initrd.cpio</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 lab.ip=$VM2_IP/24 lab.hostname=$VM2</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'>
      <source bridge='$BR2'/>
      <mac address='$VM2_MAC'/>
      <target dev='$VM2_IF'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <log file='/var/log/libvirt/qemu/$VM2-serial.log' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
EOF
}
# ensure_vm2: remotevm defined as above (redefined, same uuid, unless it runs: an older definition is upgraded)
ensure_vm2() {
  local u="" state
  vm2_boot
  state=$(nsx virsh -q -c qemu:///system domstate "$VM2" 2>/dev/null | head -n 1) || state=""
  [ "$state" = running ] || [ "$state" = paused ] && return 0
  u=$(nsx virsh -q -c qemu:///system domuuid "$VM2" 2>/dev/null) || u=""
  [[ $u =~ ^[0-9a-f-]{36}$ ]] && u="<uuid>$u</uuid>" || u=""
  vm2_xml "$u" | nsx sh -c "cat > /tmp/vm2.xml"
  nsx virsh -q -c qemu:///system define /tmp/vm2.xml >/dev/null
}

ensure_libvirt() {
  if ! ns_pidfile_alive virtlogd; then
    nsx virtlogd -d < /dev/null
    wait_for 20 test -S "/proc/$(init_pid)/root/run/libvirt/virtlogd-sock" || die "virtlogd did not start"
  fi
  if ! ns_pidfile_alive libvirtd; then
    nsx libvirtd -d < /dev/null
    wait_for 60 nsx virsh -c qemu:///system version || die "libvirtd did not start: see $R/var-log/libvirt/libvirtd.log"
    say "libvirtd running in the second host"
  fi
  ensure_vm2
  if ! nsx virsh -q -c lxc:///system dominfo "$LXC2" >/dev/null 2>&1; then
    nsx sh -c "cat > /tmp/lxc2.xml" <<EOF
<domain type='lxc'>
  <name>$LXC2</name>
  <memory unit='MiB'>32</memory>
  <os><type>exe</type><init>/bin/sh</init></os>
  <devices><console type='pty'/></devices>
</domain>
EOF
    nsx virsh -q -c lxc:///system define /tmp/lxc2.xml >/dev/null
  fi
}

ensure_lxc() {
  [ "$WITH_LXC" = 1 ] || return 0
  nsx lxc-info -n "$CT2" >/dev/null 2>&1 && return 0
  nsx lxc-create -n "$CT2" -t busybox >/dev/null 2>"$STATE/lxc-create.err" || { cat "$STATE/lxc-create.err" >&2; die "lxc-create failed"; }
}

ensure_podman() {
  [ "$WITH_PODMAN" = 1 ] || return 0
  ns_pidfile_alive podman && return 0
  # setsid -f: the service is re-parented to the second host's PID 1 and nsenter returns at once
  nsx sh -c 'cd / && exec setsid -f sh -c "echo \$\$ > /run/podman.pid; exec podman system service --time=0 unix:///run/podman/podman.sock" \
    < /dev/null >> /var/log/podman-service.log 2>&1'
  wait_for 30 nsx curl -sf --unix-socket /run/podman/podman.sock http://d/_ping || die "podman service did not start: $R/var-log/podman-service.log"
  say "podman API on /run/podman/podman.sock in the second host"
}

cmd_up() {
  prepare_state
  ensure_net
  ensure_init
  ensure_sshd
  ensure_libvirt
  ensure_lxc
  ensure_podman
  cmd_status
}

# ---------------------------------------------------------------------------- down
kill_wait() { # PID...: SIGTERM, up to 10 s, then SIGKILL (host pids of processes this recipe started)
  local p i left
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 50); do left=""; for p in "$@"; do [ -d "/proc/$p" ] && left="$left $p"; done; [ -z "$left" ] && return 0; sleep 0.2; done
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  sleep 0.3
}
cmd_down() {
  local f d pid ip pids c
  # client side: close our ControlMaster connections
  for f in "$C"/cm-*; do [ -S "$f" ] && "$C/ssh" -o ControlPath="$f" -O exit "$ALIAS" >/dev/null 2>/dev/null || true; done
  # cgroups our processes live in (libvirt machine/*, lxc.payload.*, libpod-<id>, ...): removed below if left empty
  local cgs=""
  for pid in $(netns_pids); do cgs="$cgs $(awk -F: '$3 != "/" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null | sort -u)"; done
  if ip=$(init_pid); then
    # orderly stop inside, so libvirt/lxc/podman remove their cgroups
    for d in $(nsx virsh -q -c qemu:///system list --name 2>/dev/null); do nsx virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1 || true; done
    for d in $(nsx virsh -q -c lxc:///system list --name 2>/dev/null); do nsx virsh -q -c lxc:///system destroy "$d" >/dev/null 2>&1 || true; done
    for d in $(nsx lxc-ls --running 2>/dev/null); do nsx lxc-stop -k -n "$d" >/dev/null 2>&1 || true; done
    if ns_pidfile_alive podman; then nsx podman stop -a -t 2 >/dev/null 2>&1 || true; nsx podman rm -a -f >/dev/null 2>&1 || true; fi
    for d in podman sshd libvirtd virtlogd; do
      if ns_pidfile_alive "$d"; then nsx sh -c "kill -TERM \$(cat /run/$d.pid)" || true; fi
    done
    for f in $(seq 50); do c=0; for d in podman libvirtd virtlogd; do ns_pidfile_alive "$d" && c=1; done; [ $c = 0 ] && break; sleep 0.2; done
    kill_wait "$ip"             # PID 1 exits; the kernel kills what is left in the pid namespace
  fi
  [ -f "$P/unshare" ] && { read -r pid f < "$P/unshare"; [ "$(proc_start "$pid" 2>/dev/null)" = "$f" ] && kill_wait "$pid"; } || true
  pids=$(netns_pids); [ -z "$pids" ] || { say "killing leftover pids in netns: $pids"; kill_wait $pids; }
  ip link del "$VETH_H" 2>/dev/null || true
  [ -e "$NSPATH" ] && ip netns del "$NS" || true
  # cgroups libvirt/lxc/podman may leave: those named after our objects, and those our processes were in
  # (only the ones that did not exist before `up`, and rmdir removes only empty ones)
  for d in $(find /sys/fs/cgroup -mindepth 1 -type d \( -name "*$VM2*" -o -name "*$LXC2*" -o -name "*$CT2*" \) 2>/dev/null); do
    cgs="$cgs /${d#/sys/fs/cgroup/*/}"; done
  for c in $(printf '%s\n' $cgs | sort -u); do
    for d in /sys/fs/cgroup/*"$c"; do
      [ -d "$d" ] && ! grep -qxF -- "$d" "$P/cgroups-before" 2>/dev/null || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
  case $STATE in /*/*) rm -rf -- "$STATE" ;; esac
  say "down: done"
}

# ---------------------------------------------------------------------------- status / env
cmd_status() {
  local ip
  printf 'netns %s: %s\n' "$NS" "$([ -e "$NSPATH" ] && echo present || echo absent)"
  printf 'veth %s: %s\n' "$VETH_H" "$(ip -br addr show "$VETH_H" 2>/dev/null | awk '{ print $2, $3 }' || true)"
  if ip=$(init_pid); then
    printf 'holder: host pid %s, hostname %s\n' "$ip" "$(nsx hostname)"
    local d; for d in sshd virtlogd libvirtd podman; do
      printf '%-9s %s\n' "$d:" "$(ns_pidfile_alive "$d" && echo "running (ns pid $(cat /proc/$ip/root/run/$d.pid))" || echo stopped)"
    done
    printf 'ssh: %s\n' "$(timeout 10 "$C/ssh" "$ALIAS" 'hostname; virsh -q -c qemu:///system list --all --name | tr "\n" " "' 2>&1 | tr '\n' ' ' || true)"
  else
    echo "holder: not running"
  fi
  printf 'pids in netns: %s\n' "$(netns_pids | wc -l)"
  if init_pid >/dev/null && ns_pidfile_alive sshd && ns_pidfile_alive libvirtd; then echo "sshhost: up"
  elif [ -e "$NSPATH" ] || [ -d "$STATE" ]; then echo "sshhost: partial"; else echo "sshhost: down"; fi
  return 0
}
cmd_env() {
  cat <<EOF
SSHHOST_ADDR=$PEER_IP
SSHHOST_NETNS=$NS
SSHHOST_STATE=$STATE
SSHHOST_USER=root
SSHHOST_ALIAS=$ALIAS
SSHHOST_KEY=$C/id_ed25519
SSHHOST_KNOWN_HOSTS=$C/known_hosts
SSHHOST_SSH_CONFIG=$C/ssh_config
SSHHOST_SSH_WRAPPER=$C/ssh
SSHHOST_VM=$VM2
SSHHOST_VM_BRIDGE=$BR2
SSHHOST_VM_HOST_IP=$BR2_IP
SSHHOST_VM_IP=$VM2_IP
SSHHOST_QEMU_URI=qemu+ssh://root@$PEER_IP/system?command=$C/ssh
SSHHOST_LXC_URI=lxc+ssh://root@$PEER_IP/system?command=$C/ssh
SSHHOST_TEST_URI=test+ssh://root@$PEER_IP/default?command=$C/ssh
EOF
}

# ---------------------------------------------------------------------------- selftest
cmd_selftest() {
  local pass=0 fail=0 out t a b xs i
  ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$*"; }
  ko() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
  chk() { local name=$1; shift; if out=$("$@" 2>&1); then ok "$name"; else ko "$name: $(printf %s "$out" | tail -n 2 | tr '\n' ' ')"; fi; }
  has() { printf '%s\n' "$out" | grep -qx -- "$1"; }
  ms() { a=$(date +%s%N); "$@" >/dev/null 2>&1; b=$(date +%s%N); echo $(( (b - a) / 1000000 )); }
  med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  local SSH=("$C/ssh-mux") Q="qemu+ssh://$ALIAS/system?command=$C/ssh-mux"
  init_pid >/dev/null || { echo "not up"; return 1; }
  # 1. plain ssh and libvirt's ssh transports through virt-ssh-helper
  chk "ssh -i KEY -o UserKnownHostsFile=KH root@$PEER_IP virsh -c test:///default list" \
    ssh -i "$C/id_ed25519" -o IdentitiesOnly=yes -o UserKnownHostsFile="$C/known_hosts" -o StrictHostKeyChecking=yes \
      -o BatchMode=yes -o ControlPath=none "root@$PEER_IP" virsh -c test:///default list --all
  out=$("${SSH[@]}" "$ALIAS" hostname 2>&1) || true; [ "$out" = "$HN" ] && ok "remote hostname is $HN" || ko "remote hostname: $out"
  out=$(virsh -q -c "$Q" list --all --name 2>&1) || true; has "$VM2" && ok "qemu+ssh lists $VM2" || ko "qemu+ssh: $out"
  out=$(virsh -q -c "lxc+ssh://$ALIAS/system?command=$C/ssh" list --all --name 2>&1) || true; has "$LXC2" && ok "lxc+ssh lists $LXC2" || ko "lxc+ssh: $out"
  out=$(virsh -q -c "test+ssh://$ALIAS/default?command=$C/ssh" list --all --name 2>&1) || true; has test && ok "test+ssh lists test" || ko "test+ssh: $out"
  out=$(virsh -q -c "qemu+libssh://root@$PEER_IP/system?keyfile=$C/id_ed25519&known_hosts=$C/known_hosts&sshauth=privkey" list --all --name 2>&1) || true
  has "$VM2" && ok "qemu+libssh (known_hosts=) lists $VM2" || ko "qemu+libssh: $out"
  out=$(virsh -q -c "$Q" dumpxml "$VM2" 2>&1) || true
  printf '%s' "$out" | grep -q "<source bridge='$BR2'/>" && printf '%s' "$out" | grep -q org.qemu.guest_agent.0 &&
    ok "$VM2 has a NIC on $BR2 and a guest agent channel" || ko "$VM2 definition: $(printf '%s' "$out" | head -c 300)"
  out=$("${SSH[@]}" "$ALIAS" ip -4 -br addr show dev "$BR2" 2>&1) || true
  case $out in *" $BR2_IP/24"*) ok "$BR2 has $BR2_IP/24 on the second host" ;; *) ko "$BR2: $out" ;; esac
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    out=$(virsh -q -c qemu:///system list --all --name 2>&1) || true; has "$VM2" && ko "local libvirtd shows $VM2" || ok "local qemu:///system does not show $VM2"
  fi
  # 2. ControlMaster
  "${SSH[@]}" -O exit "$ALIAS" >/dev/null 2>&1 || true; sleep 0.2
  t=$(ms "${SSH[@]}" "$ALIAS" true); chk "ControlMaster running" "${SSH[@]}" -O check "$ALIAS"
  xs=(); for i in $(seq 10); do xs+=("$(ms "${SSH[@]}" "$ALIAS" true)"); done; printf '     first connection %s ms; multiplexed ssh true median %s ms\n' "$t" "$(med "${xs[@]}")"
  xs=(); for i in $(seq 5); do xs+=("$(ms virsh -c "$Q" list --all)"); done; printf '     virsh qemu+ssh list (mux) median %s ms' "$(med "${xs[@]}")"
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    xs=(); for i in $(seq 5); do xs+=("$(ms virsh -c qemu:///system list --all)"); done; printf '; local qemu:///system list median %s ms\n' "$(med "${xs[@]}")"
  else printf '; (no local libvirtd)\n'; fi
  # 3. remote unix sockets forwarded over the master
  chk "forward libvirt-sock" "${SSH[@]}" -O forward -L "$C/libvirt.sock:/run/libvirt/libvirt-sock" "$ALIAS"
  out=$(virsh -q -c "qemu+unix:///system?socket=$C/libvirt.sock" list --all --name 2>&1) || true; has "$VM2" && ok "qemu+unix via forwarded socket lists $VM2" || ko "forwarded: $out"
  if [ "$WITH_PODMAN" = 1 ]; then
    chk "forward podman.sock" "${SSH[@]}" -O forward -L "$C/podman.sock:/run/podman/podman.sock" "$ALIAS"
    out=$(curl -s --max-time 5 --unix-socket "$C/podman.sock" http://d/_ping 2>&1) || true; [ "$out" = OK ] && ok "podman _ping via forwarded socket" || ko "podman: $out"
  fi
  # 4. sshd killed: open master lives on, new connections refused; restarted: new connections work
  bash "$SELF" sshd-kill
  chk "mux over existing master with sshd listener killed" "${SSH[@]}" "$ALIAS" true
  if "$C/ssh" "$ALIAS" true >/dev/null 2>&1; then ko "fresh connection with sshd killed succeeded"; else ok "fresh connection refused while sshd is down"; fi
  bash "$SELF" sshd-start 2>/dev/null
  chk "fresh connection after sshd restart" "$C/ssh" "$ALIAS" true
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}

# up/down/sshd-*: one at a time (a test bringing the host up while `lab.sh up` does). The lock is on this
# script itself, so nothing is left behind.
case ${1:-} in
  up|down|sshd-kill|sshd-start) exec 9< "$SELF"; flock -w 300 9 || die "another ssh-host.sh up/down is still running" ;;
esac
case ${1:-} in
  _init) shift; ns_init "$@" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  selftest) cmd_selftest ;;
  exec) shift; nsx "$@" ;;
  sshd-kill) # the listener only: open connections (and ControlMasters) live on, as on a real host
    if ns_pidfile_alive sshd; then
      nsx sh -c 'kill -TERM $(cat /run/sshd.pid)'
      for _ in $(seq 50); do ns_pidfile_alive sshd || break; sleep 0.2; done
    fi ;;
  sshd-start) ensure_sshd ;;
  *) echo "usage: $0 up|down|status|env|selftest|exec CMD...|sshd-kill|sshd-start" >&2; exit 2 ;;
esac
