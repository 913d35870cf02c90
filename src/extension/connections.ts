// Owns the Connection objects made from the `virtscope.connections` setting.
import * as vscode from 'vscode';
import { createBackend } from '../core/backends';
import { DEFAULT_CONNECTIONS, parseConnections } from '../core/config';
import { Connection, Logger } from '../core/connection';
import { ConnectionConfig } from '../core/model';

export class Connections implements vscode.Disposable {
  private list: Connection[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the set of connections was rebuilt from the settings. */
  readonly onDidChange = this.changed.event;
  private readonly cfgSub: vscode.Disposable;
  private visible = false;

  constructor(private readonly log: Logger, private readonly onCreate: (c: Connection) => void) {
    this.load();
    this.cfgSub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('virtscope.connections') || e.affectsConfiguration('virtscope.lxc.pollIntervalSeconds')) {
        this.load();
        this.changed.fire();
      }
    });
  }

  get all(): readonly Connection[] {
    return this.list;
  }

  byId(id: string): Connection | undefined {
    return this.list.find((c) => c.config.id === id);
  }

  static configured(): ConnectionConfig[] {
    const raw = vscode.workspace.getConfiguration('virtscope').get<unknown>('connections');
    return parseConnections(raw ?? DEFAULT_CONNECTIONS).connections;
  }

  private load(): void {
    for (const c of this.list) void c.dispose();
    const cfg = vscode.workspace.getConfiguration('virtscope');
    const { connections, problems } = parseConnections(cfg.get<unknown>('connections') ?? DEFAULT_CONNECTIONS);
    for (const p of problems) {
      this.log.warn(`virtscope.connections: ${p}`);
      void vscode.window.showWarningMessage(`virtscope.connections: ${p}. The other connections are loaded.`);
    }
    const pollMs = Math.max(0.25, cfg.get<number>('lxc.pollIntervalSeconds') ?? 1) * 1000;
    this.list = connections.map((config) => {
      const c = new Connection(config, createBackend, { pollMs, log: this.log });
      this.onCreate(c);
      c.setVisible(this.visible);
      return c;
    });
  }

  setVisible(v: boolean): void {
    this.visible = v;
    for (const c of this.list) c.setVisible(v);
  }

  async save(configs: ConnectionConfig[]): Promise<void> {
    const plain = configs.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));
    await vscode.workspace.getConfiguration('virtscope').update('connections', plain, vscode.ConfigurationTarget.Global);
  }

  dispose(): void {
    this.cfgSub.dispose();
    this.changed.dispose();
    for (const c of this.list) void c.dispose();
  }
}
