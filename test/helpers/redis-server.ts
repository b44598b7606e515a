/**
 * A real, throw-away Redis server for tests (Debian's `redis-server` binary on PATH).
 * No persistence, bound to 127.0.0.1 on a free port, working dir in a fresh temp directory.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.js';

export interface RedisHandle {
  url: string;
  port: number;
  /** SIGTERM and wait for exit; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit, to simulate Redis going down. */
  kill(): Promise<void>;
  /** Start again on the same port (stopping first if still running). Data is gone (no persistence). */
  restart(): Promise<void>;
}

const BINARY = 'redis-server';
const START_TIMEOUT_MS = 10_000;
const INSTALL_HINT = 'run `apt-get install -y redis-server` (the CI script installs it)';

// Kill any server a test forgot to stop when the test process exits, so none outlive vitest.
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess, dir: string): void {
  live.set(child, dir);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, d] of live) {
        c.kill('SIGKILL');
        rmSync(d, { recursive: true, force: true });
      }
    });
  }
}

export function redisAvailable(): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, BINARY), fsConstants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** Send PING, resolve true on +PONG, false on anything else (refused, -LOADING, timeout). */
function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (v: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

interface Running {
  child: ChildProcess;
  dir: string;
  exited: Promise<void>;
}

async function launch(port: number, persistentDir?: string): Promise<Running> {
  const dir = persistentDir ?? (await mkdtemp(join(tmpdir(), 'redis-test-')));
  // Persistent: every write is on disk before Redis answers, so a kill and restart keeps the data.
  const persistence = persistentDir ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child, dir);
  let output = '';
  const collect = (d: Buffer): void => {
    output = (output + d.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = `exit code ${String(code)}, signal ${String(signal)}`;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exitInfo = `spawn error: ${err.message}`;
      resolve();
    });
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitInfo !== undefined) {
      await rm(dir, { recursive: true, force: true });
      if ((spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
        throw new Error(`redis-server not found on PATH; ${INSTALL_HINT}`);
      }
      throw new RedisStartError(`redis-server on port ${port} exited before answering PING (${exitInfo}):\n${output}`, output);
    }
    if (await ping(port, 500)) break;
    if (Date.now() >= deadline) {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, dir, exited };
}

class RedisStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

async function terminate(r: Running, signal: NodeJS.Signals, keepDir = false): Promise<void> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  await r.exited;
  if (!keepDir) await rm(r.dir, { recursive: true, force: true });
}

/** `persistent`: the data survives kill() and restart() (an outage, not a wipe). */
export async function startRedis(o: { persistent?: boolean } = {}): Promise<RedisHandle> {
  if (!redisAvailable()) throw new Error(`redis-server not found on PATH; ${INSTALL_HINT}`);

  // freePort() then binding it is racy; retry a few times on "address in use".
  let running: Running | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      running = await launch(port, o.persistent ? await mkdtemp(join(tmpdir(), 'redis-data-')) : undefined);
      break;
    } catch (err) {
      const inUse = err instanceof RedisStartError && /in use|EADDRINUSE/i.test(err.output);
      if (!inUse || attempt >= 5) throw err;
    }
  }

  let current: Running | undefined = running;
  const fixedPort = port;
  const dataDir = o.persistent ? running!.dir : undefined;
  const handle: RedisHandle = {
    url: `redis://127.0.0.1:${fixedPort}`,
    port: fixedPort,
    async stop() {
      const r = current;
      current = undefined;
      if (r) await terminate(r, 'SIGTERM');
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      const r = current;
      current = undefined;
      if (r) await terminate(r, 'SIGKILL', Boolean(dataDir));
    },
    async restart() {
      const r = current;
      current = undefined;
      if (r) await terminate(r, 'SIGTERM', Boolean(dataDir));
      current = await launch(fixedPort, dataDir);
    },
  };
  return handle;
}
