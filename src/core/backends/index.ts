import { Backend, ConnectionConfig } from '../model';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { DockerBackend } from './docker';
import { LibvirtBackend, type LibvirtBackendOptions } from './libvirt';
import { LxcBackend } from './lxc';
import { LxdBackend } from './lxdBackend';

/**
 * `host`: the machine the connection is on (its sockets and programs are reached through it).
 * `ssh`: options of the SSH host a typed qemu+ssh:// URI makes for itself (ssh -F).
 */
export function createBackend(config: ConnectionConfig, host: Host = localHost, ssh?: LibvirtBackendOptions['ssh']): Backend {
  switch (config.type) {
    case 'libvirt':
      return new LibvirtBackend(config, ssh ? { host, ssh } : { host });
    case 'lxc':
      return new LxcBackend(config, host);
    case 'docker':
      return new DockerBackend(config, { host });
    case 'lxd':
      return new LxdBackend(config, { host });
  }
}
