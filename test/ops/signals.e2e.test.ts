/**
 * `npm start` as an operator runs it: compiled JavaScript under node, stopped by a signal sent to
 * npm alone (as a process manager or `kill <pid of npm>` does) or to the app. The app must stop gracefully,
 * leave no process behind, and free its port and SQLite file so that a second start succeeds at once.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { SDKAPPID, TIM_SECRET_KEY, baseEnv } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, pause } from '../robustness/support.js';

let dir: string;
let fake: FakeSlack;
let emulator: PushEmulator;
const started = new Set<ChildProcess>();
/** App processes found under npm, killed at the end if a failed test left one behind. */
const appPids = new Set<number>();

beforeAll(async () => {
  // Build once; `npm start`'s prestart then finds dist/ up to date.
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 180_000 });
  dir = mkdtempSync(join(tmpdir(), 'tb-signals-'));
  fake = await FakeSlack.start();
  emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY });
}, 200_000);

afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of appPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  await emulator?.close();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface NpmStart {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` (optionally with more npm arguments) with the app's settings and nothing else inherited but PATH and HOME. */
function npmStart(env: Record<string, string>, args: string[] = []): NpmStart {
  const npm = spawn('npm', ['start', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(npm);
  let out = '';
  npm.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  npm.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { npm, output: () => out, exited };
}

async function healthy(port: number, run: NpmStart, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (run.npm.exitCode !== null) throw new Error(`npm start exited during start-up:\n${run.output()}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no /healthz within ${timeoutMs} ms:\n${run.output()}`);
    await pause(100);
  }
}

/** The processes `pid` started (its children), from /proc. */
function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((p) => ({ pid: Number(p), cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim() }));
}

/** Every process below `pid` (a shell in between would show here). */
function descendantsOf(pid: number): { pid: number; cmd: string }[] {
  return childrenOf(pid).flatMap((c) => [c, ...descendantsOf(c.pid)]);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0) until reaped; it is not running.
  return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

describe('npm start and signals', () => {
  it('SIGTERM or SIGINT to npm alone, or SIGTERM to the app: it stops gracefully, nothing remains, and the same port and SQLite file start again at once', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const env = {
      ...baseEnv({ slackApiUrl: fake.apiUrl, timBaseUrl: emulator.url, storeUrl: `sqlite://${join(dir, 'store.sqlite')}` }),
      PORT: String(port),
    };

    for (const [run, signal, to] of [
      // The first start is the README's: prestart builds (dist/ is fresh, so it is quick), then node runs it.
      [npmStart(env), 'SIGTERM', 'npm'],
      // The next ones start right after the previous exited, on the same port and file; prestart skipped to be quick.
      [undefined, 'SIGINT', 'npm'],
      [undefined, 'SIGTERM', 'app'],
    ] as const) {
      const current = run ?? npmStart(env, ['--ignore-scripts']);
      await healthy(port, current);
      const below = descendantsOf(current.npm.pid!);
      const app = below.find((p) => p.cmd === 'node dist/tim-broadcast.mjs');
      expect(app, `the compiled app runs under npm: ${JSON.stringify(below)}`).toBeDefined();
      appPids.add(app!.pid);

      if (to === 'npm') current.npm.kill(signal); // npm only: not its process group
      else process.kill(app!.pid, signal);
      const exit = await current.exited;
      await pause(200); // a shell in between would let the app linger; give it no excuse
      expect(isRunning(app!.pid), 'the app process is gone').toBe(false);
      expect(exit, `npm's exit; output:\n${current.output()}`).toEqual({ code: 0, signal: null });
      expect(below.map((p) => p.cmd), 'node is npm\'s own child (the script execs it): no shell to orphan it').toEqual(['node dist/tim-broadcast.mjs']);
      expect(current.output()).toContain(`"signal":"${signal}","budgetSeconds":25,"msg":"shutting down`);
      expect(current.output()).toContain('"msg":"tim-broadcast stopped"');
      expect(current.output(), 'no tsx at run time').not.toMatch(/tsx/);
    }
  });
});
