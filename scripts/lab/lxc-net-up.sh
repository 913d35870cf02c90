#!/bin/sh
# lxc.net.0.script.up of the lab container (labct), run by the lxc monitor: move the host side of the
# container's veth into the lab netns and attach it to the lab bridge. lxc-start itself runs in the
# host netns: lxc-info/lxc-attach/lxc-ls reach the monitor through an abstract unix socket, which is
# per network namespace, so a monitor inside the lab netns would look STOPPED from the host.
# Arguments (lxc.hook.version 0): NAME net up veth HOST_IFNAME
[ "$4" = veth ] || exit 0
ns=${LAB_NETNS:-virtscope-lab}
br=${LAB_BRIDGE:-vsbr0}
ip link set dev "$5" netns "$ns" &&
  ip -n "$ns" link set dev "$5" master "$br" &&
  ip -n "$ns" link set dev "$5" up
