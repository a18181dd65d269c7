/**
 * RSS of the bench's processes over time (Linux: /proc/<pid>/status), so a long run shows
 * whether memory stays flat. Samples every `everyMs`; a process that has exited is skipped.
 */
import { readFileSync } from 'node:fs';

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private readonly samples = new Map<string, { atS: number; mb: number }[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();

  constructor(
    private readonly pids: Record<string, number | undefined>,
    everyMs = 2000,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const atS = Math.round((performance.now() - this.t0) / 100) / 10;
    for (const [name, pid] of Object.entries(this.pids)) {
      const mb = pid === undefined ? undefined : rssMb(pid);
      if (mb === undefined) continue;
      this.samples.set(name, [...(this.samples.get(name) ?? []), { atS, mb }]);
    }
  }

  /** Per process: first, max and last MB, and the series as [seconds, MB] pairs (at most ~60, evenly thinned). */
  stop(): Record<string, { firstMb: number; maxMb: number; lastMb: number; series: [number, number][] }> {
    this.sample();
    clearInterval(this.timer);
    const out: Record<string, { firstMb: number; maxMb: number; lastMb: number; series: [number, number][] }> = {};
    for (const [name, xs] of this.samples) {
      const step = Math.max(1, Math.ceil(xs.length / 60));
      out[name] = {
        firstMb: xs[0]!.mb,
        maxMb: Math.max(...xs.map((x) => x.mb)),
        lastMb: xs[xs.length - 1]!.mb,
        series: xs.filter((_, i) => i % step === 0 || i === xs.length - 1).map((x) => [x.atS, x.mb]),
      };
    }
    return out;
  }
}
