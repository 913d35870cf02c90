// How a snapshot looks in the tree, without vscode (unit-tested): label, description, tooltip,
// contextValue (package.json menus match its words), icon.
import { SnapshotInfo } from './model';

export interface SnapshotItemSpec {
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly contextValue: string;
  readonly icon: string;
}

const LOCATION_WORDS = {
  internal: 'inside the qcow2 images',
  external: 'in overlay files',
  mixed: 'partly inside images, partly in files',
  copy: 'a whole copy of the root file system',
} as const;

const CONTENT_WORDS = { memory: 'with memory', 'disk-only': 'disk only', stopped: 'guest was off' } as const;

/** "2023-11-14 22:13" in UTC (the host's own clock may be elsewhere). */
export function snapshotTime(s: SnapshotInfo): string {
  return s.creationTime ? new Date(s.creationTime * 1000).toISOString().slice(0, 16).replace('T', ' ') : 'unknown time';
}

/** Markdown-safe text (names may hold *, _, [, <, `). */
function md(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, (c) => `\\${c}`);
}

export function snapshotItemSpec(s: SnapshotInfo, childCount: number): SnapshotItemSpec {
  const words = [snapshotTime(s), CONTENT_WORDS[s.content], s.location];
  return {
    label: s.name,
    description: `${s.current ? 'current · ' : ''}${words.join(' · ')}`,
    tooltip: [
      `**${md(s.name)}**${s.current ? ' — current' : ''}`,
      s.description ? md(s.description) : '',
      `Taken: ${snapshotTime(s)} UTC, guest ${md(s.state)}`,
      `Content: ${CONTENT_WORDS[s.content]}; ${s.location} (${LOCATION_WORDS[s.location]})`,
      s.parent ? `Parent: ${md(s.parent)}` : 'No parent (a root snapshot)',
      childCount ? `${childCount} child snapshot${childCount === 1 ? '' : 's'}` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
    contextValue: ['snapshot', `location-${s.location}`, `content-${s.content}`, s.current ? 'current' : '', childCount ? 'has-children' : '']
      .filter(Boolean)
      .join(' '),
    icon: s.current ? 'pass-filled' : 'history',
  };
}
