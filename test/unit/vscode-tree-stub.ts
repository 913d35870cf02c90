// The few parts of the `vscode` module the tree views and terminals use, for unit tests in plain Node: importing
// this file makes `require('vscode')` return them (the views import vscode; the tests do not run in
// VS Code).
import Module from 'node:module';

export class StubEmitter<T> {
  private ls: Array<(e: T) => void> = [];
  event = (l: (e: T) => void) => (this.ls.push(l), { dispose: () => (this.ls = this.ls.filter((x) => x !== l)) });
  fire(e: T): void {
    for (const l of this.ls) l(e);
  }
  dispose(): void {
    this.ls = [];
  }
}

export class TreeItem {
  id?: string;
  description?: string;
  iconPath?: unknown;
  contextValue?: string;
  tooltip?: unknown;
  command?: unknown;
  accessibilityInformation?: unknown;
  constructor(
    public label: string,
    public collapsibleState: number,
  ) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: unknown,
  ) {}
}

/** The pseudoterminals extensions opened, newest last (window.createTerminal). */
export const terminals: Array<{ name: string; pty: { close(): void; open(size?: unknown): void } }> = [];

const stub = {
  window: {
    createTerminal: (o: { name: string; pty: { close(): void; open(size?: unknown): void } }) => (terminals.push(o), { show() {} }),
  },
  EventEmitter: StubEmitter,
  TreeItem,
  ThemeIcon,
  ThemeColor: class {
    constructor(readonly id: string) {}
  },
  MarkdownString: class {
    constructor(readonly value: string) {}
  },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
};

const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
const load = M._load;
M._load = function (req: string, ...rest: unknown[]) {
  return req === 'vscode' ? stub : load.call(this, req, ...rest);
};
