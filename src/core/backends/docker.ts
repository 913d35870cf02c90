// Docker and Podman (Docker-compatible API) through dockerode over a unix socket.
import { checkpointAbsence } from './docker/checkpoint';
import Docker from 'dockerode';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { Backend, BackendError, BackendEvent, ConnectionConfig, Definition, Guest, GuestState, Verb } from '../model';
import { ENGINE_REQUEST_TIMEOUT_MS, engineClient } from './engineClient';
import type { Capabilities, CapabilityProvider, EngineStats } from '../capabilities';
import { EngineExecutor } from './docker/engineExec';
import { hostUnreachable, isThisMachine, onHost } from './reach';
import { engineShell } from '../console/engineShell';
import { engineLog } from '../console/logs';

/** Engine status word (docker ps State) → the guest model's state. */
export function mapContainerState(s: string): GuestState {
  switch (s.toLowerCase()) {
    case 'running':
      return 'running';
    case 'paused':
      return 'paused';
    case 'created':
    case 'exited':
    case 'stopped':
    case 'configured':
    case 'initialized':
      return 'stopped';
    case 'restarting':
      return 'starting';
    case 'removing':
    case 'stopping':
      return 'stopping';
    case 'dead':
      return 'crashed';
    default:
      return 'unknown';
  }
}

/** Sockets tried in order when the connection names none: DOCKER_HOST, Docker's, Podman's (root, then user). */
export function candidateSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const dh = env.DOCKER_HOST;
  if (dh && dh.startsWith('unix://')) out.push(dh.slice('unix://'.length));
  out.push('/var/run/docker.sock', '/run/podman/podman.sock');
  if (env.XDG_RUNTIME_DIR) out.push(`${env.XDG_RUNTIME_DIR}/podman/podman.sock`);
  return [...new Set(out)];
}

interface EngineError {
  statusCode?: number;
  json?: { message?: string; cause?: string } | null;
  reason?: string;
  message?: string;
}

function engineMessage(e: unknown): string {
  const ee = e as EngineError;
  return ee?.json?.message || ee?.json?.cause || ee?.reason || ee?.message || String(e);
}

/** Docker or Podman, judged by the socket's path (both speak the same API). */
function engineName(socketPath: string): string {
  if (/podman/i.test(socketPath)) return 'Podman API';
  if (/docker/i.test(socketPath)) return 'Docker';
  return 'container engine';
}

/** How to bring the engine behind `socketPath` back. */
export function engineStartHint(socketPath: string, env: NodeJS.ProcessEnv = process.env): string {
  const podman = `podman system service --time=0 unix://${socketPath}`;
  const userSocket = !!env.XDG_RUNTIME_DIR && socketPath.startsWith(`${env.XDG_RUNTIME_DIR}/`);
  if (/podman/i.test(socketPath)) {
    return userSocket
      ? `Start the Podman API service: systemctl --user start podman.socket, or: ${podman}`
      : `Start the Podman API service: sudo systemctl start podman.socket, or: ${podman}`;
  }
  if (/docker/i.test(socketPath)) return 'Start Docker: sudo systemctl start docker (or docker.socket)';
  return `Start the engine serving ${socketPath}: sudo systemctl start docker, sudo systemctl start podman.socket, or: ${podman}`;
}

/** The connection to the engine is gone: which socket (on which host), what happened, how to start it again. */
export function engineLost(socketPath: string, why: string, code: string | number = 'ECLOSED', host?: Host): BackendError {
  return new BackendError(`${engineName(socketPath)} connection (${socketPath}${onHost(host)}) lost: ${why}`, code, engineStartHint(socketPath));
}

/** Node's bare words for a closed socket, said for a person. */
function lostWhy(e: unknown): string {
  const m = engineMessage(e);
  if (m === 'aborted' || m === 'socket hang up') return `the engine closed the connection (${m})`;
  return m;
}

export interface DockerBackendOptions {
  /** Deadline of every ordinary engine request. */
  requestTimeoutMs?: number;
  /** While events are followed, the engine is pinged this often to notice one that hangs (0: never). */
  heartbeatMs?: number;
  /** The machine the engine runs on (its socket is reached through it); default this machine. */
  host?: Host;
}

/** Seconds a stop or restart waits for the container before the engine kills it. */
const STOP_WAIT_S = 10;

