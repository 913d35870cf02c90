#!/bin/sh
# /init of the virtscope lab guest (labvm): busybox + iperf3 + fio + qemu-guest-agent in an initramfs.
# Installed into the initramfs by `scripts/lab.sh build`; parameters come from the kernel command line:
#   lab.ip=ADDR/PREFIX  lab.gw=ADDR  lab.hostname=NAME
# Progress lines "LAB: ..." go to the serial console (ttyS0), which libvirt logs to a file.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /tmp /run /var/run /mnt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
log() { echo "LAB: $* uptime=$(cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0; }
log "init start"

# virtio is modular in the Debian cloud kernel; the load order was computed on the host from modules.dep
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done < /etc/lab-modules
log "modules loaded"

IP=; GW=; HN=labvm
for x in $(cat /proc/cmdline); do
  case "$x" in
    lab.ip=*) IP=${x#lab.ip=} ;;
    lab.gw=*) GW=${x#lab.gw=} ;;
    lab.hostname=*) HN=${x#lab.hostname=} ;;
  esac
done
hostname "$HN"
echo "$HN" > /etc/hostname
ip link set lo up
if [ -n "$IP" ]; then
  i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  ip link set eth0 up
  ip addr add "$IP" dev eth0
  [ -n "$GW" ] && ip route add default via "$GW"
fi

# no udev: create /dev/virtio-ports/<name> links for the virtio-serial ports
mkdir -p /dev/virtio-ports
for p in /sys/class/virtio-ports/*; do
  [ -e "$p/name" ] || continue
  ln -sf "../${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
done
if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then
  qemu-ga -d -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -f /run/qemu-ga.pid -t /run 2>/dev/ttyS0
else
  log "WARNING: no guest agent port"
fi
iperf3 -s -D --logfile /tmp/iperf3-server.log
log "READY ip=$IP"

# console shell for `virsh console`; respawn forever (PID 1 must not exit)
while true; do
  setsid cttyhack sh -l
  sleep 1
done
