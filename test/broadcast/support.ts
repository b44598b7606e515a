/**
 * Domain test support: a real in-memory store, a clock that moves instead of waiting, fake pushers,
 * and a store wrapper that fails on demand. Not a test file.
 */
import type { Clock } from '../../src/broadcast/clock.js';
import { BroadcastService, type BroadcastServiceOptions } from '../../src/broadcast/service.js';
import { openStore } from '../../src/broadcast/store/open.js';
import { StoreUnavailableError, type Store } from '../../src/broadcast/store/store.js';
import type { BroadcastDraft, BroadcastRequest } from '../../src/broadcast/types.js';
import type { PushAttempt } from '../../src/tim/client.js';
import { explainError } from '../../src/tim/errors.js';
import type { ImPushBody } from '../../src/tim/push-body.js';

export const REQUESTER = 'U0REQ';
export const APPROVER = 'U0APP';
export const APPROVER_2 = 'U0APP2';
export const OUTSIDER = 'U0OUT';
export const TAGS_DRAFT: BroadcastDraft = { message: 'Maintenance tonight', audience: { kind: 'tags', all: ['vip'], any: [] }, lifetimeSeconds: 3600 };
export const EVERYONE_DRAFT: BroadcastDraft = { message: 'Hello everyone', audience: { kind: 'all' }, lifetimeSeconds: 86400 };

/** A clock that starts at noon in Shanghai; sleep() resolves at once and moves time forward. */
export function testClock(start = '2026-11-27T04:00:00.000Z'): Clock & { slept: number[]; advance(ms: number): void; set(iso: string): void } {
  let t = Date.parse(start);
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(t),
    sleep: async (ms) => {
      slept.push(ms);
      t += Math.max(0, ms);
      // Yield to the event loop, as a real sleep would: retry loops must not starve timers and I/O.
      await new Promise((r) => setImmediate(r));
    },
    advance: (ms) => {
      t += ms;
    },
    set: (iso) => {
      t = Date.parse(iso);
    },
  };
}

export const refused = (code: number): PushAttempt => ({ kind: 'refused', code, info: `error ${code}`, explanation: explainError(code) });

/** A pusher answering `answers` in turn, then 'sent'; records every body it was given. */
export function fakePusher(...answers: Array<PushAttempt | (() => Promise<PushAttempt>)>): { push(body: ImPushBody): Promise<PushAttempt>; bodies: ImPushBody[] } {
  const bodies: ImPushBody[] = [];
  return {
    bodies,
    push: async (body) => {
      bodies.push(structuredClone(body));
      await new Promise((r) => setImmediate(r));
      const next = answers.shift();
      if (typeof next === 'function') return next();
      return next ?? { kind: 'sent', taskId: `T${bodies.length}` };
    },
  };
}

/** Wraps a store; while `down` names a method (or 'all'), that method throws StoreUnavailableError — before (or, with `afterWrite`, after) doing its work. */
export function flakyStore(store: Store): Store & { down: Set<string>; afterWrite: Set<string> } {
  const down = new Set<string>();
  const afterWrite = new Set<string>();
  return new Proxy(store as Store & { down: Set<string>; afterWrite: Set<string> }, {
    get(target, prop, receiver) {
      if (prop === 'down') return down;
      if (prop === 'afterWrite') return afterWrite;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const name = String(prop);
        if (down.has('all') || down.has(name)) throw new StoreUnavailableError(`store down (${name})`);
        const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
        // The write landed, but its reply is lost: the ambiguous case.
        if (afterWrite.has(name)) {
          afterWrite.delete(name);
          throw new StoreUnavailableError(`reply lost (${name})`);
        }
        return result;
      };
    },
  });
}

const opened: Store[] = [];
export async function closeStores(): Promise<void> {
  for (const s of opened.splice(0)) await s.close();
}

export async function setup(o: Partial<BroadcastServiceOptions> & { store?: Store } = {}) {
  const store = o.store ?? (await openStore('memory://'));
  if (!o.store) opened.push(store);
  const clock = (o.clock as ReturnType<typeof testClock> | undefined) ?? testClock();
  const pusher = o.pusher ?? fakePusher();
  const changes: BroadcastRequest[] = [];
  const service = new BroadcastService({
    dailyQuota: 100,
    quotaTimeZone: 'Asia/Shanghai',
    ...o,
    store,
    pusher,
    clock,
    onChange: (r) => changes.push(r),
  });
  return { service, store, clock, pusher: pusher as ReturnType<typeof fakePusher>, changes };
}

export async function submitted(service: BroadcastService, draft: BroadcastDraft = TAGS_DRAFT, requesterId = REQUESTER): Promise<BroadcastRequest> {
  const res = await service.decisions.submit({ requesterId, draft });
  if (!res.ok) throw new Error(`submit failed: ${JSON.stringify(res)}`);
  return res.request;
}

export async function approve(service: BroadcastService, r: Pick<BroadcastRequest, 'id' | 'version'>, userId = APPROVER, o: { sendNow?: boolean } = {}) {
  const res = await service.decisions.approve({ requestId: r.id, version: r.version, userId, isApprover: true, ...o });
  if (res.ok) await res.pushed;
  return res;
}

export function kinds(r: BroadcastRequest | undefined): string[] {
  return (r?.history ?? []).map((e) => e.kind);
}
