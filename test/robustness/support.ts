/**
 * Shared helpers of the robustness suite: polling the store, signed clicks/submissions sent
 * straight to an app instance, and the real app started as a child process (crash tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { outboxDueMs } from '../../src/broadcast/outbox.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { APPROVAL_CHANNEL, FORMS, baseEnv, openRequestModal, submissionBody, type Harness } from '../helpers/harness.js';
// Requests built the same way as the in-process harness does; re-exported for the robustness tests.
export { cardOf, clickBody, openRequestModal, pushRequests, submissionBody, threadOf } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { postSigned } from '../helpers/slack-requests.js';
import type { FakeSlack, StoredMessage } from '../fakes/fake-slack.js';
import type { PushEmulator } from '../../src/tim/emulator.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = resolve(ROOT, 'src/main.ts');
/** tsx's ESM loader by absolute URL, so a child can run with any working directory. */
export const TSX_LOADER = pathToFileURL(createRequire(resolve(ROOT, 'package.json')).resolve('tsx')).href;

const realSetTimeout = globalThis.setTimeout;
export const pause = (ms: number) => new Promise<void>((r) => realSetTimeout(r, ms));

/** Poll an async probe until it returns something truthy (store state is read asynchronously). */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, o: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out waiting for ${o.what ?? 'condition'}${last ? `: ${String((last as Error).message ?? last)}` : ''}`);
    }
    await pause(20);
  }
}

/** Nothing is owed to Slack any more and no instance is delivering: the record is at rest. */
export function atRest(r: BroadcastRequest | undefined): boolean {
  return Boolean(r) && outboxDueMs(r!) === undefined && !r!.outbox.lease;
}

export function msgRandomOfRequest(r: { body: unknown }): number | undefined {
  return (r.body as { MsgRandom?: number } | undefined)?.MsgRandom;
}

/** All the text of a message: fallback text plus every block, for substring checks. */
export function textOf(m: StoredMessage | undefined): string {
  return m ? `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}` : '';
}

export function hasApproveButton(m: StoredMessage | undefined): boolean {
  return JSON.stringify(m?.blocks ?? []).includes('"action_id":"approve"');
}

export function post(h: Pick<Harness, 'url' | 'config'>, body: string, headers?: Record<string, string>) {
  return postSigned(h.url, h.config.SLACK_SIGNING_SECRET!, body, headers ? { headers } : {});
}

/**
 * Submit a request through the signed HTTP endpoint at `url` and return its id, read from the
 * approval card the app posts (so it works when the store is in another process).
 */
export async function submitOver(fake: FakeSlack, url: string, secret: string, fields: Record<string, string> = FORMS.all): Promise<string> {
  const known = new Set(fake.messages(APPROVAL_CHANNEL).map((m) => m.ts));
  const view = await openRequestModal(fake, url, secret);
  const res = await postSigned(url, secret, submissionBody(view, fields));
  if (res.status !== 200 || (res.json as { response_action?: string } | undefined)?.response_action) {
    throw new Error(`submission refused: ${res.status} ${res.text}`);
  }
  const card = await fake.waitFor(() => fake.messages(APPROVAL_CHANNEL).find((m) => !m.thread_ts && !known.has(m.ts)), {
    what: 'the approval card',
  });
  const id = /br-[a-z0-9]+/.exec(JSON.stringify(card.blocks))?.[0];
  if (!id) throw new Error('no request id on the card');
  return id;
}

export function history(r: BroadcastRequest | undefined, to: string) {
  return (r?.history ?? []).filter((e) => e.to === to);
}

// ------------------------------------------------------------------ the app as a child process

export interface ChildApp {
  child: ChildProcess;
  port: number;
  url: string;
  /** stdout + stderr so far (JSON log lines), for assertions and failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** `node --import tsx src/main.ts` with `env` (nothing inherited), in `cwd`. */
export function spawnMain(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string; exited: ChildApp['exited'] } {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolveExit({ code, signal });
    }),
  );
  return { child, output: () => out, exited };
}

/** Start the real app as a child process against the fake Slack and the emulator, and wait for /healthz. */
export async function startChildApp(o: {
  fake: FakeSlack;
  emulator: PushEmulator;
  storeUrl: string;
  cwd: string;
  env?: Record<string, string>;
}): Promise<ChildApp> {
  const port = await freePort();
  const env = {
    ...baseEnv({ slackApiUrl: o.fake.apiUrl, timBaseUrl: o.emulator.url, storeUrl: o.storeUrl }),
    PORT: String(port),
    ...o.env,
  };
  const { child, output, exited } = spawnMain(env, o.cwd);
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (gone = e));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone) throw new Error(`the app exited during start-up (${JSON.stringify(gone)}):\n${output()}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the app did not answer /healthz within 20 s:\n${output()}`);
    }
    await pause(50);
  }
  return { child, port, url: `http://127.0.0.1:${port}/slack/events`, output, exited };
}

/** Kill a child app we started (if still running) and wait for it to exit. */
export async function killChild(app: ChildApp | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!app) return;
  if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill(signal);
  await app.exited;
}
