/**
 * Logging for failures that repeat (a Redis that is down errors on every reconnect, every queue and
 * worker re-emits it): each line says what failed and what happens next, without flooding.
 */
import type { Logger } from './log.ts';

/** How often the same failure is logged again while it lasts (ms). */
export const REPEAT_LOG_MS = 60_000;
/** Distinct messages remembered per log; the oldest is forgotten past this. */
const MAX_MESSAGES = 50;

export interface ThrottledErrorLogOptions {
  /** Log the same message again at most this often (default {@link REPEAT_LOG_MS}). */
  intervalMs?: number;
  level?: 'warn' | 'error';
  /** Clock, for tests (default `Date.now`). */
  now?: () => number;
}

/**
 * Logs a recurring failure at warn (or error): the first occurrence of each distinct message at
 * once, then at most one line per interval carrying how many were `suppressed`; `recovered()` logs
 * one info line when the failure ends.
 */
export class ThrottledErrorLog {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();
  private failures = 0;
  private readonly intervalMs: number;
  private readonly level: 'warn' | 'error';
  private readonly now: () => number;

  /**
   * @param what what failed, e.g. `Redis producer connection`
   * @param next what happens next, e.g. `ioredis reconnects every 2 s at most; …`
   */
  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly next: string,
    opts: ThrottledErrorLogOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? REPEAT_LOG_MS;
    this.level = opts.level ?? 'warn';
    this.now = opts.now ?? Date.now;
  }

  report(err: unknown, extra: Record<string, unknown> = {}): void {
    this.failures++;
    const message = err instanceof Error ? err.message : String(err);
    const now = this.now();
    const prev = this.seen.get(message);
    if (prev && now - prev.at < this.intervalMs) {
      prev.suppressed++;
      return;
    }
    if (!prev && this.seen.size >= MAX_MESSAGES) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(message, { at: now, suppressed: 0 });
    const code = (err as { code?: unknown } | null)?.code;
    this.logger[this.level](
      { ...extra, err: message, ...(typeof code === 'string' ? { code } : {}), ...(prev && prev.suppressed > 0 ? { suppressed: prev.suppressed } : {}) },
      `${this.what} failed; ${this.next}`,
    );
  }

  /** The failure is over: one info line if anything was reported since the last recovery. */
  recovered(extra: Record<string, unknown> = {}): void {
    if (this.failures === 0) return;
    this.logger.info({ ...extra, failures: this.failures }, `${this.what} recovered`);
    this.failures = 0;
    this.seen.clear();
  }
}

/** An ioredis client (or anything that emits `error` and `ready` like one). */
export interface ConnectionEvents {
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** Reports a connection's errors through `log` and its return through `log.recovered()`. */
export function watchConnection(client: ConnectionEvents, log: ThrottledErrorLog): void {
  client.on('error', (err) => log.report(err));
  client.on('ready', () => log.recovered());
}
