// Owns the Connection objects made from the `virtscope.connections` setting.
import * as vscode from 'vscode';
import { createBackend } from '../core/backends';
import { Connection, Logger } from '../core/connection';
import { ConnectionConfig } from '../core/model';
import { Config } from './config';

export class Connections implements vscode.Disposable {
  private list: Connection[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the set of connections was rebuilt from the settings. */
  readonly onDidChange = this.changed.event;
  private readonly cfgSub: vscode.Disposable;
  private visible = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly onCreate: (c: Connection) => void,
  ) {
    this.load();
    this.cfgSub = config.onDidChange((changed) => {
      if (changed.has('connections') || changed.has('lxc.pollIntervalSeconds')) {
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

  /** The connections as configured now (for adding and removing entries). */
  configured(): ConnectionConfig[] {
    return this.config.connections().connections;
  }

  private load(): void {
    for (const c of this.list) void c.dispose();
    const { connections, problems } = this.config.connections();
    for (const p of problems) {
      this.log.warn(`virtscope.connections: ${p}`);
      void vscode.window.showWarningMessage(`virtscope.connections: ${p}. The other connections are loaded.`);
    }
    const pollMs = this.config.lxcPollMs;
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
    await this.config.saveConnections(configs);
  }

  dispose(): void {
    this.cfgSub.dispose();
    this.changed.dispose();
    for (const c of this.list) void c.dispose();
  }
}
