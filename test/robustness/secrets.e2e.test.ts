/**
 * Secrets never leave the app: not in its logs (even with a logger that does NOT redact, so the
 * app must never hand them to a log line in the first place), not in anything sent to Slack, not in
 * anything Tencent is sent in a body or answers. Covers a sent push, a refused push, a push retried
 * after a dropped connection and a rejection, at LOG_LEVEL debug.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { createLogger } from '../../src/logger.js';
import { PushEmulator, type FaultMode } from '../../src/tim/emulator.js';
import {
  APPROVER,
  APPROVER_2,
  FORMS,
  SDKAPPID,
  SIGNING_SECRET,
  TIM_SECRET_KEY,
  startHarness,
  type Harness,
  type HarnessOptions,
} from '../helpers/harness.js';
import { eventually, pushRequests } from './support.js';
import { atRest } from './support.js';

const BOT_TOKEN = 'xoxb-fake-bot-token';

/** A pass-through proxy in front of the emulator that keeps the raw request URLs (the emulator drops the usersig). */
async function recordingProxy(target: string): Promise<{ url: string; urls: string[]; close: () => Promise<void> }> {
  const urls: string[] = [];
  const server: Server = createServer((req, res) => {
    urls.push(req.url ?? '');
    const upstream = httpRequest(`${target}${req.url ?? ''}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    urls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The UserSigs the app put in its URLs, and the HMAC inside each. */
function userSigsOf(urls: string[]): string[] {
  const sigs = new Set<string>();
  for (const u of urls) {
    const sig = new URL(u, 'http://x').searchParams.get('usersig');
    if (!sig) continue;
    sigs.add(sig);
    const doc = JSON.parse(inflateSync(Buffer.from(sig.replace(/_/g, '=').replace(/-/g, '/').replace(/\*/g, '+'), 'base64')).toString('utf8'));
    sigs.add(String(doc['TLS.sig']));
  }
  return [...sigs];
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Run the whole flow on a harness whose Tencent traffic goes through a recording proxy. */
async function runFlow(build: (o: Pick<HarnessOptions, 'pushEmulator' | 'env'>) => Promise<Harness>) {
  const emulator = await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 });
  const proxy = await recordingProxy(emulator.url);
  const h = await build({ pushEmulator: emulator, env: { LOG_LEVEL: 'debug', TIM_BASE_URL: proxy.url } });
  cleanup.push(() => emulator.close(), () => proxy.close(), () => h.stop());

  const decide = async (fields: Record<string, string>, act: (id: string) => Promise<unknown>, fault?: FaultMode): Promise<BroadcastRequest> => {
    const { request } = await h.submit(fields);
    if (!request) throw new Error('not stored');
    if (fault) emulator.failNext(1, fault);
    await act(request.id);
    return eventually(async () => {
      const r = await h.request(request.id);
      return r && ['sent', 'failed', 'unknown', 'rejected'].includes(r.state) && atRest(r) && r;
    }, { timeoutMs: 20_000, what: `request ${request.id} to be decided and announced` });
  };
  const approve = (id: string) => h.click('approve', id, APPROVER);
  const states = [
    (await decide(FORMS.all, approve)).state,
    (await decide(FORMS.tagsAll, approve, { kind: 'error', code: 90020 })).state,
    (await decide(FORMS.tagsAny, approve, { kind: 'drop', accept: false })).state,
    (await decide(FORMS.attrsAll, (id) => h.rejectWithReason(id, APPROVER_2, 'not this week'))).state,
  ];
  expect(states).toEqual(['sent', 'failed', 'unknown', 'rejected']);

  const sigs = userSigsOf(proxy.urls);
  expect(sigs.length, 'the app signed its Tencent requests').toBeGreaterThanOrEqual(2);
  const slack = JSON.stringify(h.fake.calls.map((c) => c.args));
  const tencent = JSON.stringify({ requests: emulator.requests, pushes: emulator.pushes });
  expect(pushRequests(emulator).length).toBeGreaterThanOrEqual(3);
  return { sigs, slack, tencent };
}

/** Nothing secret in `text`: the TIM key, a UserSig (or its HMAC), the bot token, the signing secret, a usersig value. */
function expectNoSecrets(where: string, text: string, sigs: string[]): void {
  for (const secret of [TIM_SECRET_KEY, BOT_TOKEN, SIGNING_SECRET, ...sigs]) {
    expect(text.includes(secret), `${where} contains a secret (${secret.slice(0, 8)}…)`).toBe(false);
  }
  expect(text, `${where} has a usersig value`).not.toMatch(/usersig=(?!\[redacted\])[^&\s"'\\]+/i);
  expect(text, `${where} has something shaped like a UserSig`).not.toMatch(/\beJ[A-Za-z0-9*\-_]{40,}/);
}

describe('secrets', () => {
  it('never appear in logs (redacting logger), in what Slack receives or in what Tencent receives and answers', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const { sigs, slack, tencent } = await runFlow((o) => startHarness({ ...o, logLines: lines }));
    expect(lines.some((l) => l.includes('"level":"debug"')), 'debug lines were logged').toBe(true);
    expectNoSecrets('the log', lines.join('\n'), sigs);
    expectNoSecrets('the Slack calls', slack, sigs);
    expectNoSecrets('the Tencent requests and answers', tencent, sigs);
  });

  it('are never handed to the logger at all (a logger that does not redact still shows none)', { timeout: 60_000 }, async () => {
    const raw: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => raw.push(line) });
    const { sigs } = await runFlow((o) => startHarness({ ...o, build: { logger } }));
    expect(raw.some((l) => l.includes('push attempt')), 'the flow was logged').toBe(true);
    expect(raw.some((l) => l.includes('"level":"debug"')), 'debug lines were logged').toBe(true);
    expectNoSecrets('the unredacted log', raw.join('\n'), sigs);
  });
});
