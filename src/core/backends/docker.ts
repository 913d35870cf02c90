// Docker and Podman (Docker-compatible API) through dockerode over a unix socket.
import { promises as fs } from 'node:fs';
import Docker from 'dockerode';
import { Backend, BackendError, BackendEvent, ConnectionConfig, Definition, Guest, GuestState, Verb } from '../model';

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

export class DockerBackend implements Backend {
  private docker: Docker | undefined;
  private socketPath: string | undefined;
  private events: NodeJS.ReadableStream | undefined;
  private listener: ((ev: BackendEvent) => void) | undefined;
  private closed = false;

  constructor(readonly config: ConnectionConfig) {}

  /** The socket actually used (after connect). */
  get socket(): string | undefined {
    return this.socketPath;
  }

  async connect(): Promise<void> {
    const tried = this.config.socketPath ? [this.config.socketPath] : candidateSockets();
    let lastErr = '';
    for (const p of tried) {
      try {
        await fs.access(p);
      } catch {
        lastErr = `no socket at ${p}`;
        continue;
      }
      const d = new Docker({ socketPath: p, timeout: 15_000 });
      try {
        await d.ping();
        this.docker = d;
        this.socketPath = p;
        return;
      } catch (e) {
        lastErr = `${p}: ${engineMessage(e)}`;
      }
    }
    throw new BackendError(
      `No Docker or Podman API answered (${lastErr})`,
      'ENOENT',
      `Tried ${tried.join(', ')}. Start Docker (sudo systemctl start docker) or the Podman API service ` +
        `(sudo systemctl start podman.socket, or: podman system service --time=0 unix:///run/podman/podman.sock), ` +
        `or set DOCKER_HOST / socketPath in virtscope.connections.`,
    );
  }

  private api(): Docker {
    if (!this.docker) throw new BackendError('Not connected to the container engine');
    return this.docker;
  }

  async close(): Promise<void> {
    this.closed = true;
    const ev = this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    ev?.destroy?.();
    this.events = undefined;
  }

  async list(): Promise<Guest[]> {
    let rows: Docker.ContainerInfo[];
    try {
      rows = await this.api().listContainers({ all: true });
    } catch (e) {
      throw new BackendError(engineMessage(e));
    }
    return rows.map((c) => ({
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
      throw new BackendError(engineMessage(e));
    }
    const nano = info.HostConfig?.NanoCpus ?? 0;
    return {
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
    try {
      switch (verb) {
        case 'start':
          await c.start();
          return;
        case 'shutdown':
          await c.stop({ t: 10 });
          return;
        case 'reboot':
          await c.restart({ t: 10 });
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
      throw new BackendError(engineMessage(e), (e as EngineError).statusCode);
    }
  }

  async definition(id: string): Promise<Definition> {
    try {
      const info = await this.api().getContainer(id).inspect();
      return { language: 'json', text: JSON.stringify(info, null, 2) + '\n' };
    } catch (e) {
      throw new BackendError(engineMessage(e), (e as EngineError).statusCode);
    }
  }

  subscribe(listener: (ev: BackendEvent) => void): boolean {
    this.listener = listener;
    void this.openEvents();
    return true;
  }

  private async openEvents(): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.api().getEvents({ filters: { type: ['container'] } });
    } catch (e) {
      this.listener?.({ type: 'disconnected', error: new BackendError(`event stream: ${engineMessage(e)}`) });
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
    const ended = (err?: Error) => {
      if (this.closed) return;
      this.listener?.({ type: 'disconnected', error: new BackendError(`engine event stream ended${err ? `: ${err.message}` : ''}`) });
    };
    stream.on('end', () => ended());
    stream.on('error', (e: Error) => ended(e));
  }
}
