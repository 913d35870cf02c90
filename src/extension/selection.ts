// Verbs over the tree's multi-selection: which nodes a command acts on, which guests a verb applies
// to (the others are skipped, said once), and the one confirmation a destructive verb asks for the
// whole selection. No vscode import: tested in test/unit/selection.test.ts.
import { deleteWarning, Guest, Verb, verbLabel, verbsFor } from '../core/model';

/** What VS Code passes a tree command: (clicked, selection). The selection counts only when it holds the clicked node. */
export function targetsOf<T>(clicked: T | undefined, selected: unknown): T[] {
  if (clicked === undefined || clicked === null) return [];
  if (Array.isArray(selected) && selected.includes(clicked)) return selected as T[];
  return [clicked];
}

export interface Target<N> {
  node: N;
  /** undefined: the guest vanished from its connection. */
  guest: Guest | undefined;
  /** Its name, or its id once gone. */
  name: string;
}

export interface VerbPlan<N> {
  apply: Array<{ node: N; guest: Guest }>;
  /** "name" (why), for the one message about skipped guests. */
  skipped: Array<{ node: N; name: string; why: string; guest?: Guest }>;
}

/** Splits the targets into those the verb applies to and those whose state does not allow it. */
export function planVerb<N>(verb: Verb, targets: ReadonlyArray<Target<N>>): VerbPlan<N> {
  const plan: VerbPlan<N> = { apply: [], skipped: [] };
  for (const t of targets) {
    if (!t.guest) plan.skipped.push({ node: t.node, name: t.name, why: 'gone' });
    else if (!verbsFor(t.guest).includes(verb)) plan.skipped.push({ node: t.node, name: t.name, why: t.guest.state, guest: t.guest });
    else plan.apply.push({ node: t.node, guest: t.guest });
  }
  return plan;
}

/** The verb's label for a set of guests: the kind's own word when they share a kind ("Freeze"), else the generic one. */
export function labelFor(verb: Verb, guests: ReadonlyArray<Pick<Guest, 'kind'>>): string {
  const kinds = new Set(guests.map((g) => g.kind));
  return verbLabel(verb, kinds.size === 1 ? guests[0].kind : 'qemu');
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(', ');

/** One message for the skipped guests; undefined when none was skipped. */
export function skippedMessage(verb: Verb, plan: VerbPlan<unknown>): string | undefined {
  if (!plan.skipped.length) return undefined;
  const label = labelFor(verb, [...plan.apply.map((a) => a.guest), ...plan.skipped.flatMap((s) => (s.guest ? [s.guest] : []))]);
  if (plan.skipped.length === 1 && !plan.apply.length) {
    const s = plan.skipped[0];
    return s.why === 'gone'
      ? `"${s.name}" is gone from its connection; the tree is refreshed.`
      : `${label} does not apply to "${s.name}" while it is ${s.why}.`;
  }
  const list = plan.skipped.map((s) => `"${s.name}" (${s.why})`).join(', ');
  return `${label} skipped ${list}: not allowed in that state.${plan.apply.length ? ` Done for ${quoted(plan.apply.map((a) => a.guest.name))}.` : ''}`;
}

export interface Confirmation {
  message: string;
  detail: string;
  /** The button that confirms. */
  button: string;
}

const FORCE_OFF_DETAIL = 'This is like pulling the power cord: processes get no chance to shut down, and unsaved data inside the guest is lost.';

/** The one question a destructive verb asks for the whole selection, naming the guests; undefined for the others. */
export function confirmation(verb: Verb, guests: readonly Guest[]): Confirmation | undefined {
  if (!guests.length) return undefined;
  const names = guests.map((g) => g.name);
  const one = guests.length === 1;
  if (verb === 'delete') {
    return {
      message: one ? `Delete "${names[0]}"?` : `Delete ${guests.length} guests: ${quoted(names)}?`,
      detail: guests.map(deleteWarning).join('\n'),
      button: 'Delete',
    };
  }
  if (verb === 'forceOff') {
    return {
      message: one ? `Force off "${names[0]}"?` : `Force off ${guests.length} guests: ${quoted(names)}?`,
      detail: FORCE_OFF_DETAIL,
      button: 'Force Off',
    };
  }
  return undefined;
}
