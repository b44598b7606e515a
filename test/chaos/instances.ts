/**
 * The real app as child processes for the fault campaign: compiled once to plain JavaScript (so a
 * restart after SIGKILL takes a fraction of a second rather than tsx's compile at load), each
 * instance on a fixed port so a restarted one answers where Slack already sends its requests.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Where the campaign's compiled app lives (not dist/: `npm start` in another test may be building that). */
export const BUILD_DIR = join(ROOT, 'test', 'chaos', '.build');
const COMPILED_MAIN = join(BUILD_DIR, 'src', 'main.js');

const realSetTimeout = globalThis.setTimeout;
export const pause = (ms: number) => new Promise<void>((r) => realSetTimeout(r, ms));

/** Compile src/ and views/ (tsconfig.build.json) into BUILD_DIR; incremental, so a rebuild of unchanged code is quick. */
export async function buildApp(): Promise<string> {
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const args = [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR, '--tsBuildInfoFile', join(BUILD_DIR, '.tsbuildinfo')];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    // Type errors still emit JavaScript (other engineers' work in progress); only a missing output is fatal.
    if (!existsSync(COMPILED_MAIN)) throw new Error(`tsc produced no ${COMPILED_MAIN}: ${(error as { stdout?: string }).stdout ?? String(error)}`);
  }
  return COMPILED_MAIN;
}

/** Keep the last part of a child's output only: a long campaign must not grow without bound. */
const OUTPUT_KEEP = 256 * 1024;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One app instance slot: a name, a port, and the process currently running there (if any). */
export class Instance {
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<Exit> | undefined;
  private out = '';
  private readonly cwd = mkdtempSync(join(tmpdir(), 'tb-chaos-'));
  /** Set while we are killing or stopping it, so that only other exits count as crashes. */
  private expectingExit = false;
  /** Exits we did not cause, with the output of the process that exited. */
  readonly crashes: { exit: Exit; output: string }[] = [];
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly main: string,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  get alive(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  output(): string {
    return this.out;
  }

  /** Forget the output so far (checked after each trial). */
  clearOutput(): void {
    this.out = '';
  }

  /** Start the app and wait until /healthz answers 200. `instanceId` reuses a name (a restart in place). */
  async start(o: { instanceId?: string } = {}): Promise<void> {
    if (this.alive) throw new Error(`instance ${this.name} is already running`);
    const env = { ...this.env, PORT: String(this.port), ...(o.instanceId ? { INSTANCE_ID: o.instanceId } : {}) };
    const child = spawn(process.execPath, [this.main], { cwd: this.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.starts++;
    live.add(child);
    this.child = child;
    this.expectingExit = false;
    this.out = '';
    const collect = (d: Buffer) => {
      this.out += d.toString('utf8');
      if (this.out.length > 2 * OUTPUT_KEEP) this.out = this.out.slice(-OUTPUT_KEEP);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exitedPromise = new Promise<Exit>((resolveExit) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (!this.expectingExit) this.crashes.push({ exit: { code, signal }, output: this.out.slice(-20_000) });
        resolveExit({ code, signal });
      }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.alive) throw new Error(`instance ${this.name} exited during start-up:\n${this.out.slice(-5000)}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`instance ${this.name} did not answer /healthz within 30 s:\n${this.out.slice(-5000)}`);
      }
      await pause(25);
    }
  }

  /** SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.expectingExit = true;
    if (this.alive) this.child.kill('SIGKILL');
    await this.exitedPromise;
  }

  /** SIGTERM (graceful stop); SIGKILL if it is still there after `withinMs`. */
  async stop(withinMs = 30_000): Promise<Exit | undefined> {
    if (!this.child || !this.alive) return undefined;
    this.expectingExit = true;
    this.child.kill('SIGTERM');
    const timer = realSetTimeout(() => this.child?.kill('SIGKILL'), withinMs);
    const exit = await this.exitedPromise;
    clearTimeout(timer);
    return exit;
  }

  dispose(): void {
    rmSync(this.cwd, { recursive: true, force: true });
  }
}
