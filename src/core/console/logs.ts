// Show Log: a guest's log as its manager writes it, followed. libvirt's per-domain log file and an
// lxc-tools container's console log are files on the guest's host, followed by `tail -F` there (a
// log rotated or recreated at the next start is picked up again); a container's log comes from
// the engine (logs?follow), split into stdout and stderr unless the container has a TTY.
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { Host } from '../host/host';
import { BackendError } from '../model';
import { parseLxcConfig } from '../backends/lxc';
import type { GuestLog, LogFollow } from './types';

/** Where libvirt writes a domain's log (its QEMU or libvirt_lxc command line, errors, exits). */
export const LIBVIRT_LOG_DIRS = { qemu: '/var/log/libvirt/qemu', 'libvirt-lxc': '/var/log/libvirt/lxc' } as const;

/** A name that is one file name, no more (libvirt refuses '/' in domain names anyway). */
function fileName(name: string): string {
  if (!name || /[/\0]/.test(name) || name === '.' || name === '..') throw new BackendError(`${JSON.stringify(name)} cannot be a log file name`, 'EINVAL');
  return name;
}

/** `tail -F` of a file on a host. */
export async function followHostFile(host: Host, file: string, lines: number): Promise<LogFollow> {
  if (!(await host.exists(file))) throw new BackendError(`there is no log at ${file} on ${host.label} (yet)`, 'ENOENT');
  const child = host.spawn(['tail', '-n', String(Math.max(0, Math.floor(lines))), '-F', '--', file]);
  const output = new PassThrough();
  child.stdout.pipe(output);
  child.stderr.on('data', (d: Buffer) => output.write(`[tail] ${d.toString('utf8')}`));
  return { source: `${file} on ${host.label}`, output, ended: child.exited.then(() => undefined), stop: () => child.kill() };
}

export function libvirtLog(host: Host, kind: 'qemu' | 'libvirt-lxc', name: string): GuestLog {
  return { follow: async (o) => followHostFile(host, path.join(LIBVIRT_LOG_DIRS[kind], `${fileName(name)}.log`), o.lines) };
}

/**
 * lxc-tools: the console log (`lxc.console.logfile`) when the container keeps one, else its lxc log
 * (`lxc.log.file`); neither set: say how to get one.
 */
export function lxcLog(host: Host, configPath: () => Promise<string>, name: string): GuestLog {
  return {
    follow: async (o) => {
      const file = await configPath();
      const entries = parseLxcConfig(await host.readFile(file));
      const get = (k: string) => entries.filter(([key]) => key === k).at(-1)?.[1];
      const log = get('lxc.console.logfile') || get('lxc.log.file');
      if (!log) {
        throw new BackendError(
          `"${name}" keeps no log: its config sets neither lxc.console.logfile nor lxc.log.file`,
          'ENOENT',
          `Add "lxc.console.logfile = /var/log/lxc/${name}.console.log" to ${file} (Edit Definition) and restart the container.`,
        );
      }
      return followHostFile(host, log, o.lines);
    },
  };
}

/**
 * The engine's log of a container: the last lines, then new ones as they come. Podman answers a
 * followed log only once the container writes something, so the request runs in the background and
 * stop() aborts it whether or not it has been answered.
 */
export function engineLog(engine: () => Docker, containerId: string, name: string): GuestLog {
  return {
    follow: async (o) => {
      const docker = engine();
      const container = docker.getContainer(containerId);
      const tty = !!(await container.inspect()).Config?.Tty;
      const ac = new AbortController();
      const output = new PassThrough();
      let raw: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
      const ended = (async () => {
        try {
          const opts = { follow: true as const, stdout: true, stderr: true, tail: Math.max(0, Math.floor(o.lines)), abortSignal: ac.signal };
          raw = (await container.logs(opts)) as unknown as NodeJS.ReadableStream & { destroy(): void };
          if (ac.signal.aborted) return raw.destroy();
          if (tty) raw.pipe(output, { end: false });
          else docker.modem.demuxStream(raw, output, output);
          await new Promise<void>((resolve) => {
            raw!.on('end', resolve);
            raw!.on('close', resolve);
            raw!.on('error', () => resolve());
          });
        } catch (e) {
          if (!ac.signal.aborted) output.write(`[virtscope] the engine's log stream failed: ${e instanceof Error ? e.message : String(e)}\n`);
        } finally {
          output.end();
        }
      })();
      const stop = async () => {
        ac.abort();
        raw?.destroy();
      };
      return { source: `the engine's log of ${name}`, output, ended, stop };
    },
  };
}
