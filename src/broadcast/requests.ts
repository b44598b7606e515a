import { randomBytes } from 'node:crypto';
import { isLeased, nextState } from './lifecycle.js';
import { outboxDueMs, withCardDue } from './outbox.js';
import { StoreUnavailableError, type RequestDoc, type RequestIndex, type Store, type WriteEffects } from './store/store.js';
import type { BroadcastRequest, EventKind, HistoryEntry } from './types.js';

/** The index columns of a request (see store.ts): which lists it is in and when it becomes due. */
export function indexOf(r: RequestDoc): RequestIndex {
  const sent = r.state === 'sent';
  const taskId = r.result?.kind === 'sent' ? r.result.taskId : r.resolution?.taskId;
  const sentAt = sent ? (r.result?.kind === 'sent' ? r.result.at : r.resolution?.at) : undefined;
  const ix: RequestIndex = { state: r.state, createdMs: Date.parse(r.createdAt), requester: r.requesterId };
  if (taskId) ix.taskId = taskId;
  if (sentAt) {
    ix.dedupKey = r.dedupKey;
    ix.sentMs = Date.parse(sentAt);
  }
  const outbox = outboxDueMs(r);
  if (outbox !== undefined) ix.outboxDueMs = outbox;
  if (isLeased(r.state) && r.lease) ix.leaseUntilMs = Date.parse(r.lease.until);
  if (r.state === 'pending') ix.expiresMs = Date.parse(r.expiresAt);
  if (r.state === 'scheduled' && r.scheduledFor) ix.scheduleMs = Date.parse(r.scheduledFor);
  return ix;
}

/** Thrown when a write may or may not have landed and reading back could not tell. */
export class StoreUncertainError extends StoreUnavailableError {
  constructor(cause: unknown) {
    super('The store failed during a write and could not be read back; the write may or may not have landed.', { cause });
    this.name = 'StoreUncertainError';
  }
}

/** What an update decides on seeing the request as it stands. */
export type Change<R extends string = string> =
  | { next: BroadcastRequest; effects?: WriteEffects }
  | { refuse: R };

export type UpdateResult<R extends string = string> =
  | { ok: true; request: BroadcastRequest; slotAt?: number }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'refused'; refusal: R; request: BroadcastRequest }
  | { ok: false; reason: 'limit'; request: BroadcastRequest };

/**
 * Apply `kind` to a request: the lifecycle decides whether it may happen and the state it leads to;
 * the event joins the history (the audit, and the thread and DM cursors walk it) and the card is
 * marked for re-rendering. Returns undefined when the event is not allowed in the current state.
 */
export function withEvent(
  r: BroadcastRequest,
  kind: EventKind,
  now: Date,
  entry: Omit<HistoryEntry, 'kind' | 'at' | 'from' | 'to'> = {},
  patch: Partial<BroadcastRequest> = {},
): BroadcastRequest | undefined {
  const to = nextState(r.state, kind);
  if (!to) return undefined;
  const at = now.toISOString();
  const next: BroadcastRequest = {
    ...r,
    ...patch,
    state: to,
    updatedAt: at,
    history: [...r.history, { kind, at, from: r.state, to, ...entry }],
  };
  next.outbox = withCardDue(patch.outbox ?? r.outbox, now);
  if (!isLeased(to) && !('lease' in patch)) delete next.lease;
  return next;
}

function withoutRev(r: BroadcastRequest): RequestDoc {
  const { rev: _rev, ...doc } = r;
  return doc;
}

const READ_BACK_DELAYS_MS = [50, 100, 200, 400, 800, 1500, 2500];

/**
 * Requests in the store. Every write is a compare-and-swap on the record's revision, re-decided on
 * the latest record after a conflict. A store error during a write does not mean "nothing changed":
 * the write is stamped, and the record is read back to learn whether it landed.
 */
export class Requests {
  constructor(
    readonly store: Store,
    private readonly o: { onChange?: (r: BroadcastRequest) => void; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  async get(id: string): Promise<BroadcastRequest | undefined> {
    const found = await this.store.getRequest(id);
    return found ? { ...found.data, rev: found.rev } : undefined;
  }

  /** Insert a new request; false if the id is taken. */
  async create(request: BroadcastRequest): Promise<boolean> {
    const { rev: _rev, ...doc } = request;
    const created = await this.store.createRequest(doc);
    if (created) this.o.onChange?.({ ...request, rev: 1 });
    return created;
  }

  /**
   * Decide on the request as it stands and write the outcome atomically. `decide` may run several
   * times (after conflicts) and must be free of side effects.
   */
  async update<R extends string>(
    id: string,
    decide: (r: BroadcastRequest) => Change<R>,
    /** `known`: the request as this caller last wrote it, tried first without reading (one round trip less). */
    o: { quiet?: boolean; known?: BroadcastRequest } = {},
  ): Promise<UpdateResult<R>> {
    let known = o.known;
    for (let round = 0; ; round++) {
      const found = known ? { rev: known.rev, data: withoutRev(known) } : await this.store.getRequest(id);
      known = undefined;
      if (!found) return { ok: false, reason: 'not_found' };
      const current: BroadcastRequest = { ...found.data, rev: found.rev };
      const change = decide(current);
      if ('refuse' in change) return { ok: false, reason: 'refused', refusal: change.refuse, request: current };
      const writeId = randomBytes(6).toString('hex');
      const doc = { ...withoutRev(change.next), writeId };
      // The alternative written when the push slot is free at once carries the same stamp.
      let effects = change.effects;
      if (effects?.slot?.readyDoc) effects = { ...effects, slot: { ...effects.slot, readyDoc: { ...effects.slot.readyDoc, writeId } } };
      let written: BroadcastRequest | undefined;
      let slotAt: number | undefined;
      try {
        const result = await this.store.writeRequest(found, doc, effects);
        if (!result.ok) {
          if (result.reason === 'limit') return { ok: false, reason: 'limit', request: current };
          continue; // conflict: someone else wrote first; decide again on the latest record.
        }
        written = { ...(result.wroteReady ? effects!.slot!.readyDoc! : doc), rev: found.rev + 1 };
        slotAt = result.slotAt;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        const landed = await this.readBack(id, writeId, error);
        if (!landed) {
          if (round < 3) continue; // it did not land: decide again on what is there now
          throw error;
        }
        // It landed; the slot it reserved cannot be read back, so the caller waits the full spacing.
        written = { ...landed.data, rev: landed.rev };
      }
      if (!o.quiet) this.o.onChange?.(written);
      return { ok: true, request: written, ...(slotAt !== undefined ? { slotAt } : {}) };
    }
  }

  /**
   * After a store error in a write: read until the store answers, and tell whether the write with
   * `writeId` landed (and return the record as it landed).
   */
  private async readBack(id: string, writeId: string, cause: unknown): Promise<{ rev: number; data: RequestDoc } | false> {
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (const delay of READ_BACK_DELAYS_MS) {
      await sleep(delay);
      try {
        const found = await this.store.getRequest(id);
        return found?.data.writeId === writeId ? found : false;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
      }
    }
    throw new StoreUncertainError(cause);
  }
}
