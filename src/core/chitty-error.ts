/**
 * The root of every error ChittyChat throws on purpose, and the one function that turns any
 * thrown value into a queue decision (STYLE.md rules 6 and 8).
 *
 * This module imports nothing, so `renderers/` (which may import nothing but shared types, STYLE.md
 * rule 5) can extend {@link ChittyError} without pulling in runtime code; `renderers/boundary.test.ts`
 * allows this one file and checks that it stays import-free.
 */

/** What every {@link ChittyError} is built with. */
export interface ChittyErrorOptions {
  /** Whether doing the same thing again later can succeed. Every error states it; there is no default. */
  retryable: boolean;
  cause?: unknown;
}

/**
 * Base of every ChittyChat error: a stable machine-readable `code` (`rate_limited`, `not_found`,
 * `render_validation`, …) and an explicit `retryable`.
 */
export class ChittyError extends Error {
  override name = 'ChittyError';
  readonly code: string;
  /** Whether doing the same thing again later can succeed. */
  readonly retryable: boolean;

  constructor(message: string, code: string, opts: ChittyErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable;
  }
}

/** A setting is missing or wrong; the message says what to set. Not retryable: fix the config. */
export class ConfigError extends ChittyError {
  override name = 'ConfigError';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, 'config', { ...opts, retryable: false });
  }
}

/** How the queues treat a thrown value: retry it with backoff, or dead-letter it now. */
export interface ErrorClassification {
  retryable: boolean;
  /** The {@link ChittyError} code, `network` for a Node network failure, `unknown` otherwise. */
  code: string;
  message: string;
}

/**
 * Node/undici error codes that mean "the connection failed" — transient, worth a retry even when
 * an adapter forgot to wrap them in a `NetworkError`.
 */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** How many `cause` links {@link classifyError} follows. */
const CAUSE_DEPTH = 4;

/**
 * Classifies any thrown value for the queues:
 * - a {@link ChittyError} (or one found in its `cause` chain) → its own `retryable` and `code`;
 * - a Node network failure (`code` in {@link TRANSIENT_NETWORK_CODES}, or a `TimeoutError`) →
 *   retryable, code `network`;
 * - anything else → **not retryable**, code `unknown`. Decision: every sender turns the failures it
 *   knows into a typed ChittyError, so an unclassified error is a bug (a TypeError in a renderer, an
 *   SDK error an adapter did not wrap). Retrying it fails the same way each time, and each retry holds
 *   the destination's later changes behind it; a dead letter keeps the rows, says why, and can be
 *   replayed once the bug is fixed.
 */
export function classifyError(err: unknown): ErrorClassification {
  const message = messageOf(err);
  let current: unknown = err;
  for (let depth = 0; depth <= CAUSE_DEPTH && current !== undefined && current !== null; depth++) {
    if (current instanceof ChittyError) return { retryable: current.retryable, code: current.code, message };
    const code = (current as { code?: unknown }).code;
    const name = (current as { name?: unknown }).name;
    if ((typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) || name === 'TimeoutError') {
      return { retryable: true, code: 'network', message };
    }
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return { retryable: false, code: 'unknown', message };
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
