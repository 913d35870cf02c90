// Placeholder: the real discovery (libvirt, lxc-tools, container engines found on a host) comes from
// branch h/remote, which replaces this file at merge.
import type { DiscoverConnections } from '../hosts';

export const discoverConnections: DiscoverConnections = async () => [];