export class DockerBackend implements Backend, CapabilityProvider {
  private docker: Docker | undefined;
  private socketPath: string | undefined;
  private events: NodeJS.ReadableStream | undefined;
  private listener: ((ev: BackendEvent) => void) | undefined;
  private closed = false;
  private lost = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private checkpointNote: Promise<readonly string[]> | undefined;
  private readonly requestTimeoutMs: number;
  private readonly heartbeatMs: number;
  /** The machine the engine runs on. */
  readonly host: Host;

  constructor(
    readonly config: ConnectionConfig,
    options: DockerBackendOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? ENGINE_REQUEST_TIMEOUT_MS;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.host = options.host ?? localHost;
  }

  /** The socket actually used (after connect). */
  get socket(): string | undefined {
    return this.socketPath;
  }

  async connect(): Promise<void> {
    // this process's DOCKER_HOST and runtime directory say nothing about another host
    const tried = this.config.socketPath ? [this.config.socketPath] : candidateSockets(isThisMachine(this.host) ? process.env : {});
    let lastErr = '';
    for (const p of tried) {
      try {
        if (!(await this.host.exists(p))) {
          lastErr = `no socket at ${p}`;
          continue;
        }
        const d = engineClient(p, this.requestTimeoutMs, this.host);
        await d.ping();
        this.docker = d;
        this.socketPath = p;
        return;
      } catch (e) {
        const unreachable = hostUnreachable(e);
        if (unreachable) throw unreachable;
        lastErr = `${p}: ${engineMessage(e)}`;
      }
    }
    throw new BackendError(
      `No Docker or Podman API answered${onHost(this.host)} (${lastErr})`,
      'ENOENT',
      `Tried ${tried.join(', ')}. Start Docker (sudo systemctl start docker) or the Podman API service ` +
        `(sudo systemctl start podman.socket, or: podman system service --time=0 unix:///run/podman/podman.sock), ` +
        `or set DOCKER_HOST / socketPath in virtscope.connections.`,
    );
  }

  /** Programs inside a container, statistics, a shell with a TTY and its log, through this connection's own engine client; the pid the engine reports as its host process. */
  capabilities(guest?: Guest): Capabilities {
    const caps: Capabilities = { engineStats: { of: (id) => this.containerStats(id) } };
    if (guest?.kind !== 'container') return caps;
    caps.exec = new EngineExecutor(() => this.api(), guest, this.host);
    caps.shell = engineShell(() => this.api(), guest.id, true);
    caps.log = engineLog(() => this.api(), guest.id, guest.name);
    const pid = guest.runtimeId;
    if (pid) caps.hostProcess = { host: this.host, pid: async () => pid };
    return caps;
  }

  /** One-shot stats (stream=false) of a running container. */
  private async containerStats(id: string): Promise<EngineStats> {
    try {
      return (await this.api().getContainer(id).stats({ stream: false })) as unknown as EngineStats;
    } catch (e) {
      throw this.fail(e);
    }
  }

  private api(): Docker {
    if (!this.docker) throw new BackendError('Not connected to the container engine');
    return this.docker;
  }

