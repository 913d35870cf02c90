// What a definition write can run into, for every backend that has editable definitions.
import { BackendError } from '../model';

/** The host rejected the definition; `message` is the host's own. Nothing on the host changed. */
export class DefinitionRejectedError extends BackendError {
  constructor(message: string, code?: number | string) {
    super(message, code);
    this.name = 'DefinitionRejectedError';
  }
}

/** The host's definition is no longer the text the document was opened from. */
export class DefinitionConflictError extends BackendError {
  constructor(
    message: string,
    /** What the host has now. */
    readonly current: string,
  ) {
    super(message, 'ECONFLICT');
    this.name = 'DefinitionConflictError';
  }
}

/** A guest with that name (or UUID) exists already; creating would replace it. */
export class GuestExistsError extends BackendError {
  constructor(message: string) {
    super(message, 'EEXIST');
    this.name = 'GuestExistsError';
  }
}

/**
 * Refuses a write over a host text the document was not opened from. Without a baseline (an
 * editor restored after a reload) there is no knowing what the user saw: only a host text equal to
 * the one being saved goes without asking.
 */
export function checkBaseline(what: string, current: string, text: string, baseline: string | undefined, force: boolean | undefined): void {
  if (force) return;
  if (baseline === undefined) {
    if (current !== text)
      throw new DefinitionConflictError(
        `${what} on the host differs from this document, and virtscope has no record of the version this document was opened from (restored after a reload?)`,
        current,
      );
  } else if (current !== baseline) {
    throw new DefinitionConflictError(`${what} changed on the host since it was opened`, current);
  }
}
