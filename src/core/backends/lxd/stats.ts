// Show Metrics for LXD / Incus instances: GET /1.0/instances/NAME/state read as the engine
// statistics the metrics path already knows (EngineStats, the `engineStats` capability): CPU time
// in ns, memory in use and its limit, network counters per interface, processes. LXD gives no block
// I/O counters there; its disk figures are space used per device (kept apart, diskUsage).
import type { EngineStats, EngineStatsSource } from '../../capabilities';
import type { LxdApi } from './api';
import type { LxdInstanceRef } from './exec';
import type { LxdInstanceState } from './types';

/** The instance's state as engine statistics; a counter LXD does not know (-1, absent) stays absent. */
export function engineStatsOfState(s: LxdInstanceState): EngineStats {
  const known = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined);
  const networks: NonNullable<EngineStats['networks']> = {};
  for (const [nic, n] of Object.entries(s.network ?? {})) {
    // the loopback's traffic never leaves the instance
    if (nic === 'lo' || n.type === 'loopback') continue;
    const c = n.counters ?? {};
    networks[nic] = {
      rx_bytes: known(c.bytes_received),
      tx_bytes: known(c.bytes_sent),
      rx_packets: known(c.packets_received),
      tx_packets: known(c.packets_sent),
    };
  }
  const limit = known(s.memory?.total);
  return {
    cpu_stats: { cpu_usage: { total_usage: known(s.cpu?.usage) } },
    memory_stats: { usage: known(s.memory?.usage), ...(limit ? { limit } : {}) },
    networks,
    pids_stats: { current: known(s.processes) },
  };
}

/** Space used per disk device (bytes), as LXD reports it; empty where it cannot say (a dir pool). */
export function diskUsage(s: LxdInstanceState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [dev, d] of Object.entries(s.disk ?? {})) if (typeof d?.usage === 'number' && d.usage >= 0) out[dev] = d.usage;
  return out;
}

/** The `engineStats` capability of an LXD connection: one /state read per instance and tick. */
export function lxdEngineStats(api: () => LxdApi, refOf: (guestId: string) => LxdInstanceRef): EngineStatsSource {
  return {
    of: async (guestId) => {
      const { name, project } = refOf(guestId);
      return engineStatsOfState(await api().instanceState(name, { project }));
    },
  };
}
