/**
 * Small helpers shared by the end-to-end flow tests (test/slack/flow*.e2e.test.ts, modal-errors.e2e.test.ts).
 * Not a test file: vitest only collects *.test.ts.
 */
import { expect } from 'vitest';
import type { BroadcastRequest, RequestState } from '../../src/broadcast/types.js';
import type { StoredMessage } from '../fakes/fake-slack.js';
import { pushRequests as emulatorPushRequests, startHarness, threadOf as threadOfCard, toldPrivately, type Harness, type HarnessOptions } from '../helpers/harness.js';

/** Every piece of text of a message: its fallback text and every `text` string in its blocks. */
export function textOf(m: StoredMessage | undefined): string {
  if (!m) return '';
  const out: string[] = [m.text ?? ''];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(m.blocks ?? []);
  return out.join('\n');
}

/** The buttons on a message (empty when it has none). */
export function buttonsOf(m: StoredMessage | undefined): Array<Record<string, any>> {
  return (m?.blocks ?? [])
    .filter((b: any) => b?.type === 'actions')
    .flatMap((b: any) => (b.elements ?? []).filter((e: any) => e?.type === 'button'));
}

/** Replies in the thread of a request's approval card. */
export function threadOf(h: Harness, requestId: string): StoredMessage[] {
  return threadOfCard(h.fake, requestId);
}

/** Wait until the card's thread has a reply matching `pattern`; returns that reply. */
export function waitForThreadReply(h: Harness, requestId: string, pattern: RegExp): Promise<StoredMessage> {
  return h.fake.waitFor(() => threadOf(h, requestId).find((m) => pattern.test(textOf(m))), {
    what: `a thread reply matching ${pattern} under the card of ${requestId}`,
  });
}

/** Wait until the requester's DMs contain one matching `pattern`. */
export function waitForDm(h: Harness, user: string, pattern: RegExp): Promise<StoredMessage> {
  return h.fake.waitFor(() => h.fake.dms(user).find((m) => pattern.test(textOf(m))), { what: `a DM to ${user} matching ${pattern}` });
}

/** Wait until `user` was told privately (response_url or ephemeral) something matching `pattern`, after `after` earlier messages. */
export function waitForPrivate(h: Harness, user: string, pattern: RegExp | string, after = 0): Promise<string> {
  const matches = (t: string) => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t));
  return h.fake.waitFor(() => toldPrivately(h.fake, user).slice(after).find(matches), {
    what: `a private message to ${user} matching ${String(pattern)}`,
  });
}

/** How many private messages `user` has had so far. */
export function privateCount(h: Harness, user: string): number {
  return toldPrivately(h.fake, user).length;
}

/** Submit a valid form and wait until its card is posted; fails the test if nothing was stored. */
export async function submitOk(
  h: Harness,
  fields: Record<string, string | null>,
  o?: { userId?: string; text?: string },
): Promise<BroadcastRequest> {
  const res = await h.submit(fields, o);
  expect(res.status).toBe(200);
  expect(res.json, 'a valid form must be accepted without errors').toBeUndefined();
  expect(res.request, 'a valid form must be stored').toBeDefined();
  const request = res.request!;
  await h.fake.waitFor(() => h.card(request.id), { what: `the approval card of ${request.id}` });
  return request;
}

/** The stored state of a request, after all work in flight has settled. */
export async function stateOf(h: Harness, requestId: string): Promise<RequestState | undefined> {
  await h.settle();
  return (await h.request(requestId))?.state;
}

/** Pushes the emulator accepted for this request (matched by its MsgRandom). */
export function pushesOf(h: Harness, request: BroadcastRequest) {
  return h.emulator.pushes.filter((p) => p.body.MsgRandom === request.body.MsgRandom);
}

/** im_push requests that reached the emulator (accepted or not), whatever their answer. */
export function pushRequests(h: Harness) {
  return emulatorPushRequests(h.emulator);
}

/** Run `fn` against a harness of its own (special settings), always stopped afterwards. */
export async function withHarness<T>(o: HarnessOptions, fn: (h: Harness) => Promise<T>): Promise<T> {
  const h = await startHarness(o);
  try {
    return await fn(h);
  } finally {
    await h.stop();
  }
}
