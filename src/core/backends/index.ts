import { Backend, ConnectionConfig } from '../model';
import { DockerBackend } from './docker';
import { LibvirtBackend } from './libvirt';
import { LxcBackend } from './lxc';

export function createBackend(config: ConnectionConfig): Backend {
  switch (config.type) {
    case 'libvirt':
      return new LibvirtBackend(config);
    case 'lxc':
      return new LxcBackend(config);
    case 'docker':
      return new DockerBackend(config);
  }
}
