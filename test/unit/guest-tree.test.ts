// The Guests tree's subscriptions to connections: a settings reload (new Connection objects) must
// drop the listeners on the old ones. guestTree.ts imports vscode: a minimal stub stands in for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import Module from 'node:module';

class StubEmitter<T> {
  private ls: Array<(e: T) => void> = [];
  event = (l: (e: T) => void) => (this.ls.push(l), { dispose: () => (this.ls = this.ls.filter((x) => x !== l)) });
  fire(e: T): void {
    for (const l of this.ls) l(e);
  }
  dispose(): void {
    this.ls = [];
  }
}
const stub = { EventEmitter: StubEmitter };
const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
const load = M._load;
M._load = function (req: string, ...rest: unknown[]) {
  return req === 'vscode' ? stub : load.call(this, req, ...rest);
};

/** A Connection as far as the tree's subscriptions go. */
function fakeConnection(id: string) {
  const e = new EventEmitter();
  return Object.assign(e, { config: { id, type: 'libvirt' }, label: id, status: { state: 'connected' }, guests: new Map(), guest: () => undefined });
}

test('GuestTreeProvider: a settings reload drops the listeners on the connections it replaced', async () => {
  const { GuestTreeProvider } = await import('../../src/views/guestTree');
  let live = [fakeConnection('a'), fakeConnection('b')];
  const tree = new GuestTreeProvider(() => live as never);
  for (const c of live) tree.watch(c as never);
  const first = live;
  for (let reload = 0; reload < 3; reload++) {
    live = [fakeConnection('a'), fakeConnection('b')];
    for (const c of live) tree.watch(c as never);
    tree.reset();
  }
  for (const c of first) assert.equal(c.listenerCount('status') + c.listenerCount('guests'), 0, `old connection ${c.config.id} still has listeners`);
  for (const c of live) assert.equal(c.listenerCount('status'), 1, 'the live connections are watched once');
  tree.watch(live[0] as never);
  assert.equal(live[0].listenerCount('guests'), 1, 'watching twice does not subscribe twice');
  tree.dispose();
  for (const c of live) assert.equal(c.listenerCount('status') + c.listenerCount('guests'), 0);
});
