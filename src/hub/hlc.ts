/**
 * Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a counter, with the node id
 * as the final tie-break. The string form sorts lexicographically in clock order:
 * `<13-digit ms>:<6-digit base36 counter>:<node id>`.
 */
export interface Hlc {
  wallMs: number;
  counter: number;
  node: string;
}

const HLC_PATTERN = /^(\d{13}):([0-9a-z]{6}):([A-Za-z0-9._-]{1,64})$/;

/** Accepts exactly the string form produced by {@link formatHlc}. */
export const HLC_REGEX = HLC_PATTERN;

/** Node ids: letters, digits, dot, dash, underscore; at most 64 characters. */
export const NODE_ID_REGEX = /^[A-Za-z0-9._-]{1,64}$/;

export function formatHlc(h: Hlc): string {
  return `${String(h.wallMs).padStart(13, '0')}:${h.counter.toString(36).padStart(6, '0')}:${h.node}`;
}

export function parseHlc(s: string): Hlc {
  const m = HLC_PATTERN.exec(s);
  if (!m) throw new Error(`Not a hybrid logical clock timestamp: ${JSON.stringify(s)}`);
  return { wallMs: Number(m[1]), counter: parseInt(m[2] ?? '0', 36), node: m[3] ?? '' };
}

/** Total order over HLC strings (node id breaks ties). */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A node's clock. `now()` stamps a local event; `observe()` folds in a remote timestamp. */
export class HybridClock {
  private wallMs = 0;
  private counter = 0;

  constructor(
    readonly node: string,
    private readonly wall: () => number = Date.now,
  ) {
    if (!NODE_ID_REGEX.test(node)) throw new Error(`Invalid node id ${JSON.stringify(node)}: use letters, digits, '.', '-', '_' (max 64).`);
  }

  now(): string {
    const physical = this.wall();
    if (physical > this.wallMs) {
      this.wallMs = physical;
      this.counter = 0;
    } else {
      this.counter += 1;
    }
    return formatHlc({ wallMs: this.wallMs, counter: this.counter, node: this.node });
  }

  /** Advance past a timestamp received from another node, so later local stamps sort after it. */
  observe(remote: string): void {
    const r = parseHlc(remote);
    const physical = this.wall();
    const maxWall = Math.max(this.wallMs, r.wallMs, physical);
    if (maxWall === this.wallMs && maxWall === r.wallMs) this.counter = Math.max(this.counter, r.counter) + 1;
    else if (maxWall === this.wallMs) this.counter += 1;
    else if (maxWall === r.wallMs) this.counter = r.counter + 1;
    else this.counter = 0;
    this.wallMs = maxWall;
  }
}