  /**
   * An engine error as the user should read it: the engine's own words for a refused request
   * (it has an HTTP status), a lost connection with its socket and a hint otherwise.
   */
  private fail(e: unknown): BackendError {
    const unreachable = hostUnreachable(e);
    if (unreachable) return unreachable;
    const ee = e as EngineError & { code?: string };
    if (ee?.statusCode !== undefined || !this.socketPath) return new BackendError(engineMessage(e), ee?.statusCode);
    return engineLost(this.socketPath, lostWhy(e), ee?.code ?? 'ECLOSED', this.host);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.heartbeat);
    const ev = this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    ev?.destroy?.();
    this.events = undefined;
  }

  /** The tooltip's reason for the absent Checkpoint verb, asked once per connection. */
  private checkpointWhy(): Promise<readonly string[]> {
    this.checkpointNote ??= checkpointAbsence(this.host).then((why) => [why]);
    return this.checkpointNote;
  }

  async list(): Promise<Guest[]> {
    let rows: Docker.ContainerInfo[];
    try {
      rows = await this.api().listContainers({ all: true });
    } catch (e) {
      throw this.fail(e);
    }
    const absentVerbs = await this.checkpointWhy();
    return rows.map((c) => ({
      absentVerbs,
      id: c.Id,
      name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
      kind: 'container' as const,
      state: mapContainerState(c.State),
      rawState: c.Status || c.State,
      image: c.Image,
      persistent: true,
    }));
  }

  async get(id: string): Promise<Guest | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.api().getContainer(id).inspect();
    } catch (e) {
      if ((e as EngineError).statusCode === 404) return undefined;
      throw this.fail(e);
    }
    const nano = info.HostConfig?.NanoCpus ?? 0;
    return {
      absentVerbs: await this.checkpointWhy(),
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      kind: 'container',
      state: mapContainerState(info.State?.Status ?? ''),
      rawState: info.State?.Status ?? '',
      image: info.Config?.Image,
      vcpus: nano ? Math.ceil(nano / 1e9) : undefined,
      memoryBytes: info.HostConfig?.Memory || undefined,
      runtimeId: info.State?.Pid || undefined,
      persistent: true,
    };
  }

  async perform(id: string, verb: Verb): Promise<void> {
    const c = this.api().getContainer(id);
    // stop and restart wait up to STOP_WAIT_S for the container before the engine answers
    const waiting = { abortSignal: AbortSignal.timeout(STOP_WAIT_S * 1000 + this.requestTimeoutMs) };
    try {
      switch (verb) {
        case 'start':
          await c.start();
          return;
        case 'shutdown':
          await c.stop({ t: STOP_WAIT_S, ...waiting });
          return;
        case 'reboot':
          await c.restart({ t: STOP_WAIT_S, ...waiting });
          return;
        case 'suspend':
          await c.pause();
          return;
        case 'resume':
          await c.unpause();
          return;
        case 'forceOff':
          await c.kill();
          return;
        case 'delete':
          await c.remove({ v: false, force: false });
          return;
      }
    } catch (e) {
      throw this.fail(e);
    }
  }

  async definition(id: string): Promise<Definition> {
    try {
      const info = await this.api().getContainer(id).inspect();
      return { language: 'json', text: JSON.stringify(info, null, 2) + '\n' };
    } catch (e) {
      throw this.fail(e);
    }
  }

  subscribe(listener: (ev: BackendEvent) => void): boolean {
    this.listener = listener;
    void this.openEvents();
    return true;
  }

  /** Tells the listener once that the connection is gone. */
  private disconnect(error: BackendError): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    clearTimeout(this.heartbeat);
    this.listener?.({ type: 'disconnected', error });
  }

  private async openEvents(): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.api().getEvents({ filters: { type: ['container'] } });
    } catch (e) {
      const err = this.fail(e);
      this.disconnect(new BackendError(`event stream: ${err.message}`, err.code, err.hint));
      return;
    }
    if (this.closed) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.events = stream;
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as { id?: string; Action?: string; status?: string; Actor?: { ID?: string } };
          this.listener?.({ type: 'changed', guestId: ev.Actor?.ID ?? ev.id, reason: ev.Action ?? ev.status ?? 'event' });
        } catch {
          /* a partial or foreign line: ignore */
        }
      }
    });
    const socket = this.socketPath ?? '?';
    stream.on('end', () => this.disconnect(engineLost(socket, 'the engine ended the event stream', 'ECLOSED', this.host)));
    stream.on('error', (e: Error) =>
      this.disconnect(hostUnreachable(e) ?? engineLost(socket, lostWhy(e), (e as { code?: string }).code ?? 'ECLOSED', this.host)),
    );
    this.scheduleHeartbeat();
  }

  /** The event stream is silent both when idle and when the engine hangs: a ping tells them apart. */
  private scheduleHeartbeat(): void {
    if (!this.heartbeatMs || this.closed || this.lost) return;
    this.heartbeat = setTimeout(async () => {
      try {
        await this.api().ping();
        this.scheduleHeartbeat();
      } catch (e) {
        this.disconnect(
          hostUnreachable(e) ?? engineLost(this.socketPath ?? '?', `ping failed: ${lostWhy(e)}`, (e as { code?: string }).code ?? 'ETIMEDOUT', this.host),
        );
      }
    }, this.heartbeatMs);
    this.heartbeat.unref?.();
  }
}
