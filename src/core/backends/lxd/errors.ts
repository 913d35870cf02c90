// What went wrong talking to LXD (or Incus), in words a user understands: the server's own message
// and what was asked of it. Typed so features can react (412: changed meanwhile; an operation that
// cannot be cancelled) without parsing text.

/** LXD answered with an error (or an operation it ran failed). */
export class LxdError extends Error {
  constructor(
    /** The HTTP status, or the failed operation's status code (400 Failure, 401 Cancelled). */
    readonly status: number,
    /** What was asked: "POST /1.0/instances". */
    readonly path: string,
    /** LXD's own message, as it gave it. */
    readonly lxdMessage: string,
    /** LXD's error_code, when it sent one. */
    readonly code?: number,
  ) {
    super(lxdErrorMessage(status, path, lxdMessage));
    this.name = 'LxdError';
  }
}

function lxdErrorMessage(status: number, path: string, lxdMessage: string): string {
  const said = lxdMessage || `HTTP ${status}`;
  const hint = status === 403 && /not authorized|forbidden/i.test(said) ? ' (is this client certificate trusted? `lxc config trust add` trusts it)' : '';
  return `LXD refused ${readable(path)}: ${said}${hint}`;
}

/** A request path as a user reads it: names decoded, control characters shown as escapes. */
export function readable(path: string): string {
  let text = path;
  try {
    text = decodeURIComponent(path);
  } catch {
    // not valid percent-encoding: show it as sent
  }
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A save with an ETag that no longer matches: someone else changed the object meanwhile (HTTP 412). */
export class LxdChangedError extends LxdError {
  constructor(path: string, lxdMessage: string) {
    super(412, path, lxdMessage, 412);
    this.name = 'LxdChangedError';
    this.message = `It was changed meanwhile by someone else; nothing was saved (${readable(path)}: ${lxdMessage || 'ETag mismatch'})`;
  }
}

/** The operation was cancelled (by us, after an abort). */
export class LxdCancelledError extends LxdError {
  constructor(path: string, description: string) {
    super(401, path, `${description || 'the operation'} was cancelled`);
    this.name = 'LxdCancelledError';
    this.message = `${description || 'The operation'} was cancelled (${readable(path)})`;
  }
}

/** An abort asked LXD to cancel an operation that LXD cannot cancel: it goes on on the server. */
export class LxdNotCancellableError extends LxdError {
  constructor(path: string, description: string, lxdMessage: string, location?: string) {
    super(403, path, lxdMessage);
    this.name = 'LxdNotCancellableError';
    const where = location ? ` on ${location}` : '';
    this.message = `LXD cannot cancel "${description || readable(path)}" (${lxdMessage}); it goes on${where}, and virtscope stopped waiting for it`;
  }
}

/** No answer reached us: the socket or address cannot be reached, or the answer was not LXD's. */
export class LxdConnectError extends Error {
  constructor(
    readonly where: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot talk to LXD at ${where}: ${detail}`, options);
    this.name = 'LxdConnectError';
  }
}

/** The HTTPS server presented another certificate than the pinned one: nothing was sent to it. */
export class LxdCertificateMismatchError extends Error {
  readonly code = 'LXD_CERT_MISMATCH';
  constructor(
    readonly where: string,
    readonly presentedFingerprint: string,
    readonly pinnedFingerprint: string,
  ) {
    super(
      `the server at ${where} presented the certificate with fingerprint ${presentedFingerprint}, not the pinned one (${pinnedFingerprint}); ` +
        'nothing was sent to it. If the server was reinstalled, add it again to see and pin its new certificate.',
    );
    this.name = 'LxdCertificateMismatchError';
  }
}
