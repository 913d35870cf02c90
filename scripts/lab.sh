#!/usr/bin/env bash
# virtscope lab: real virtualization components for the integration tests, from Debian 12 packages only.
#
# Everything that carries network traffic lives in the network namespace "virtscope-lab":
#   bridge vsbr0 (host 10.77.0.1/24, no DHCP, no NAT, no route out), libvirtd + virtlogd, the podman API
#   service, the lxc container's veth and the guests. Tests talk to guests with `lab.sh exec-netns ...`.
#   (labct's lxc monitor stays in the host netns so lxc-info/lxc-ls work from there; its up hook moves the
#   veth into the lab netns: see lab/lxc-net-up.sh.)
#
#   labvm    libvirt qemu:///system: Debian cloud kernel + busybox initramfs (iperf3, fio, qemu-guest-agent),
#            direct kernel boot, virtio net/blk/serial/balloon/rng, guest agent channel, serial log file,
#            10.77.0.10. Domain type kvm only with vmx/svm + writable /dev/kvm, else qemu (TCG).
#   labvlxc  libvirt lxc:///system domain, rootfs = copy of the guest initramfs tree, 10.77.0.30
#   labct    lxc-tools busybox container, 10.77.0.20
#   labpod   podman container (NetworkMode none) from localhost/virtscope-busybox:latest, served by the
#            Docker-compatible API on /run/podman/podman.sock
#   vslab    libvirt network (forward mode='bridge') wrapping vsbr0
#   sshhost  a second host reachable only over SSH (10.81.0.2, alias sshhost-lab): lab/ssh-host.sh, brought
#            up by `up` and removed by `down`; `lab/ssh-host.sh status|env|exec|selftest` for the rest
#   lxd      a 3-member LXD cluster (member1-3, HTTPS 10.82.0.1-3:8443 inside netns vslxd-*, unix sockets
#            /var/lib/virtscope-lxd/N/unix.socket): lab/lxd-cluster.sh, brought up by `up` and removed by
#            `down`; `lab/lxd-cluster.sh status|env|lxc N ...|exec-hub ...|populate ...` for the rest
#
# Subcommands (all idempotent; run as root):
#   deps                 apt-get install the Debian packages (apt-get update once, only if something is missing)
#   daemons              users/groups, qemu.conf, netns, virtlogd + libvirtd inside the netns
#   build                (re)build the guest kernel + initramfs into the cache (apt-get download)
#   up                   daemons + build-if-needed + every component; verifies/repairs what is already up
#   down [--all]         remove every component, the podman service, the bridge, cgroup mounts, runtime
#                        files and the netns; --all also stops the libvirtd/virtlogd the lab started
#   status               state of each component (exit 0)
#   gexec DOMAIN 'script' [timeout_s]   run script with /bin/sh in the guest via qemu-guest-agent;
#                        stdout/stderr as the guest's, exit code = guest's (124 timeout, 125 agent error).
#                        'script' may be - to read it from stdin.
#   exec-netns CMD [ARG...]             run a command inside the lab netns (nsenter --net)
#
# Daemons (decision): the lab records, under $RUN/daemons, the daemons it started itself (pid + start time).
#   * The podman API service is always started by `up` and stopped by `down`.
#   * libvirtd/virtlogd: `daemons` reuses a running one that is already in the lab netns (a daemon the lab
#     did not start is never stopped by the lab). One running in another netns is restarted inside the lab
#     netns (it then counts as started by the lab).
#   * `down` leaves libvirtd/virtlogd running: they are shared infrastructure (tests use libvirt's test
#     driver through them without the lab), and stopping them would break those users for nothing.
#     `down --all` (CI teardown) also stops the libvirtd/virtlogd the lab started, so nothing is left.
#   * When a daemon is left running in the netns, `down` removes the netns's name (ip netns del) but the
#     kernel keeps the (empty, lo-only) namespace while that daemon lives; its inode is recorded and the
#     next `daemons`/`up` re-attaches it (ip netns attach) instead of restarting the daemon.
#
# Env: VIRTSCOPE_LAB_CACHE (/var/cache/virtscope-lab: debs, kernel, initramfs; also the guest disk while up,
#                            as O_DIRECT needs a real filesystem, not tmpfs)
#      VIRTSCOPE_LAB_RUN   (/run/virtscope-lab: runtime state, logs, daemon records)
#      VIRTSCOPE_LAB_VIRT=auto|kvm|qemu   VIRTSCOPE_LAB_GUEST_MEM=512 (MiB)   VIRTSCOPE_LAB_KEEP_LOGS=1
set -euo pipefail
umask 022
export LC_ALL=C
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
HELPERS=$(dirname -- "$SELF")/lab
CACHE=${VIRTSCOPE_LAB_CACHE:-/var/cache/virtscope-lab}
RUN=${VIRTSCOPE_LAB_RUN:-/run/virtscope-lab}
DSTATE=$RUN/daemons

NS=virtscope-lab            # NS and BR are also the defaults in lab/lxc-net-up.sh
NSPATH=/run/netns/$NS
BR=vsbr0
SUBNET=10.77.0
PFX=24
HOST_IP=$SUBNET.1
NETNAME=vslab
VM=labvm;     VM_IP=$SUBNET.10;   VM_MAC=52:54:00:4d:00:0a;   VM_IF=vs-labvm
CT=labct;     CT_IP=$SUBNET.20;   CT_MAC=52:54:00:4d:00:14;   CT_IF=vs-labct
VLXC=labvlxc; VLXC_IP=$SUBNET.30; VLXC_MAC=52:54:00:4d:00:1e; VLXC_IF=vs-labvlxc
POD=labpod
IMAGE=localhost/virtscope-busybox:latest
PODMAN_SOCK=/run/podman/podman.sock
LABEL=virtscope.lab
QEMU_URI=qemu:///system
LXC_URI=lxc:///system
GUEST_MEM=${VIRTSCOPE_LAB_GUEST_MEM:-512}
BUILD_VERSION=4          # bump when the initramfs recipe below changes
PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-lxc libvirt-clients qemu-system-x86
      lxc libxml2-utils busybox-static fio iperf3 iproute2 podman runc conmon catatonit containernetworking-plugins
      jq curl procps util-linux sysbench sockperf iputils-ping openssh-server openssh-client
      qemu-utils rsync    # snapshots tests: qemu-img/qemu-io; lxc-snapshot copies dir rootfs with rsync
      lxd lxd-client)     # the LXD cluster (lab/lxd-cluster.sh): its daemons run only in the lab's namespaces
LXD_UNITS=(lxd.service lxd.socket lxd-containers.service)

