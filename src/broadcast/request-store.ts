import type { AtomicKv } from './store/atomic-kv.js';
import { canTransition } from './lifecycle.js';
import type { BroadcastRequest, RequestState } from './types.js';

const PREFIX = 'req:';

export type TransitionResult =
  | { ok: true; request: BroadcastRequest }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'wrong_state'; current: BroadcastRequest };

/** Broadcast requests in the store. Every write is a compare-and-swap on the record's revision. */
export class RequestStore {
  constructor(
    private readonly kv: AtomicKv,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Insert a new request; false if the id is taken. */
  async create(request: BroadcastRequest): Promise<boolean> {
    const { rev: _rev, ...data } = request;
    return this.kv.create(PREFIX + request.id, data);
  }

  async get(id: string): Promise<BroadcastRequest | undefined> {
    const found = await this.kv.get<Omit<BroadcastRequest, 'rev'>>(PREFIX + id);
    return found ? { ...found.data, rev: found.rev } : undefined;
  }

  /**
   * Move a request from one of `from` to `to`, atomically. Exactly one of any number of
   * concurrent callers wins; the others get `wrong_state` with the request as it now stands.
   */
  async transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    change: (request: BroadcastRequest) => Partial<BroadcastRequest> = () => ({}),
    meta: { by?: string; note?: string } = {},
    /** An extra condition on the request as it stands; when false the transition does not happen. */
    guard: (request: BroadcastRequest) => boolean = () => true,
  ): Promise<TransitionResult> {
    for (;;) {
      const current = await this.get(id);
      if (!current) return { ok: false, reason: 'not_found' };
      if (!from.includes(current.state) || !canTransition(current.state, to) || !guard(current)) {
        return { ok: false, reason: 'wrong_state', current };
      }
      const at = this.now().toISOString();
      const next: BroadcastRequest = {
        ...current,
        ...change(current),
        state: to,
        updatedAt: at,
        history: [...current.history, { at, from: current.state, to, ...meta }],
      };
      if (await this.write(current.rev, next)) return { ok: true, request: { ...next, rev: current.rev + 1 } };
      // Someone else wrote first: read again and re-check the state.
    }
  }

  /** Change fields other than the state (e.g. the card reference), retrying on conflicts. */
  async update(id: string, change: (request: BroadcastRequest) => Partial<BroadcastRequest>): Promise<BroadcastRequest | undefined> {
    for (;;) {
      const current = await this.get(id);
      if (!current) return undefined;
      const next: BroadcastRequest = { ...current, ...change(current), state: current.state };
      if (await this.write(current.rev, next)) return { ...next, rev: current.rev + 1 };
    }
  }

  /** Change fields only if `allowed` holds for the latest record; undefined when it does not. */
  async updateIf(
    id: string,
    allowed: (request: BroadcastRequest) => boolean,
    change: (request: BroadcastRequest) => Partial<BroadcastRequest>,
  ): Promise<BroadcastRequest | undefined> {
    for (;;) {
      const current = await this.get(id);
      if (!current || !allowed(current)) return undefined;
      const next: BroadcastRequest = { ...current, ...change(current), state: current.state };
      if (await this.write(current.rev, next)) return { ...next, rev: current.rev + 1 };
    }
  }

  async list(states?: readonly RequestState[]): Promise<BroadcastRequest[]> {
    const all = await this.kv.scan<Omit<BroadcastRequest, 'rev'>>(PREFIX);
    return all
      .map(({ value }) => ({ ...value.data, rev: value.rev }))
      .filter((r) => !states || states.includes(r.state))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private write(rev: number, request: BroadcastRequest): Promise<boolean> {
    const { rev: _rev, ...data } = request;
    return this.kv.swap(PREFIX + request.id, rev, data);
  }
}
