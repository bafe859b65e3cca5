/** Errors raised by the bindings themselves (error replies from the engine are `ReplyError`, resp.ts). */

/** A pending call was cancelled through its AbortSignal. `cause` is the signal's reason. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

/** The connection was closed (by `conn.close()`, or by the engine after QUIT / a protocol error). */
export class ConnectionClosedError extends Error {
  constructor(message = 'rivulet: connection closed') {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

/** The engine was closed with `engine.close()` while the call was pending, or before it was made. */
export class EngineClosedError extends Error {
  constructor(message = 'rivulet: engine closed') {
    super(message);
    this.name = 'EngineClosedError';
  }
}