# ------------------------------------------------------------------------------------------ helpers
say() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
warn() { printf '[lab %s] WARNING: %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
have() { command -v "$1" >/dev/null 2>&1; }
in_ns() { nsenter --net="$NSPATH" -- "$@"; }
vq() { virsh -q -c "$QEMU_URI" "$@"; }
vl() { virsh -q -c "$LXC_URI" "$@"; }

TIMINGS=()
mark() { # name seconds
  TIMINGS+=("$(printf '%-24s %6ss' "$1" "$2")")
  say "  $1: $2 s"
}

# wait_for TIMEOUT_S CMD [ARG...]: retry CMD (quietly) every 0.2 s until it succeeds
wait_for() {
  local to=$1; shift
  local end; end=$(( $(date +%s) + to ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.2
  done
}

# paths end up in XML and lxc config files: allow only a safe character set
check_path() {
  case "$2" in
    /*) ;;
    *) die "$1 must be an absolute path (got '$2')" ;;
  esac
  [[ $2 != *[!A-Za-z0-9._/+-]* ]] || die "$1 may contain only A-Z a-z 0-9 . _ / + - (got '$2')"
}
check_path VIRTSCOPE_LAB_CACHE "$CACHE"
check_path VIRTSCOPE_LAB_RUN "$RUN"
[[ $GUEST_MEM =~ ^[0-9]+$ ]] && [ "$GUEST_MEM" -ge 128 ] || die "VIRTSCOPE_LAB_GUEST_MEM must be an integer >= 128 (MiB)"

need_root() { [ "$(id -u)" = 0 ] || die "lab.sh $1 must run as root"; }
need_cmds() { local c; for c in "$@"; do have "$c" || die "'$c' not found: run 'bash scripts/lab.sh deps' first"; done; }

# serialize the state-changing subcommands. flock -o: the lock is held by flock itself and not
# inherited by the daemons this script starts.
take_lock() {
  [ "${VIRTSCOPE_LAB_LOCKED:-}" = 1 ] && return 0
  need_root "$1"
  mkdir -p -- "$CACHE"
  exec env VIRTSCOPE_LAB_LOCKED=1 flock -o -w 900 -E 75 "$CACHE" bash "$SELF" "$@"
}

proc_start() { # start time (clock ticks since boot) of PID, to recognise a recorded pid
  local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }; set -- $s; printf '%s\n' "${20}"
}
pid_netns() { # inode of PID's network namespace
  local l; l=$(readlink "/proc/$1/ns/net" 2>/dev/null) || return 1
  l=${l#net:[}; printf '%s\n' "${l%]}"
}
ns_inode() { stat -L -c %i -- "$NSPATH" 2>/dev/null; }
netns_pids() { # pids whose netns inode is $1
  local p; for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$1]" ] && printf '%s\n' "${p#/proc/}"
  done; return 0
}
record_daemon() { mkdir -p -- "$DSTATE"; printf '%s %s\n' "$2" "$(proc_start "$2")" > "$DSTATE/$1.pid"; }
# recorded_pid NAME: the pid the lab started for NAME, if that very process is still alive
recorded_pid() {
  local f=$DSTATE/$1.pid pid st
  [ -f "$f" ] || return 1
  read -r pid st < "$f" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(proc_start "$pid" 2>/dev/null)" = "$st" ] || { rm -f -- "$f"; return 1; }
  printf '%s\n' "$pid"
}
daemon_pid() { # pid of the running NAME (libvirtd/virtlogd) from the pidfile it writes as root
  local pid=""
  [ -r "/run/$1.pid" ] || return 1
  read -r pid < "/run/$1.pid" || [ -n "$pid" ] || return 1   # libvirt writes no trailing newline
  [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
  printf '%s\n' "$pid"
}
stop_pid() { # PID NAME: SIGTERM, wait up to 20 s, then SIGKILL
  local pid=$1 name=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.2; done
  warn "$name (pid $pid) ignored SIGTERM for 20 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 25); do [ -d "/proc/$pid" ] || return 0; sleep 0.2; done
  die "$name (pid $pid) did not exit"
}

virt_type() {
  case "${VIRTSCOPE_LAB_VIRT:-auto}" in
    kvm|qemu) printf '%s\n' "$VIRTSCOPE_LAB_VIRT" ;;
    auto)
      # /dev/kvm alone is not enough: on a PVM host (kvm_pvm, no vmx/svm) a stock kernel dies in
      # KVM's instruction emulator ("KVM internal error. Suberror: 1").
      if [ -c /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm; else echo qemu; fi ;;
    *) die "VIRTSCOPE_LAB_VIRT must be auto, kvm or qemu" ;;
  esac
}

# ------------------------------------------------------------------------------------------ deps
cmd_deps() {
  need_root deps
  local p missing=()
  for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then say "deps: all ${#PKGS[@]} packages installed"; return 0; fi
  say "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No package may start a daemon in the host's namespaces (lxd's would, and would reach the internet
  # for its instance types): a policy-rc.d that refuses, unless the machine has its own
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# virtscope lab.sh deps: no daemon starts while packages are installed\nexit 101\n' > "$policy"
    chmod 0755 "$policy"; ours=1
  fi
  local rc=0
  apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
  [ "$ours" = 0 ] || rm -f -- "$policy"
  [ "$rc" = 0 ] || die "apt-get failed ($rc)"
  lxd_never_starts
}
# lxd's units and init scripts would start a daemon in the host's namespaces at the next boot (or
# socket activation): masked and disabled; the lab starts its own daemons (lab/lxd-cluster.sh)
lxd_never_starts() {
  local u
  [ -e /lib/systemd/system/lxd.service ] || return 0
  mkdir -p /etc/systemd/system
  for u in "${LXD_UNITS[@]}"; do ln -sfn /dev/null "/etc/systemd/system/$u"; done
  for u in lxd lxd-containers; do [ ! -x "/etc/init.d/$u" ] || update-rc.d "$u" disable >/dev/null 2>&1 || true; done
  say "deps: lxd's own units masked (${LXD_UNITS[*]}) and init scripts disabled"
}

# ------------------------------------------------------------------------------------------ daemons
CONF_CHANGED=0
# conf_set FILE KEY VALUE: make FILE contain exactly one active "KEY = VALUE" (libvirt conf syntax)
conf_set() {
  local f=$1 k=$2 v=$3 tmp
  mkdir -p -- "$(dirname -- "$f")"
  [ -e "$f" ] || : > "$f"
  tmp=$(mktemp "$f.lab.XXXXXX")
  awk -v k="$k" -v v="$v" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    {
      s = trim($0)
      if (index(s, k) == 1 && substr(s, length(k) + 1) ~ /^[ \t]*=/) {
        if (!done) { val = substr(s, index(s, "=") + 1); print (trim(val) == v ? $0 : k " = " v); done = 1 }
        next
      }
      print
    }
    END { if (!done) print k " = " v }' "$f" > "$tmp"
  if cmp -s -- "$f" "$tmp"; then rm -f -- "$tmp"
  else chmod --reference="$f" -- "$tmp"; mv -f -- "$tmp" "$f"; CONF_CHANGED=1; say "set $k = $v in $f"; fi
}

host_config() {
  getent group kvm >/dev/null || groupadd -r kvm
  getent group libvirt >/dev/null || groupadd -r libvirt
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  id -u libvirt-qemu >/dev/null 2>&1 ||
    useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  conf_set /etc/libvirt/qemu.conf user '"root"'
  conf_set /etc/libvirt/qemu.conf group '"root"'
  conf_set /etc/libvirt/qemu.conf dynamic_ownership 0
  mkdir -p /var/log/libvirt /var/log/libvirt/qemu /var/lib/libvirt /run/libvirt "$RUN"
}

ensure_netns() {
  if [ ! -e "$NSPATH" ]; then
    local ino="" d pid
    [ -f "$DSTATE/netns" ] && read -r ino < "$DSTATE/netns"
    if [ -n "$ino" ]; then # a daemon left running by `down` still holds the lab's namespace: name it again
      for d in libvirtd virtlogd; do
        pid=$(daemon_pid "$d") || continue
        if [ -n "$pid" ] && [ "$(pid_netns "$pid")" = "$ino" ]; then
          ip netns attach "$NS" "$pid"
          say "netns $NS: re-attached net:[$ino] held by $d (pid $pid)"
          break
        fi
      done
    fi
    if [ ! -e "$NSPATH" ]; then ip netns add "$NS"; say "netns $NS: created"; fi
  fi
  mkdir -p -- "$DSTATE"
  ns_inode > "$DSTATE/netns"
  in_ns ip link set lo up
}

# ensure_daemon NAME: NAME (virtlogd|libvirtd) running inside the lab netns
ensure_daemon() {
  local name=$1 pid ino want out
  want=$(ns_inode)
  pid=$(daemon_pid "$name") || true
  if [ -n "$pid" ]; then
    ino=$(pid_netns "$pid") || ino=""
    if [ "$ino" = "$want" ]; then
      if [ "$(recorded_pid "$name" || true)" = "$pid" ]; then
        say "$name: running (pid $pid, started by the lab) in netns $NS"
      else
        say "$name: running (pid $pid, started outside the lab) in netns $NS: using it"
      fi
      return 0
    fi
    say "$name (pid $pid) runs in net:[$ino], not in netns $NS (net:[$want]): restarting it inside $NS"
    stop_pid "$pid" "$name"
    rm -f -- "$DSTATE/$name.pid"
  fi
  out=$(mktemp)
  if ! nsenter --net="$NSPATH" -- "$name" -d < /dev/null > "$out" 2>&1; then
    cat -- "$out" >&2; rm -f -- "$out"
    die "$name did not start: see /var/log/libvirt/$name.log"
  fi
  rm -f -- "$out"
  case $name in
    virtlogd) wait_for 20 test -S /run/libvirt/virtlogd-sock ;;
    libvirtd) wait_for 30 virsh -c "$QEMU_URI" version ;;
  esac || die "$name did not start: see /var/log/libvirt/$name.log"
  pid=$(daemon_pid "$name") || true
  [ -n "$pid" ] || die "$name did not start: see /var/log/libvirt/$name.log"
  record_daemon "$name" "$pid"
  say "$name: started (pid $pid) in netns $NS"
}

cmd_daemons() {
  need_root daemons
  need_cmds libvirtd virtlogd virsh nsenter ip
  host_config
  ensure_netns
  ensure_daemon virtlogd
  local before; before=$(daemon_pid libvirtd || true)
  ensure_daemon libvirtd
  if [ "$CONF_CHANGED" = 1 ] && [ -n "$before" ] && [ "$(daemon_pid libvirtd || true)" = "$before" ]; then
    if [ "$(recorded_pid libvirtd || true)" = "$before" ]; then
      say "libvirtd: qemu.conf changed: restarting the lab's libvirtd"
      stop_pid "$before" libvirtd; rm -f -- "$DSTATE/libvirtd.pid"; ensure_daemon libvirtd
    else
      warn "qemu.conf changed but libvirtd (pid $before) was not started by the lab: restart it yourself"
    fi
  fi
}

# ------------------------------------------------------------------------------------------ cgroups
# libvirt 9.0's libvirt_lxc fails on a cgroup v1/v2 hybrid host whose cgroup2 (/sys/fs/cgroup/unified)
# still owns a controller (here hugetlb): "virCgroupV2BindMount: Unable to create directory
# /sys/fs/cgroup/unified". Binding the leftover controllers to v1 hierarchies empties
# unified/cgroup.controllers; `down` undoes it.
cgroup_fix_up() {
  local u=/sys/fs/cgroup/unified c
  [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && return 0   # pure v2: nothing to do
  mountpoint -q "$u" || return 0
  for c in $(cat "$u/cgroup.controllers"); do
    [[ $c =~ ^[a-z_]+$ ]] || continue
    mkdir -p "/sys/fs/cgroup/$c"
    if mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"; then
      printf '%s\n' "$c" >> "$RUN/cgroup-v1-mounted"; say "cgroup: bound $c to a v1 hierarchy (for libvirt-lxc)"
    else
      warn "could not bind cgroup controller $c to v1: libvirt-lxc will fail"
    fi
  done
}
cgroup_fix_down() {
  local c
  [ -f "$RUN/cgroup-v1-mounted" ] || return 0
  while read -r c; do
    [[ $c =~ ^[a-z_]+$ ]] || continue
    mountpoint -q "/sys/fs/cgroup/$c" || continue
    # lxc leaves lxc.pivot behind; the v1 hierarchy only goes away (controller back to v2) if it has no
    # child cgroups when it is unmounted, and cgroup removal is asynchronous: wait for it
    find "/sys/fs/cgroup/$c" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
    for _ in $(seq 50); do [ "$(awk -v c="$c" '$1 == c { print $3 }' /proc/cgroups)" = 1 ] && break; sleep 0.1; done
    if umount "/sys/fs/cgroup/$c"; then rmdir "/sys/fs/cgroup/$c" 2>/dev/null || true
    else warn "could not unmount /sys/fs/cgroup/$c"; fi
  done < "$RUN/cgroup-v1-mounted"
  rm -f -- "$RUN/cgroup-v1-mounted"
}

# ------------------------------------------------------------------------------------------ build
GUEST=$CACHE/guest
guest_stamp() {
  printf 'v%s\n' "$BUILD_VERSION"
  cat -- "$HELPERS/guest-init.sh" "$HELPERS/guest-shutdown.sh" | sha256sum | cut -d' ' -f1
}
guest_built() {
  [ -f "$GUEST/vmlinuz" ] && [ -f "$GUEST/initrd.cpio" ] && [ -d "$GUEST/rootfs" ] &&
    [ "$(cat "$GUEST/stamp" 2>/dev/null)" = "$(guest_stamp)" ]
}
# fetch_deb PKG: PKG's candidate .deb in $CACHE/deb (kept: a rebuild does not download again)
fetch_deb() {
  local pkg=$1 ver have_deb tmp
  ver=$(apt-cache show --no-all-versions -- "$pkg" 2>/dev/null | awk '/^Version:/ { print $2; exit }') || true
  have_deb=$(ls -- "$CACHE/deb/${pkg}_"*.deb 2>/dev/null | head -n 1) || true
  if [ -n "$have_deb" ] && { [ -z "$ver" ] || [ "$(dpkg-deb -f "$have_deb" Version)" = "$ver" ]; }; then
    printf '%s\n' "$have_deb"; return 0
  fi
  [ -n "$ver" ] || die "apt does not know $pkg (run 'bash scripts/lab.sh deps' first)"
  tmp=$(mktemp -d "$CACHE/deb/dl.XXXXXX")
  (cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v 'Download is performed unsandboxed' >&2) || true
  have_deb=$(ls -- "$tmp/${pkg}_"*.deb 2>/dev/null | head -n 1) || true
  [ -n "$have_deb" ] || { rm -rf -- "$tmp"; die "apt-get download $pkg failed"; }
  rm -f -- "$CACHE/deb/${pkg}_"*.deb
  mv -- "$have_deb" "$CACHE/deb/"; rm -rf -- "$tmp"
  ls -- "$CACHE/deb/${pkg}_"*.deb | head -n 1
}

cmd_build() {
  need_root build
  need_cmds apt-get apt-cache dpkg-deb busybox ldd sha256sum
  local t0 kpkg kdeb qdeb kver G R M m lib order=""
  t0=$(now)
  mkdir -p -- "$CACHE/deb"
  apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || ls -- "$CACHE/deb/linux-image-"*.deb >/dev/null 2>&1 ||
    { say "build: apt lists missing: apt-get update"; apt-get update -q; }
  kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }') || true
  if [ -z "$kpkg" ]; then # offline: use the kernel already in the cache
    kdeb=$(ls -- "$CACHE/deb/linux-image-"*.deb 2>/dev/null | head -n 1) || true
    [ -n "$kdeb" ] || die "cannot resolve linux-image-cloud-amd64 (apt lists?)"
  else
    kdeb=$(fetch_deb "$kpkg")
    for lib in "$CACHE/deb/linux-image-"*.deb; do [ "$lib" = "$kdeb" ] || rm -f -- "$lib"; done   # older kernels
  fi
  qdeb=$(fetch_deb qemu-guest-agent)
  G=$CACHE/guest.new; R=$G/rootfs
  rm -rf -- "$G"; mkdir -p -- "$G"
  dpkg-deb -x "$kdeb" "$G/k"
  dpkg-deb -x "$qdeb" "$G/qga"
  kver=$(ls -- "$G/k/lib/modules")
  [ "$(printf '%s\n' "$kver" | wc -l)" = 1 ] || die "unexpected modules dirs in $kdeb: $kver"
  cp -- "$G/k/boot/vmlinuz-$kver" "$G/vmlinuz"
  M=$G/k/lib/modules/$kver
  busybox depmod -b "$G/k" "$kver"            # the .deb has no modules.dep; kmod is not needed
  mkdir -p -- "$R"/{bin,sbin,usr/bin,usr/sbin,etc,lib/modules,lib64,proc,sys,dev,tmp,run,root,mnt,var}
  chmod 1777 "$R/tmp"
  ln -s ../run "$R/var/run"
  cp -- "$(command -v busybox)" "$R/bin/busybox"
  for m in $("$R/bin/busybox" --list); do [ -e "$R/bin/$m" ] || ln -s busybox "$R/bin/$m"; done
  install -m 0755 -- "$HELPERS/guest-init.sh" "$R/init"
  install -m 0755 -- "$HELPERS/guest-shutdown.sh" "$R/sbin/shutdown"
  # virtio modules and their dependencies, in load order
  add_mod() {
    local d
    case " $order " in *" $1 "*) return 0 ;; esac
    for d in $(awk -F': ' -v m="$1" '$1 == m { print $2 }' "$M/modules.dep"); do add_mod "$d"; done
    order="$order $1"
  }
  for m in virtio_pci virtio_net virtio_blk virtio_console virtio_balloon virtio-rng; do
    lib=$(awk -F: -v n="/$m.ko" 'index($1, n) && index($1, n) == length($1) - length(n) + 1 { print $1; exit }' "$M/modules.dep")
    [ -n "$lib" ] || die "kernel $kver has no module $m.ko"
    add_mod "$lib"
  done
  for m in $order; do cp -- "$M/$m" "$R/lib/modules/"; basename -- "$m"; done > "$R/etc/lab-modules"
  # the benchmark suites' tools (virtscope's Run Benchmark): iperf3, fio, sockperf, sysbench
  cp -- /usr/bin/iperf3 /usr/bin/fio /usr/bin/sockperf /usr/bin/sysbench "$R/usr/bin/"
  cp -- "$G/qga/usr/sbin/qemu-ga" "$R/usr/sbin/"
  if ldd /usr/bin/iperf3 /usr/bin/fio /usr/bin/sockperf /usr/bin/sysbench "$G/qga/usr/sbin/qemu-ga" | grep -q 'not found'; then
    ldd "$G/qga/usr/sbin/qemu-ga" | grep 'not found' >&2
    die "libraries of iperf3/fio/qemu-ga are missing on this host (run 'bash scripts/lab.sh deps')"
  fi
  for lib in $(ldd /usr/bin/iperf3 /usr/bin/fio /usr/bin/sockperf /usr/bin/sysbench "$G/qga/usr/sbin/qemu-ga" |
               awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u); do
    mkdir -p -- "$R$(dirname -- "$lib")"; cp -L -- "$lib" "$R$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
  printf 'root:x:0:\n' > "$R/etc/group"
  printf 'kernel=%s\nqemu-guest-agent=%s\n' "$kver" "$(dpkg-deb -f "$qdeb" Version)" > "$R/etc/lab-build"
  (cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null) > "$G/initrd.cpio"
  rm -rf -- "$G/k" "$G/qga"
  printf '%s\n' "$kver" > "$G/kernel-version"
  guest_stamp > "$G/stamp"
  rm -rf -- "$CACHE/guest.old"
  [ ! -d "$GUEST" ] || mv -- "$GUEST" "$CACHE/guest.old"
  mv -- "$G" "$GUEST"
  rm -rf -- "$CACHE/guest.old"
  mark build "$(since "$t0")"
  say "build: kernel $kver, initramfs $(du -h "$GUEST/initrd.cpio" | cut -f1), modules: $(tr '\n' ' ' < "$GUEST/rootfs/etc/lab-modules")"
}

# ------------------------------------------------------------------------------------------ bridge + network
ensure_bridge() {
  in_ns ip link show dev "$BR" >/dev/null 2>&1 || in_ns ip link add name "$BR" type bridge forward_delay 0
  in_ns ip addr replace "$HOST_IP/$PFX" dev "$BR"
  in_ns ip link set dev "$BR" up
}
ensure_network() {
  if ! vq net-info "$NETNAME" >/dev/null 2>&1; then
    printf "<network>\n  <name>%s</name>\n  <forward mode='bridge'/>\n  <bridge name='%s'/>\n</network>\n" \
      "$NETNAME" "$BR" > "$RUN/$NETNAME.xml"
    vq net-define "$RUN/$NETNAME.xml" >/dev/null
  fi
  [ "$(vq net-info "$NETNAME" | awk '/^Active:/ { print $2 }')" = yes ] || vq net-start "$NETNAME" >/dev/null
}
# on_bridge IFNAME: IFNAME exists in the lab netns and is a port of the bridge
on_bridge() { in_ns ip -o link show dev "$1" 2>/dev/null | grep -q " master $BR "; }

# ------------------------------------------------------------------------------------------ labvm
vm_disk_driver() { # cache='none' needs O_DIRECT (not on tmpfs / some overlayfs)
  if dd if=/dev/zero of="$1" bs=4k count=1 oflag=direct conv=notrunc status=none 2>/dev/null; then
    echo "cache='none' io='native'"
  else
    echo "cache='writeback' io='threads'"
  fi
}
# uuid_xml VIRSH_FN NAME: <uuid> element of an already defined domain (redefining needs the same uuid)
uuid_xml() {
  local u; u=$("$1" domuuid "$2" 2>/dev/null) || return 0
  [[ $u =~ ^[0-9a-f-]{36}$ ]] && printf '<uuid>%s</uuid>' "$u"
  return 0
}
vm_xml() { # virt_type disk_driver
  local vt=$1 cpu=""
  [ "$vt" = kvm ] && cpu="<cpu mode='host-passthrough'/>"
  cat <<EOF
<domain type='$vt'>
  <name>$VM</name>
  $(uuid_xml vq "$VM")
  <description>virtscope lab guest (scripts/lab.sh)</description>
  <memory unit='MiB'>$GUEST_MEM</memory>
  <currentMemory unit='MiB'>$GUEST_MEM</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinuz</kernel>
    <initrd>$GUEST/initrd.cpio</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 lab.ip=$VM_IP/$PFX lab.hostname=$VM</cmdline>
  </os>
  <features><acpi/></features>
  $cpu
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' $2/>
      <source file='$CACHE/$VM-disk.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='$NETNAME'/>
      <mac address='$VM_MAC'/>
      <target dev='$VM_IF'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <log file='$RUN/$VM-serial.log' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='virtio'><stats period='2'/></memballoon>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
EOF
}
dom_state() { "$@" domstate 2>/dev/null | head -n 1 || true; }
agent_ping() { vq qemu-agent-command --timeout "${1:-3}" "$VM" '{"execute":"guest-ping"}' >/dev/null 2>&1; }

VM_STARTED=0
ensure_vm() {
  local vt state disk drv
  vt=$(virt_type)
  state=$(vq domstate "$VM" 2>/dev/null | head -n 1) || state=""
  case $state in
    running)
      if on_bridge "$VM_IF"; then say "$VM: running"; return 0; fi
      warn "$VM runs but its NIC $VM_IF is not on $BR in netns $NS: restarting it"
      vq destroy "$VM" >/dev/null ;;
    paused) vq resume "$VM" >/dev/null; say "$VM: resumed"; return 0 ;;
    "") ;;
    "shut off") ;;
    *) vq destroy "$VM" >/dev/null 2>&1 || true ;;
  esac
  disk=$CACHE/$VM-disk.raw
  if [ ! -f "$disk" ]; then # really written (not sparse), so O_DIRECT reads in the guest hit the disk
    dd if=/dev/zero of="$disk.tmp" bs=1M count=128 status=none conv=fsync
    mv -- "$disk.tmp" "$disk"
  fi
  drv=$(vm_disk_driver "$disk")
  vm_xml "$vt" "$drv" > "$RUN/$VM.xml"
  vq define "$RUN/$VM.xml" >/dev/null
  vq start "$VM" >/dev/null || die "$VM did not start: see /var/log/libvirt/qemu/$VM.log"
  VM_STARTED=1
  say "$VM: started (domain type $vt)"
}
vm_fail() {
  warn "$1"
  [ -f "$RUN/$VM-serial.log" ] && tail -n 25 -- "$RUN/$VM-serial.log" | tr -d '\r' >&2
  die "$1 (serial log: $RUN/$VM-serial.log, qemu log: /var/log/libvirt/qemu/$VM.log)"
}
wait_vm_ready() { # T0 of `virsh start`
  local t0=$1 to=300
  [ "$(virt_type)" = kvm ] && to=120
  if [ "$VM_STARTED" = 1 ]; then
    wait_for "$to" grep -q 'LAB: init start' "$RUN/$VM-serial.log" || vm_fail "$VM: guest init never ran"
    mark vm_start_to_init "$(since "$t0")"
    wait_for "$to" grep -q 'LAB: READY' "$RUN/$VM-serial.log" || vm_fail "$VM: guest init did not finish"
    mark vm_start_to_ready "$(since "$t0")"
  fi
  wait_for "$to" agent_ping 1 || vm_fail "$VM: qemu-guest-agent does not answer guest-ping"
  [ "$VM_STARTED" = 1 ] && mark vm_start_to_agent "$(since "$t0")"
  wait_for 60 in_ns busybox ping -c 1 -W 1 "$VM_IP" || vm_fail "$VM: no ping reply from $VM_IP inside netns $NS"
  [ "$VM_STARTED" = 1 ] && mark vm_start_to_ping "$(since "$t0")"
  return 0
}

# ------------------------------------------------------------------------------------------ labvlxc
vlxc_xml() {
  cat <<EOF
<domain type='lxc'>
  <name>$VLXC</name>
  $(uuid_xml vl "$VLXC")
  <description>virtscope lab libvirt-LXC domain (scripts/lab.sh)</description>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/lab-init</init>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/lib/libvirt/libvirt_lxc</emulator>
    <filesystem type='mount'><source dir='$RUN/$VLXC-root'/><target dir='/'/></filesystem>
    <interface type='network'>
      <source network='$NETNAME'/>
      <mac address='$VLXC_MAC'/>
      <ip address='$VLXC_IP' prefix='$PFX'/>
      <target dev='$VLXC_IF'/>
    </interface>
    <console type='pty'/>
  </devices>
</domain>
EOF
}
vlxc_ready() { vl lxc-enter-namespace "$VLXC" --noseclabel /bin/busybox netstat -ltn 2>/dev/null | grep -q ':5201 '; }
vlxc_cleanup_leftovers() { # libvirt 9.0 leaves these behind after destroy/undefine
  rm -rf -- "/run/libvirt/lxc/$VLXC.dev" "/run/libvirt/lxc/$VLXC.devpts" "/run/libvirt/lxc/$VLXC.fuse" \
            "/run/libvirt/lxc/$VLXC.sock"
}
ensure_vlxc() {
  local t0 state; t0=$(now)
  state=$(vl domstate "$VLXC" 2>/dev/null | head -n 1) || state=""
  if [ "$state" = running ]; then
    if on_bridge "$VLXC_IF"; then say "$VLXC: running"; return 0; fi
    warn "$VLXC runs but its veth $VLXC_IF is not on $BR in netns $NS: restarting it"
  fi
  vl destroy "$VLXC" >/dev/null 2>&1 || true
  vlxc_cleanup_leftovers
  if [ ! -x "$RUN/$VLXC-root/lab-init" ]; then
    rm -rf -- "$RUN/$VLXC-root"
    cp -a -- "$GUEST/rootfs" "$RUN/$VLXC-root"
    rm -f -- "$RUN/$VLXC-root/init"
    install -m 0755 -- "$HELPERS/vlxc-init.sh" "$RUN/$VLXC-root/lab-init"
  fi
  vlxc_xml > "$RUN/$VLXC.xml"
  vl define "$RUN/$VLXC.xml" >/dev/null
  vl start "$VLXC" >/dev/null || die "$VLXC did not start: see /var/log/libvirt/lxc/$VLXC.log"
  wait_for 30 vlxc_ready || die "$VLXC: iperf3 server not listening after 30 s (see /var/log/libvirt/lxc/$VLXC.log)"
  wait_for 20 in_ns busybox ping -c 1 -W 1 "$VLXC_IP" || die "$VLXC: no ping reply from $VLXC_IP inside netns $NS"
  mark libvirt_lxc_up "$(since "$t0")"
}

# ------------------------------------------------------------------------------------------ labct
ct_state() { lxc-info -n "$CT" -s -H 2>/dev/null || true; }
ct_ready() { lxc-attach -n "$CT" --clear-env -- /bin/busybox netstat -ltn 2>/dev/null | grep -q ':5201 '; }
ensure_ct() {
  local t0 state rootfs lxcpath; t0=$(now)
  state=$(ct_state)
  if [ "$state" = RUNNING ]; then
    if on_bridge "$CT_IF"; then say "$CT: running"; return 0; fi
    warn "$CT runs but its veth $CT_IF is not on $BR in netns $NS: restarting it"
    lxc-stop -n "$CT" -k >/dev/null 2>&1 || true
  fi
  lxcpath=$(lxc-config lxc.lxcpath)
  check_path lxc.lxcpath "$lxcpath"
  if ! lxc-info -n "$CT" >/dev/null 2>&1; then
    # no lxc.net.0.link: the up hook moves the veth into the lab netns and onto the bridge
    cat > "$RUN/$CT.conf" <<EOF
lxc.net.0.type = veth
lxc.net.0.script.up = $lxcpath/$CT/lab-net-up
lxc.net.0.flags = up
lxc.net.0.name = eth0
lxc.net.0.hwaddr = $CT_MAC
lxc.net.0.veth.pair = $CT_IF
lxc.net.0.ipv4.address = $CT_IP/$PFX
lxc.apparmor.profile = unconfined
EOF
    lxc-create -n "$CT" -t busybox -f "$RUN/$CT.conf" >/dev/null 2>"$RUN/$CT-create.err" ||
      { cat -- "$RUN/$CT-create.err" >&2; die "lxc-create $CT failed"; }
    install -m 0755 -- "$HELPERS/lxc-net-up.sh" "$lxcpath/$CT/lab-net-up"
    rootfs=$lxcpath/$CT/rootfs
    mkdir -p -- "$rootfs/usr/local/bin"
    cp -- /usr/bin/iperf3 /usr/bin/fio /usr/bin/sockperf /usr/bin/sysbench "$rootfs/usr/local/bin/"   # libraries: the template bind-mounts /lib, /usr/lib
    # the template's rcS runs udhcpc, which flushes the static address: replace it
    printf '#!/bin/sh\n/bin/syslogd\n/bin/mount -a\n/usr/local/bin/iperf3 -s -D --logfile /tmp/iperf3-server.log\n' > "$rootfs/etc/init.d/rcS"
    chmod 0744 "$rootfs/etc/init.d/rcS"
  fi
  # lxc-start runs in the host netns (see scripts/lab/lxc-net-up.sh); its up hook moves the veth into the lab netns
  lxc-start -n "$CT" -l INFO -o "$RUN/$CT.log" < /dev/null > /dev/null 2> "$RUN/$CT-start.err" ||
    { cat -- "$RUN/$CT-start.err" >&2; tail -n 20 -- "$RUN/$CT.log" >&2 || true; die "lxc-start $CT failed (log: $RUN/$CT.log)"; }
  wait_for 30 ct_ready || die "$CT: iperf3 server not listening after 30 s (log: $RUN/$CT.log)"
  wait_for 20 in_ns busybox ping -c 1 -W 1 "$CT_IP" || die "$CT: no ping reply from $CT_IP inside netns $NS"
  ct_blkio_rule
  mark lxc_container_up "$(since "$t0")"
}
ct_blkio_rule() { # blkio v1 counters stay 0 on this kernel unless a throttle rule exists: add a no-op one
  local cg=/sys/fs/cgroup/blkio/lxc.payload.$CT src bn dev
  [ -d "$cg" ] || return 0
  src=$(df --output=source "$(lxc-config lxc.lxcpath)/$CT/rootfs" | tail -n 1)
  bn=$(basename -- "$src")
  [ -e "/sys/class/block/$bn" ] || return 0
  [ -f "/sys/class/block/$bn/partition" ] && bn=$(basename -- "$(readlink -f "/sys/class/block/$bn/..")")
  dev=$(cat "/sys/class/block/$bn/dev" 2>/dev/null) || return 0
  echo "$dev 1000000000" > "$cg/blkio.throttle.read_iops_device" 2>/dev/null || true
  echo "$dev 1000000000" > "$cg/blkio.throttle.write_iops_device" 2>/dev/null || true
}

# ------------------------------------------------------------------------------------------ podman
# container ulimits: podman's root defaults (nofile/nproc 1048576+) exceed what runc may set here
PODMAN_NOFILE=20000
PODMAN_NPROC=32768
podman_conf() { # containers.conf for the lab's podman (service + CLI): runc, cgroupfs, no journald
  local nofile=$PODMAN_NOFILE nproc=$PODMAN_NPROC h
  h=$(ulimit -Hn); if [ "$h" != unlimited ] && [ "$h" -lt "$nofile" ]; then nofile=$h; fi
  h=$(ulimit -Hu); if [ "$h" != unlimited ] && [ "$h" -lt "$nproc" ]; then nproc=$h; fi
  PODMAN_NOFILE=$nofile; PODMAN_NPROC=$nproc
  mkdir -p -- "$RUN"
  cat > "$RUN/containers.conf" <<EOF
# written by scripts/lab.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}
PODMAN_FLAGS=(--runtime runc --cgroup-manager cgroupfs --events-backend file)
lab_podman() {
  [ -f "$RUN/containers.conf" ] || podman_conf
  if [ -e "$NSPATH" ]; then
    CONTAINERS_CONF=$RUN/containers.conf nsenter --net="$NSPATH" -- podman "${PODMAN_FLAGS[@]}" "$@"
  else
    CONTAINERS_CONF=$RUN/containers.conf podman "${PODMAN_FLAGS[@]}" "$@"
  fi
}
podman_ping() { [ "$(curl -sf --max-time 3 --unix-socket "$PODMAN_SOCK" http://d/_ping 2>/dev/null)" = OK ]; }
ensure_podman_service() {
  local pid t0; t0=$(now)
  pid=$(recorded_pid podman-service) || pid=""
  if [ -n "$pid" ]; then
    if [ "$(pid_netns "$pid")" = "$(ns_inode)" ] && wait_for 10 podman_ping; then say "podman service: running (pid $pid)"; return 0; fi
    warn "podman service (pid $pid) is not answering on $PODMAN_SOCK or not in netns $NS: restarting it"
    stop_pid "$pid" "podman service"; rm -f -- "$DSTATE/podman-service.pid"
  fi
  if podman_ping; then
    die "something not started by the lab already serves $PODMAN_SOCK (podman.socket? docker?): stop it first"
  fi
  podman_conf
  mkdir -p -- "$(dirname -- "$PODMAN_SOCK")"
  rm -f -- "$PODMAN_SOCK"
  (
    cd /
    ulimit -n "$PODMAN_NOFILE" 2>/dev/null || true
    export CONTAINERS_CONF=$RUN/containers.conf
    exec setsid nsenter --net="$NSPATH" -- podman "${PODMAN_FLAGS[@]}" system service --time=0 "unix://$PODMAN_SOCK"
  ) < /dev/null >> "$RUN/podman-service.log" 2>&1 &
  pid=$!
  record_daemon podman-service "$pid"
  wait_for 30 podman_ping || { tail -n 20 -- "$RUN/podman-service.log" >&2; die "podman service did not start: see $RUN/podman-service.log"; }
  mark podman_service "$(since "$t0")"
}
ensure_podman_image() {
  local t0 d; t0=$(now)
  lab_podman image exists "$IMAGE" && return 0
  d=$(mktemp -d "$RUN/image.XXXXXX")
  mkdir -p -- "$d/root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,var}
  chmod 1777 "$d/root/tmp"
  cp -- "$(command -v busybox)" "$d/root/bin/busybox"
  local a; for a in $("$d/root/bin/busybox" --list); do [ -e "$d/root/bin/$a" ] || ln -s busybox "$d/root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$d/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/root/etc/group"
  tar -C "$d/root" --numeric-owner -cf "$d/rootfs.tar" .
  # default command: a shell that exits on SIGTERM (PID 1 ignores signals it has no handler for)
  lab_podman import --quiet --message 'virtscope lab busybox' \
    --change 'CMD ["/bin/sh","-c","trap \"exit 0\" TERM INT; sleep 2147483647 & wait"]' \
    --change "LABEL $LABEL=1" "$d/rootfs.tar" "$IMAGE" >/dev/null
  rm -rf -- "$d"
  mark podman_image "$(since "$t0")"
}
ensure_podman_container() {
  local t0 state init=(); t0=$(now)
  state=$(lab_podman container inspect -f '{{.State.Status}}' "$POD" 2>/dev/null) || state=""
  if [ "$state" = running ] || [ "$state" = paused ]; then
    # podman's database outlives its processes: after the machine's processes were killed (a session
    # ended) it still says "running". Trust it only if the container's process is alive.
    local pid; pid=$(lab_podman container inspect -f '{{.State.Pid}}' "$POD" 2>/dev/null) || pid=0
    if [ "${pid:-0}" -gt 0 ] 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
      if [ "$state" = paused ]; then lab_podman unpause "$POD" >/dev/null; say "$POD: unpaused"; else say "$POD: running"; fi
      return 0
    fi
    warn "$POD: podman says $state but its process ${pid:-?} is gone (stale state): recreating it"
    lab_podman rm -f "$POD" >/dev/null 2>&1 || true
    state=""
  fi
  if [ -z "$state" ]; then
    [ -x /usr/libexec/podman/catatonit ] && init=(--init)
    lab_podman create --name "$POD" --network none "${init[@]}" --label "$LABEL=1" --stop-timeout 5 \
      "$IMAGE" sleep 2147483647 >/dev/null
  fi
  lab_podman start "$POD" >/dev/null
  mark podman_container "$(since "$t0")"
}

# ------------------------------------------------------------------------------------------ up
cmd_up() {
  need_root up
  need_cmds virsh libvirtd virtlogd lxc-create lxc-start podman runc busybox curl jq nsenter ip sshd ssh unshare
  local T0 t vt; T0=$(now)
  mkdir -p -- "$RUN"
  if ! guest_built; then cmd_build; fi
  t=$(now); cmd_daemons; mark daemons "$(since "$t")"
  cgroup_fix_up
  t=$(now); ensure_bridge; ensure_network; mark bridge_and_network "$(since "$t")"
  vt=$(virt_type)
  local tvm; tvm=$(now)
  ensure_vm
  ensure_podman_service
  ensure_podman_image
  ensure_podman_container
  ensure_ct
  ensure_vlxc
  wait_vm_ready "$tvm"
  t=$(now); bash "$HELPERS/ssh-host.sh" up >/dev/null || die "the second host (lab/ssh-host.sh) did not come up"
  mark sshhost "$(since "$t")"
  t=$(now); bash "$HELPERS/lxd-cluster.sh" up >/dev/null || die "the LXD cluster (lab/lxd-cluster.sh) did not come up"
  mark lxd "$(since "$t")"
  mark total_up "$(since "$T0")"
  printf '%s\n' "${TIMINGS[@]}" > "$RUN/timings"
  printf 'lab up (%s guest, %s): timings\n' "$vt" "$( [ "$vt" = qemu ] && echo 'TCG: slow' || echo KVM)"
  printf '  %s\n' "${TIMINGS[@]}"
}

# ------------------------------------------------------------------------------------------ down
cmd_down() {
  need_root down
  local all=0 T0 t c n pid d holders ino
  case "${1:-}" in
    --all) all=1 ;;
    "") ;;
    *) die "usage: lab.sh down [--all]" ;;
  esac
  T0=$(now); t=$T0
  # the second host first: its daemons run beside the local ones and leave nothing behind
  bash "$HELPERS/ssh-host.sh" down || warn "lab/ssh-host.sh down failed"
  mark down_sshhost "$(since "$t")"; t=$(now)
  bash "$HELPERS/lxd-cluster.sh" down >/dev/null || warn "lab/lxd-cluster.sh down failed"
  mark down_lxd "$(since "$t")"; t=$(now)
  # podman: the lab container, every container made from the lab image (tests), the image, the service
  if have podman; then
    for c in $( { lab_podman ps -a -q --filter "label=$LABEL=1"; lab_podman ps -a -q --filter "ancestor=$IMAGE"; } 2>/dev/null | sort -u); do
      lab_podman rm -f -t 0 "$c" >/dev/null 2>&1 || warn "podman rm $c failed"
    done
    if lab_podman image exists "$IMAGE" 2>/dev/null; then
      lab_podman rmi -f "$IMAGE" >/dev/null || warn "podman rmi $IMAGE failed"
    fi
  fi
  if pid=$(recorded_pid podman-service); then stop_pid "$pid" "podman service"; say "podman service stopped"; fi
  rm -f -- "$DSTATE/podman-service.pid"
  if [ -S "$PODMAN_SOCK" ] && ! podman_ping; then rm -f -- "$PODMAN_SOCK"; fi
  rmdir /run/podman 2>/dev/null || true
  mark down_podman "$(since "$t")"; t=$(now)
  # libvirt
  if have virsh && virsh -c "$QEMU_URI" version >/dev/null 2>&1; then
    vq destroy "$VM" >/dev/null 2>&1 || true
    vq undefine "$VM" >/dev/null 2>&1 || true
    vq destroy labkvm >/dev/null 2>&1 || true # transient, from the kvm tracer's integration test
    vl destroy "$VLXC" >/dev/null 2>&1 || true
    vl undefine "$VLXC" >/dev/null 2>&1 || true
    vq net-destroy "$NETNAME" >/dev/null 2>&1 || true
    vq net-undefine "$NETNAME" >/dev/null 2>&1 || true
  elif have virsh; then
    warn "libvirtd is not running: cannot remove $VM/$VLXC/$NETNAME definitions"
  fi
  vlxc_cleanup_leftovers
  rm -rf -- "/run/libvirt/network/$NETNAME.xml"
  rm -f -- "$CACHE/$VM-disk.raw" "$CACHE/$VM-disk.raw.tmp"
  if [ "${VIRTSCOPE_LAB_KEEP_LOGS:-0}" != 1 ]; then
    rm -f -- /var/log/libvirt/qemu/"$VM".log* /var/log/libvirt/lxc/"$VLXC".log*
  fi
  mark down_libvirt "$(since "$t")"; t=$(now)
  # lxc-tools
  if have lxc-info && lxc-info -n "$CT" >/dev/null 2>&1; then
    lxc-stop -n "$CT" -k >/dev/null 2>&1 || true
    lxc-destroy -n "$CT" >/dev/null || warn "lxc-destroy $CT failed"
  fi
  mark down_lxc "$(since "$t")"; t=$(now)
  # bridge, cgroup mounts
  if [ -e "$NSPATH" ]; then in_ns ip link del "$BR" 2>/dev/null || true; fi
  cgroup_fix_down
  mark down_bridge_cgroup "$(since "$t")"; t=$(now)
  # daemons the lab started (only with --all)
  if [ "$all" = 1 ]; then
    for d in libvirtd virtlogd; do
      if pid=$(recorded_pid "$d"); then stop_pid "$pid" "$d"; rm -f -- "$DSTATE/$d.pid"; say "$d (pid $pid, started by the lab) stopped"; fi
    done
  fi
  # netns: name removed; kept alive by the kernel only while a daemon left running is inside it
  if [ -e "$NSPATH" ]; then
    ino=$(ns_inode)
    holders=$(netns_pids "$ino" | tr '\n' ' ')
    if [ -n "$holders" ]; then
      n=""
      for pid in $holders; do n="$n $(cat "/proc/$pid/comm" 2>/dev/null)($pid)"; done
      say "netns $NS: still held by$n: its name is removed, the next 'up' re-attaches it ('down --all' stops the daemons the lab started)"
      printf '%s\n' "$ino" > "$DSTATE/netns"
    else
      rm -f -- "$DSTATE/netns"
    fi
    ip netns del "$NS"
  fi
  # runtime files: keep only the daemon records that still matter
  if [ -d "$RUN" ]; then
    find "$RUN" -mindepth 1 -maxdepth 1 ! -name daemons -exec rm -rf -- {} +
    for d in libvirtd virtlogd podman-service; do recorded_pid "$d" >/dev/null || rm -f -- "$DSTATE/$d.pid"; done
    rmdir -- "$DSTATE" 2>/dev/null || true
    rmdir -- "$RUN" 2>/dev/null || true
  fi
  mark down_total "$(since "$T0")"
}

# ------------------------------------------------------------------------------------------ status
cmd_status() {
  local ino pid d state n_up=0 n_all=0 line
  row() { printf '%-10s %-34s %s\n' "$1" "$2" "$3"; }
  ok() { n_all=$((n_all + 1)); n_up=$((n_up + 1)); row "$@"; }
  ko() { n_all=$((n_all + 1)); row "$@"; }
  ino=$(ns_inode || true)
  if [ -n "$ino" ]; then ok netns "$NS" "present (net:[$ino])"; else ko netns "$NS" "absent"; fi
  if [ -n "$ino" ] && line=$(in_ns ip -br addr show dev "$BR" 2>/dev/null) && [ -n "$line" ]; then
    ok bridge "$BR" "$(printf '%s' "$line" | awk '{ $1 = ""; print }')"
  else ko bridge "$BR" "absent"; fi
  for d in virtlogd libvirtd; do
    pid=$(daemon_pid "$d" || true)
    if [ -z "$pid" ]; then ko "$d" "-" "not running"; continue; fi
    local who="started outside the lab"; [ "$(recorded_pid "$d" || true)" = "$pid" ] && who="started by the lab"
    if [ -n "$ino" ] && [ "$(pid_netns "$pid")" = "$ino" ]; then ok "$d" "pid $pid" "in netns $NS, $who"
    elif [ -z "$ino" ] && [ -f "$DSTATE/netns" ] && [ "$(pid_netns "$pid")" = "$(cat "$DSTATE/netns")" ]; then
      row "$d" "pid $pid" "in the lab's unnamed netns (after down; up re-attaches it), $who"
    else ko "$d" "pid $pid" "NOT in netns $NS (net:[$(pid_netns "$pid")]), $who"; fi
  done
  if have virsh && virsh -c "$QEMU_URI" version >/dev/null 2>&1; then
    state=$(vq net-info "$NETNAME" 2>/dev/null | awk '/^Active:/ { print ($2 == "yes" ? "active" : "inactive") }') || state=""
    if [ "$state" = active ]; then ok network "$NETNAME" "active (forward bridge $BR)"; else ko network "$NETNAME" "${state:-undefined}"; fi
    state=$(vq domstate "$VM" 2>/dev/null | head -n 1) || state=""
    if [ "$state" = running ]; then
      local ag="agent: no answer"; agent_ping 3 && ag="agent: ok"
      if [ "$ag" = "agent: ok" ] && on_bridge "$VM_IF"; then
        ok "$VM" "$VM_IP" "running ($(vq dumpxml "$VM" | awk -F"'" '/<domain type=/ { print $2; exit }')), $ag"
      elif on_bridge "$VM_IF"; then ko "$VM" "$VM_IP" "running, $ag"
      else ko "$VM" "$VM_IP" "running, $ag, NIC $VM_IF not on $BR (up repairs it)"; fi
    else ko "$VM" "$VM_IP" "${state:-undefined}"; fi
    state=$(vl domstate "$VLXC" 2>/dev/null | head -n 1) || state=""
    if [ "$state" = running ] && on_bridge "$VLXC_IF"; then ok "$VLXC" "$VLXC_IP" running
    elif [ "$state" = running ]; then ko "$VLXC" "$VLXC_IP" "running, veth $VLXC_IF not on $BR (up repairs it)"
    else ko "$VLXC" "$VLXC_IP" "${state:-undefined}"; fi
  else
    ko network "$NETNAME" "unknown (libvirtd not reachable)"; ko "$VM" "$VM_IP" unknown; ko "$VLXC" "$VLXC_IP" unknown
  fi
  state=$(ct_state)
  if [ "$state" = RUNNING ] && on_bridge "$CT_IF"; then ok "$CT" "$CT_IP" RUNNING
  elif [ "$state" = RUNNING ]; then ko "$CT" "$CT_IP" "RUNNING, veth $CT_IF not on $BR (up repairs it)"
  else ko "$CT" "$CT_IP" "${state:-undefined}"; fi
  pid=$(recorded_pid podman-service || true)
  if podman_ping; then ok podman "$PODMAN_SOCK" "API ok${pid:+ (pid $pid, started by the lab)}"
  else ko podman "$PODMAN_SOCK" "not answering"; fi
  if have podman && lab_podman image exists "$IMAGE" 2>/dev/null; then ok image "$IMAGE" present; else ko image "$IMAGE" absent; fi
  state=$( { have podman && lab_podman container inspect -f '{{.State.Status}}' "$POD"; } 2>/dev/null) || state=""
  if [ "$state" = running ]; then ok "$POD" "network none" running; else ko "$POD" "network none" "${state:-absent}"; fi
  if [ -f "$RUN/cgroup-v1-mounted" ]; then row cgroup "v1: $(tr '\n' ' ' < "$RUN/cgroup-v1-mounted")" "mounted by the lab"; fi
  if guest_built; then row cache "$CACHE" "guest built (kernel $(cat "$GUEST/kernel-version"))"
  else row cache "$CACHE" "guest not built"; fi
  line=$(bash "$HELPERS/ssh-host.sh" status 2>/dev/null | tail -n 1) || line=""
  if [ "$line" = "sshhost: up" ]; then ok sshhost "10.81.0.2 (ssh alias sshhost-lab)" "up (lab/ssh-host.sh status)"
  else ko sshhost "10.81.0.2 (ssh alias sshhost-lab)" "${line#sshhost: }"; fi
  line=$(bash "$HELPERS/lxd-cluster.sh" status 2>/dev/null | tail -n 1) || line=""
  if [ "$line" = "lxd: up" ]; then ok lxd "10.82.0.1-3:8443 (member1-3)" "up (lab/lxd-cluster.sh status)"
  else ko lxd "10.82.0.1-3:8443 (member1-3)" "${line#lxd: }"; fi
  row virt "$(virt_type)" "$( [ "$(virt_type)" = kvm ] && echo KVM || echo 'TCG (no vmx/svm or /dev/kvm not writable)')"
  if [ "$n_up" = "$n_all" ]; then echo "lab: up"; elif [ "$n_up" = 0 ]; then echo "lab: down"
  else echo "lab: partial ($n_up/$n_all components up)"; fi
}

# ------------------------------------------------------------------------------------------ gexec
# gexec DOMAIN SCRIPT [TIMEOUT]: guest-exec of /bin/sh -s with the script as input-data (base64)
GEXEC_ENV='["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]'   # qemu-ga runs children with an empty environment
# on timeout: stop and kill the guest process and all its descendants (no pgrep in busybox: walk /proc)
# shellcheck disable=SC2016
GEXEC_KILL='k() { kill -STOP "$1" 2>/dev/null; for s in /proc/[0-9]*/stat; do read -r p _ _ pp _ 2>/dev/null < "$s" && [ "$pp" = "$1" ] && k "$p"; done; kill -KILL "$1" 2>/dev/null; }; k "$1"'
cmd_gexec() {
  [ $# -ge 2 ] && [ $# -le 3 ] || die "usage: lab.sh gexec DOMAIN 'script' [timeout_s]   (script - = stdin)"
  local dom=$1 script=$2 to=${3:-120} req res gpid st end delay=0.05 rc sig
  [[ $to =~ ^[0-9]+$ ]] || die "gexec: timeout must be an integer (seconds)"
  need_cmds virsh jq base64
  if [ "$script" = - ]; then script=$(cat); fi
  req=$(printf '%s\n' "$script" | base64 -w0 |
        jq -Rc --argjson env "$GEXEC_ENV" '{execute: "guest-exec", arguments: {path: "/bin/sh", arg: ["-s"], env: $env, "input-data": ., "capture-output": true}}')
  res=$(virsh -c "$QEMU_URI" qemu-agent-command --timeout 10 -- "$dom" "$req") || { echo "gexec: guest-exec failed" >&2; exit 125; }
  gpid=$(jq -er '.return.pid' <<<"$res") || { echo "gexec: unexpected reply: $res" >&2; exit 125; }
  req=$(jq -nc --argjson p "$gpid" '{execute: "guest-exec-status", arguments: {pid: $p}}')
  end=$(( $(date +%s) + to ))
  while :; do
    st=$(virsh -c "$QEMU_URI" qemu-agent-command --timeout 10 -- "$dom" "$req") || { echo "gexec: guest-exec-status failed" >&2; exit 125; }
    [ "$(jq -r '.return.exited' <<<"$st")" = true ] && break
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "gexec: timeout after ${to}s (guest pid $gpid and its descendants killed)" >&2
      # the pid is passed as "$1" of a fixed script, never spliced into it
      virsh -c "$QEMU_URI" qemu-agent-command --timeout 10 -- "$dom" "$(jq -nc --arg p "$gpid" \
        '{execute: "guest-exec", arguments: {path: "/bin/sh", arg: ["-c", $k, "sh", $p], env: $env}}' --arg k "$GEXEC_KILL" --argjson env "$GEXEC_ENV")" \
        >/dev/null 2>&1 || true
      exit 124
    fi
    sleep "$delay"
    case $delay in 0.05) delay=0.1 ;; 0.1) delay=0.2 ;; esac
  done
  jq -r '.return["out-data"] // empty' <<<"$st" | base64 -d
  jq -r '.return["err-data"] // empty' <<<"$st" | base64 -d >&2
  [ "$(jq -r '.return["out-truncated"] // false' <<<"$st")" = true ] && echo "gexec: guest output was truncated by the agent" >&2
  rc=$(jq -r '.return.exitcode // empty' <<<"$st")
  sig=$(jq -r '.return.signal // empty' <<<"$st")
  if [ -n "$rc" ]; then exit "$rc"; fi
  if [ -n "$sig" ]; then exit $((128 + sig)); fi
  exit 126
}

cmd_exec_netns() {
  [ $# -ge 1 ] || die "usage: lab.sh exec-netns CMD [ARG...]"
  [ -e "$NSPATH" ] || die "netns $NS does not exist: run 'bash scripts/lab.sh up'"
  exec nsenter --net="$NSPATH" -- "$@"
}

usage() {
  sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case $cmd in
  deps|daemons|build|up|down) take_lock "$cmd" "$@" ;;
esac
case $cmd in
  deps) cmd_deps ;;
  daemons) cmd_daemons ;;
  build) cmd_build ;;
  up) cmd_up ;;
  down) cmd_down "$@" ;;
  status) cmd_status ;;
  gexec) cmd_gexec "$@" ;;
  exec-netns) cmd_exec_netns "$@" ;;
  -h|--help|help|"") usage ;;
  *) echo "lab.sh: unknown subcommand '$cmd'" >&2; usage ;;
esac
