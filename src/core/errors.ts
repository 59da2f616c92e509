/** Where an error came from, after Sinch's `SINErrorDomain*`. */
export type ErrorDomain = 'argument' | 'capability' | 'network' | 'signalling' | 'media' | 'sip' | 'api';

export interface CallingErrorInit {
  /** For `sip` errors: the SIP status code (e.g. 486). */
  sipStatus?: number;
  /** For `sip` errors: the reason phrase (e.g. "Busy Here"). */
  sipReason?: string;
  cause?: unknown;
}

/**
 * The one error type of the SDK: every rejected promise and every `details.error` is a `CallingError`.
 * `domain` says which part failed, `code` is a stable machine-readable identifier, `message` is for humans.
 */
export class CallingError extends Error {
  override readonly name = 'CallingError';
  readonly sipStatus?: number;
  readonly sipReason?: string;

  constructor(
    readonly domain: ErrorDomain,
    readonly code: string,
    message: string,
    init: CallingErrorInit = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    if (init.sipStatus !== undefined) this.sipStatus = init.sipStatus;
    if (init.sipReason !== undefined) this.sipReason = init.sipReason;
  }

  /** A plain-object form, safe to send over the wire or log as JSON. */
  toJSON(): { domain: ErrorDomain; code: string; message: string; sipStatus?: number; sipReason?: string } {
    return {
      domain: this.domain,
      code: this.code,
      message: this.message,
      ...(this.sipStatus === undefined ? {} : { sipStatus: this.sipStatus }),
      ...(this.sipReason === undefined ? {} : { sipReason: this.sipReason }),
    };
  }
}

/** Turns a getUserMedia failure into a `media` CallingError with a message a user understands. */
export function mediaError(err: unknown): CallingError {
  const name = err instanceof Error ? err.name : '';
  const detail = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new CallingError('media', 'permission-denied', 'Access to the microphone or camera was refused.', { cause: err });
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new CallingError('media', 'device-not-found', 'No microphone or camera was found.', { cause: err });
    case 'NotReadableError':
    case 'AbortError':
      return new CallingError('media', 'device-busy', 'The microphone or camera could not be started; another application may be using it.', { cause: err });
    default:
      return new CallingError('media', 'media-failed', `Could not start the microphone or camera: ${detail}`, { cause: err });
  }
}

/** A CallingError from its wire form (`toJSON()` of the other side's error). */
export function errorFromWire(e: ReturnType<CallingError['toJSON']>): CallingError {
  return new CallingError(e.domain, e.code, e.message, {
    ...(e.sipStatus === undefined ? {} : { sipStatus: e.sipStatus }),
    ...(e.sipReason === undefined ? {} : { sipReason: e.sipReason }),
  });
}
