// Binds the settings to the model: `virtscope.connections` are this machine's connections,
// `virtscope.hosts` the remote hosts (over SSH, their questions asked through VS Code). The model
// (core/inventory.ts) is the one source; `all` and `byId` are kept for the features that look a
// connection up by id.
import * as vscode from 'vscode';
import { createBackend } from '../core/backends';
import { discoverConnections } from '../core/backends/discover';
import { LxdBackend, type LxdCredentials } from '../core/backends/lxdBackend';
import { Connection, Logger } from '../core/connection';
import { HostEntry } from '../core/hosts';
import type { AskpassHandler } from '../core/host/askpass';
import { Inventory, sshHostFor } from '../core/inventory';
import { ConnectionConfig } from '../core/model';
import { Config } from './config';

export class Connections implements vscode.Disposable {
  readonly model: Inventory;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the connections or hosts were reloaded from the settings. */
  readonly onDidChange = this.changed.event;
  private readonly cfgSub: vscode.Disposable;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    askpass?: AskpassHandler,
    /** The client certificate of an LXD server reached over HTTPS (VS Code's SecretStorage). */
    lxdCredentials?: (config: ConnectionConfig) => Promise<LxdCredentials | undefined>,
  ) {
    this.model = new Inventory({
      discover: discoverConnections,
      backend: (cfg, host) =>
        cfg.type === 'lxd' ? new LxdBackend(cfg, { host, credentials: lxdCredentials }) : createBackend(cfg, host, { configFile: config.sshConfigFile }),
      remoteHost: (entry) => sshHostFor(entry, askpass && this.askpassFor(entry.id, askpass), config.sshConfigFile),
      connection: { pollMs: config.lxcPollMs, log },
      log,
    });
    this.loadLocal(false);
    this.loadHosts();
    this.loadLxd();
    this.cfgSub = config.onDidChange((changed) => {
      const poll = changed.has('lxc.pollIntervalSeconds');
      if (changed.has('connections') || poll) this.loadLocal(poll);
      // another ssh config: every remote host is reached anew with it
      if (changed.has('ssh.configFile')) this.model.setHosts([]);
      if (changed.has('hosts') || changed.has('ssh.configFile')) this.loadHosts();
      // a cluster reached through a remote host is remade with the host's new connection
      if (changed.has('hosts') && this.model.clusters.some((c) => c.config.hostId)) this.model.setClusters([]);
      if (changed.has('lxd') || changed.has('hosts')) this.loadLxd();
      if (changed.has('connections') || poll || changed.has('hosts') || changed.has('ssh.configFile') || changed.has('lxd')) this.changed.fire();
    });
  }

  /** ssh's questions for one host; a cancelled one stops the host's automatic retries (no question loop). */
  private askpassFor(hostId: string, ask: AskpassHandler): AskpassHandler {
    return async (req) => {
      const answer = await ask(req);
      if (answer === undefined) this.model.declined(hostId);
      return answer;
    };
  }

  /** Every connection of every host. */
  get all(): readonly Connection[] {
    return this.model.connections;
  }

  byId(id: string): Connection | undefined {
    return this.model.connection(id);
  }

  /** This machine's connections as configured now (for adding and removing entries). */
  configured(): ConnectionConfig[] {
    return this.config.connections().connections;
  }

  /** The ssh config file remote hosts are reached with (undefined: ~/.ssh/config). */
  get sshConfigFile(): string | undefined {
    return this.config.sshConfigFile;
  }

  /** The remote hosts as configured now. */
  configuredHosts(): HostEntry[] {
    return this.config.hosts().hosts;
  }

  private warn(setting: string, problems: readonly string[]): void {
    for (const p of problems) {
      this.log.warn(`${setting}: ${p}`);
      void vscode.window.showWarningMessage(`${setting}: ${p}. The other entries are loaded.`);
    }
  }

  private loadLocal(rebuild: boolean): void {
    const { connections, problems } = this.config.connections();
    this.warn('virtscope.connections', problems);
    this.model.setLocalConnections(connections, { rebuild });
  }

  private loadLxd(): void {
    const { clusters, problems } = this.config.lxd();
    this.warn('virtscope.lxd', problems);
    this.model.setClusters(clusters);
  }

  private loadHosts(): void {
    const { hosts, problems } = this.config.hosts();
    this.warn('virtscope.hosts', problems);
    this.model.setHosts(hosts);
  }

  setVisible(v: boolean): void {
    this.model.setVisible(v);
  }

  async save(configs: ConnectionConfig[]): Promise<void> {
    await this.config.saveConnections(configs);
  }

  async saveHosts(entries: HostEntry[]): Promise<void> {
    await this.config.saveHosts(entries);
  }

  dispose(): void {
    this.cfgSub.dispose();
    this.changed.dispose();
    void this.model.dispose();
  }
}
