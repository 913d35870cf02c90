// The quick picks that ask for a guest or a connection when a command runs from the palette: one
// guest picker for every command, over the model (not the tree). The UI is passed in (vscodeUi.ts in
// the extension, a fake in test/unit/pickers.test.ts), so this file has no vscode import.
import type { Connection } from '../core/connection';
import type { GuestRef, Inventory } from '../core/inventory';
import { describeGuest, Guest, KIND_LABEL } from '../core/model';

export interface PickItem<T> {
  readonly label: string;
  readonly description?: string;
  readonly detail?: string;
  readonly value: T;
}

export interface PickOptions {
  readonly title: string;
  readonly placeHolder?: string;
}

/** What the pickers need of VS Code's window. */
export interface PickerUi {
  pick<T>(items: readonly PickItem<T>[], opts: PickOptions): Promise<PickItem<T> | undefined>;
  pickMany<T>(items: readonly PickItem<T>[], opts: PickOptions): Promise<readonly PickItem<T>[] | undefined>;
  info(message: string): void;
}

export interface GuestPickOptions extends PickOptions {
  /** Which guests fit the command (default: all). */
  readonly filter?: (g: Guest, conn: Connection) => boolean;
  /** Said when none fits; default "<title>: no guest is in a state that allows it." */
  readonly none?: string;
  /** How long to wait for connections still connecting before the list is shown (default 5 s). */
  readonly waitMs?: number;
}

/** A connection's place for people: "QEMU/KVM (qemu:///system)", or "… on kvm1" for a remote host's. */
export function connectionPlace(model: Inventory, conn: Connection): string {
  const h = model.hostOf(conn);
  return h?.remote ? `${conn.label} on ${h.label}` : conn.label;
}

export function guestItems(model: Inventory, refs: readonly GuestRef[]): PickItem<GuestRef>[] {
  return refs.flatMap((r) => {
    const g = r.guest;
    return g ? [{ label: g.name, description: describeGuest(g), detail: `${KIND_LABEL[g.kind]} on ${connectionPlace(model, r.conn)}`, value: r }] : [];
  });
}

/** Opens the model (connections start when something needs them) and waits a little for their first answer. */
async function openModel(model: Inventory, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([model.open(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
  clearTimeout(timer);
}

async function candidates(ui: PickerUi, model: Inventory, opts: GuestPickOptions): Promise<PickItem<GuestRef>[] | undefined> {
  await openModel(model, opts.waitMs ?? 5000);
  const items = guestItems(model, model.guests(opts.filter));
  if (items.length) return items;
  ui.info(opts.none ?? `${opts.title}: no guest is in a state that allows it.`);
  return undefined;
}

/** One guest, or undefined (cancelled, or none fits: then the user is told). */
export async function pickGuest(ui: PickerUi, model: Inventory, opts: GuestPickOptions): Promise<GuestRef | undefined> {
  const items = await candidates(ui, model, opts);
  if (!items) return undefined;
  return (await ui.pick(items, { title: opts.title, placeHolder: opts.placeHolder ?? 'Pick a guest' }))?.value;
}

/** Several guests (possibly none picked), or undefined when cancelled or none fits. */
export async function pickGuests(ui: PickerUi, model: Inventory, opts: GuestPickOptions): Promise<GuestRef[] | undefined> {
  const items = await candidates(ui, model, opts);
  if (!items) return undefined;
  return (await ui.pickMany(items, { title: opts.title, placeHolder: opts.placeHolder ?? 'Pick guests' }))?.map((p) => p.value);
}

/** One connection of any host. */
export async function pickConnection(
  ui: PickerUi,
  model: Inventory,
  opts: PickOptions & { filter?: (c: Connection) => boolean; none?: string },
): Promise<Connection | undefined> {
  const conns = model.connections.filter(opts.filter ?? (() => true));
  if (!conns.length) {
    ui.info(opts.none ?? `${opts.title}: no connection fits.`);
    return undefined;
  }
  const items = conns.map((c) => {
    const h = model.hostOf(c);
    return {
      label: c.label,
      description: `${h?.remote ? `${h.label} · ` : ''}${c.status.state}`,
      detail: c.config.uri ?? c.config.socketPath ?? c.config.lxcPath,
      value: c,
    };
  });
  return (await ui.pick(items, { title: opts.title, placeHolder: opts.placeHolder ?? 'Pick a connection' }))?.value;
}
