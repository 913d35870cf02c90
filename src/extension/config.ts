// One Config: typed getters for the `virtscope.*` settings (defaults and clamps in core/settings.ts)
// and the one onDidChangeConfiguration listener, which fires the set of sections that changed.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { HostEntry } from '../core/hosts';
import type { LxdEntry } from '../core/config';
import { ConnectionConfig } from '../core/model';
import * as s from '../core/settings';

export type ConfigChange = ReadonlySet<s.SettingSection>;

export class Config implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ConfigChange>();
  /** Fires once per settings edit that touched virtscope, with the sections it touched. */
  readonly onDidChange = this.emitter.event;
  private readonly sub = vscode.workspace.onDidChangeConfiguration((e) => {
    const changed = s.SETTING_SECTIONS.filter((k) => e.affectsConfiguration(`virtscope.${k}`));
    if (changed.length) this.emitter.fire(new Set(changed));
  });

  private readonly get: s.SettingGetter = (key) => vscode.workspace.getConfiguration('virtscope').get<unknown>(key);

  connections(): { connections: ConnectionConfig[]; problems: string[] } {
    return s.connectionsSetting(this.get);
  }
  hosts(): { hosts: HostEntry[]; problems: string[] } {
    return s.hostsSetting(this.get);
  }
  lxd(): { clusters: ConnectionConfig[]; problems: string[] } {
    return s.lxdSetting(this.get);
  }
  /** The raw `virtscope.lxd` entries (for adding one). */
  lxdEntries(): LxdEntry[] {
    const raw = this.get('lxd');
    return Array.isArray(raw) ? (raw as LxdEntry[]) : [];
  }
  /** The ssh config file of remote hosts; undefined: ~/.ssh/config. */
  get sshConfigFile(): string | undefined {
    return s.sshConfigFile(this.get, os.homedir());
  }
  get hostNetworkNamespace(): string | undefined {
    return s.hostNetworkNamespace(this.get);
  }
  get benchmark(): s.BenchmarkSettings {
    return s.benchmarkSettings(this.get);
  }
  get traceDetail(): s.TraceDetail {
    return s.traceDetail(this.get);
  }
  get metricsIntervalMs(): number {
    return s.metricsIntervalMs(this.get);
  }
  get lxcPollMs(): number {
    return s.lxcPollMs(this.get);
  }
  get shells(): { shells: string[]; chosen: boolean } {
    return s.shellCandidates(this.get);
  }

  /** Writes `virtscope.connections` (user settings), without undefined fields. */
  async saveConnections(configs: ConnectionConfig[]): Promise<void> {
    const plain = configs.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));
    await vscode.workspace.getConfiguration('virtscope').update('connections', plain, vscode.ConfigurationTarget.Global);
  }

  /** Writes `virtscope.hosts` (user settings): destinations, ports and labels only, nothing secret. */
  async saveHosts(entries: HostEntry[]): Promise<void> {
    const plain = entries.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));
    await vscode.workspace.getConfiguration('virtscope').update('hosts', plain, vscode.ConfigurationTarget.Global);
  }

  /** Writes `virtscope.lxd` (user settings): names, sockets, urls and fingerprints only, never a key. */
  async saveLxd(entries: LxdEntry[]): Promise<void> {
    const plain = entries.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));
    await vscode.workspace.getConfiguration('virtscope').update('lxd', plain, vscode.ConfigurationTarget.Global);
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
