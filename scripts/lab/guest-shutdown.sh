#!/bin/sh
# /sbin/shutdown of the lab guest. qemu-guest-agent's guest-shutdown runs
#   /sbin/shutdown -P|-H|-r +0 "hypervisor initiated shutdown"
# busybox has no shutdown applet and PID 1 is a plain shell (no init to signal): act at once (-f).
sync
for a in "$@"; do
  case "$a" in
    -r) exec reboot -f ;;
    -H) exec halt -f ;;
  esac
done
exec poweroff -f
