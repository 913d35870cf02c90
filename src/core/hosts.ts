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

/** A connection found on a host; `problem` when it is installed but cannot be used now. */
export interface DiscoveredConnection extends ConnectionConfig {
  /** Why it cannot be used ("… is installed but not running", the daemon's own refusal); absent when it answered. */
  readonly problem?: string;
}

/**
 * What is installed and running on `host`: one ConnectionConfig per libvirt URI, lxc-tools and
 * container engine found there, with ids prefixed by `idPrefix`; what is installed but not running
 * carries its `problem`, what is absent is left out. Rejects (SSH's reason) when the host is out of
 * reach. Implemented by the backends (src/core/backends/discover.ts).
 */
export type DiscoverConnections = (host: Host, idPrefix: string) => Promise<DiscoveredConnection[]>;
