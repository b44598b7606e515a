// Child processes of the bench and what the kernel says about each one (CPU, memory), so that the
// app, the baseline and the load generator are measured separately.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';

export interface Child {
  name: string;
  pid: number;
  port: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logPath: string;
  /** ms from spawn() to the first 200 from the health route */
  startMs: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export { sleep };

/** Start `command args` with exactly `env`, logs to `logPath`, and wait until `healthPath` answers 200. */
export async function startChild(o: {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  port: number;
  healthPath: string;
  logPath: string;
  timeoutMs?: number;
}): Promise<Child> {
  const log = openSync(o.logPath, 'a');
  const started = performance.now();
  const proc = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, stdio: ['ignore', log, log] });
  closeSync(log);
  live.add(proc);
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      gone = { code, signal };
      resolve(gone);
    }),
  );
  const origin = `http://127.0.0.1:${o.port}`;
  const deadline = started + (o.timeoutMs ?? 30_000);
  for (;;) {
    if (gone) throw new Error(`${o.name} exited during start-up (${JSON.stringify(gone)}); log:\n${tail(o.logPath)}`);
    const ok = await fetch(origin + o.healthPath).then(
      async (r) => {
        await r.arrayBuffer();
        return r.status === 200;
      },
      () => false,
    );
    if (ok) break;
    if (performance.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${o.name} did not answer ${o.healthPath} in time; log:\n${tail(o.logPath)}`);
    }
    await sleep(5);
  }
  return { name: o.name, pid: proc.pid!, port: o.port, origin, proc, exited, logPath: o.logPath, startMs: performance.now() - started };
}

/** SIGTERM (graceful: lets --cpu-prof write its profile), SIGKILL after `graceMs`. */
export async function stopChild(c: Child | undefined, graceMs = 15_000): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(timer);
}

export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ------------------------------------------------------------------ /proc

const CLOCK_TICKS = 100; // USER_HZ; 100 on every Linux build Node supports

/**
 * CPU seconds the process has used, all threads: the sum of each thread's on-CPU time from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds; the app's threads live as long as it does), or
 * utime+stime from /proc/<pid>/stat (10-ms ticks) where the kernel has no schedstat.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start with field 3 (state).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread ended meanwhile
      }
    }
  } catch {
    return ticks;
  }
  return ns > 0 ? ns / 1e9 : ticks;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

export const rssMiB = (pid: number) => statusKb(pid, 'VmRSS') / 1024;
export const peakRssMiB = (pid: number) => statusKb(pid, 'VmHWM') / 1024;

/** Every live descendant of `pid`. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) out.push(child), walk(child);
  };
  walk(pid);
  return out;
}

/**
 * Run a command to completion and report its wall time and the peak RSS of its largest descendant
 * (the command itself is often a launcher such as npm). Peak = VmHWM polled every 20 ms.
 */
export async function runMeasured(o: { command: string; args: string[]; env: Record<string, string>; cwd: string; logPath: string }): Promise<{
  code: number | null;
  seconds: number;
  peakMiB: number;
}> {
  const log = openSync(o.logPath, 'a');
  const devnull = openSync('/dev/null', 'w');
  const started = performance.now();
  const proc = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, stdio: ['ignore', devnull, log] });
  closeSync(log);
  closeSync(devnull);
  live.add(proc);
  let peak = 0;
  let peakSelf = 0;
  const poll = setInterval(() => {
    try {
      peakSelf = Math.max(peakSelf, peakRssMiB(proc.pid!));
      for (const pid of descendants(proc.pid!)) peak = Math.max(peak, peakRssMiB(pid));
    } catch {
      // exited between listing and reading
    }
  }, 20);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  clearInterval(poll);
  live.delete(proc);
  return { code, seconds: (performance.now() - started) / 1000, peakMiB: peak || peakSelf };
}
