import { Backend, ConnectionConfig } from '../model';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { DockerBackend } from './docker';
import { LibvirtBackend } from './libvirt';
import { LxcBackend } from './lxc';
import { LxdBackend } from './lxdBackend';

/** `host`: the machine the connection is on (its sockets and programs are reached through it). */
export function createBackend(config: ConnectionConfig, host: Host = localHost): Backend {
  switch (config.type) {
    case 'libvirt':
      return new LibvirtBackend(config, { host });
    case 'lxc':
      return new LxcBackend(config, host);
    case 'docker':
      return new DockerBackend(config, { host });
    case 'lxd':
      return new LxdBackend(config, { host });
  }
}
