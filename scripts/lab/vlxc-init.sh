#!/bin/sh
# /lab-init of the libvirt-LXC lab domain (labvlxc). libvirt_lxc has already mounted /proc, /sys, /dev
# and configured eth0 from the domain XML. SIGTERM (virsh shutdown) ends the domain at once.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
trap 'exit 0' TERM INT
ip link set lo up
iperf3 -s -D --logfile /tmp/iperf3-server.log
sleep 2147483647 &
wait
