/**
 * What the benches read of their processes (Linux /proc): RSS and CPU now ({@link procStats}), CPU
 * over a run ({@link cpuMeter}), and RSS over time, so a long run shows whether memory stays flat
 * ({@link RssSampler}: samples every `everyMs`; a process that has exited is skipped).
 */
import { readFileSync } from 'node:fs';

/** VmRSS / VmHWM of a process in MB and its CPU ms so far (utime + stime); undefined once it has exited. */
export function procStats(pid: number | undefined): { rssMb: number; peakMb: number; cpuMs: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024), cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
  } catch {
    return undefined;
  }
}

/** CPU each process used from this call to the returned function's, in ms per `per` units of work. */
export function cpuMeter(pids: Record<string, number | undefined>): (units: number, per?: number) => Record<string, number> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procStats(pid)?.cpuMs]));
  return (units, per = 1000) =>
    Object.fromEntries(
      Object.entries(pids).flatMap(([k, pid]) => {
        const a = before[k];
        const b = procStats(pid)?.cpuMs;
        return a === undefined || b === undefined ? [] : [[k, Math.round(((b - a) / Math.max(1, units)) * per)]];
      }),
    );
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
      const mb = procStats(pid)?.rssMb;
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
