/**
 * What the benches read of their processes (Linux /proc): RSS and CPU now ({@link procStats}), CPU
 * over a run ({@link cpuMeter}), and RSS over time, so a long run shows whether memory stays flat
 * ({@link RssSampler}: samples every `everyMs`; a process that has exited is skipped).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS / VmHWM of a process in MB and its CPU ms so far (utime + stime); undefined once it has exited. */
export function procStats(pid: number | undefined): { rssMb: number; peakMb: number; cpuMs: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024), cpuMs: statOf(pid).cpuMs };
  } catch {
    return undefined;
  }
}

/** A process's command name and CPU ms so far (utime + stime, /proc/<pid>/stat); throws once it has exited. */
function statOf(pid: number | string): { comm: string; cpuMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/** CPU ms so far of each process whose command name is `comm` (Postgres' processes, the Redis server), by pid. */
export function cpuMsOf(comm: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = statOf(pid);
      if (stat.comm === comm) out.set(pid, stat.cpuMs);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** CPU ms `comm`'s processes used between two {@link cpuMsOf} readings (a process that exited in between is not counted). */
function usedBetween(before: Map<string, number>, after: Map<string, number>): number {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}

/** The machine's busy and total CPU time so far (/proc/stat, all cores, in clock ticks). */
function machineTicks(): { busy: number; total: number } {
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - (n[3] ?? 0) - (n[4] ?? 0), total };
}

/**
 * CPU each process used from this call to the returned function's, in ms per `per` units of work;
 * also all of Postgres (`postgres`: its backends and background processes, less any that exited
 * during the run) and the Redis server (`redis`), and how busy the whole machine was
 * (`machineBusyPercent`, all cores).
 */
export function cpuMeter(pids: Record<string, number | undefined>): (units: number, per?: number) => Record<string, number> {
  const read = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procStats(pid)?.cpuMs]));
  const before = read();
  const services = { postgres: cpuMsOf('postgres'), redis: cpuMsOf('redis-server') };
  const ticks = machineTicks();
  return (units, per = 1000) => {
    const after = read();
    const now = machineTicks();
    const perUnit = (ms: number) => Math.round((ms / Math.max(1, units)) * per);
    const out: Record<string, number> = Object.fromEntries(
      Object.keys(after).flatMap((k) => {
        const a = before[k];
        const b = after[k];
        return a === undefined || b === undefined ? [] : [[k, perUnit(b - a)]];
      }),
    );
    out.postgres = perUnit(usedBetween(services.postgres, cpuMsOf('postgres')));
    out.redis = perUnit(usedBetween(services.redis, cpuMsOf('redis-server')));
    out.machineBusyPercent = Math.round((100 * (now.busy - ticks.busy)) / Math.max(1, now.total - ticks.total));
    return out;
  };
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
