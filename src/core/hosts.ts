// The hosts virtscope manages: this machine, and those reached over SSH (`virtscope.hosts`).
// The contract between the model (which hosts, which connections under each) and the backends.
import type { ConnectionConfig } from './model';
import type { Host } from './host/host';

/** The id of this machine in the model; its connections are `virtscope.connections`. */
export const LOCAL_HOST_ID = 'local';

/** One entry of `virtscope.hosts`: what the user typed or picked in Add Host…. */
export interface HostEntry {
  /** Unique, stable (prefixes the ids of the host's connections). */
  readonly id: string;
  readonly label?: string;
  /** An alias of ~/.ssh/config, `host` or `user@host` (ssh's own destination). */
  readonly destination: string;
  readonly port?: number;
}

/**
 * What is installed and running on `host`: one ConnectionConfig per libvirt URI, lxc-tools and
 * container engine found there, with ids prefixed by `idPrefix`. Implemented by the backends
 * (src/core/backends/discover.ts).
 */
export type DiscoverConnections = (host: Host, idPrefix: string) => Promise<ConnectionConfig[]>;
