// Every command id virtscope registers, once. The ids are package.json's and users' keybindings use
// them: never rename one. No vscode import (a unit test compares this with package.json).
export const CMD = {
  start: 'virtscope.start',
  shutdown: 'virtscope.shutdown',
  reboot: 'virtscope.reboot',
  suspend: 'virtscope.suspend',
  resume: 'virtscope.resume',
  forceOff: 'virtscope.forceOff',
  delete: 'virtscope.delete',
  inspect: 'virtscope.inspect',
  refresh: 'virtscope.refresh',
  connectionAdd: 'virtscope.connection.add',
  connectionRemove: 'virtscope.connection.remove',
  connectionHelp: 'virtscope.connection.help',
  showLog: 'virtscope.showLog',
  metricsShow: 'virtscope.metrics.show',
  metricsHost: 'virtscope.metrics.hostOverview',
  metricsObserve: 'virtscope.metrics.observe',
  metricsCompare: 'virtscope.metrics.compare',
  /** Not in the palette: the sampler's state, for tests. */
  metricsState: 'virtscope.metrics._state',
  benchRun: 'virtscope.bench.run',
  benchCompare: 'virtscope.bench.compare',
  benchRerun: 'virtscope.bench.rerun',
  editDefinition: 'virtscope.editDefinition',
  newGuest: 'virtscope.newGuest',
  traceTx: 'virtscope.traceTx',
  openConsole: 'virtscope.openConsole',
  openShell: 'virtscope.openShell',
  showGuestLog: 'virtscope.showGuestLog',
} as const;

export type CommandId = (typeof CMD)[keyof typeof CMD];

/** Registered but not contributed in package.json (tests call them). */
export const INTERNAL_COMMANDS: readonly CommandId[] = [CMD.metricsState];
