// The `snapshots` capability of a guest (libvirt: backends/libvirtSnapshots.ts; lxc-tools:
// backends/lxcSnapshots.ts): every verb plans first, so a refusal comes with its reason.
import type { SnapshotInfo } from './model';
import type { CreateRequest, Plan } from './safety';

/** The `snapshots` capability of a guest. */
export interface Snapshots {
  /** 'user': create takes the user's name; 'automatic': the host names snapshots (the name becomes a comment). */
  readonly naming: 'user' | 'automatic';
  /** Every snapshot, the current one marked, parents before children. */
  list(): Promise<SnapshotInfo[]>;
  /** The snapshot's own document (libvirt: its XML). */
  inspect(name: string): Promise<{ language: string; text: string }>;
  planCreate(req: CreateRequest): Promise<Plan<{ location: 'internal' | 'external' | 'copy' }>>;
  /** Refuses what planCreate refuses; with risks, only when `acceptRisks`. */
  create(req: CreateRequest, opts?: { acceptRisks?: boolean }): Promise<SnapshotInfo>;
  planRevert(name: string): Promise<Plan<{ lost: string }>>;
  revert(name: string): Promise<void>;
  planDelete(name: string, withChildren: boolean): Promise<Plan<{ removed: readonly string[] }>>;
  delete(name: string, withChildren: boolean): Promise<void>;
}
