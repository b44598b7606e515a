import type { Requests } from './requests.js';
import type { BroadcastRequest, RequestState } from './types.js';

const OPEN_STATES: readonly RequestState[] = ['pending', 'scheduled', 'approved', 'sending', 'unknown'];

/** What people ask about requests. Every query reads an index, never the whole history. */
export class Queries {
  constructor(private readonly requests: Requests) {}

  private async rows(q: Parameters<Requests['store']['list']>[0]): Promise<BroadcastRequest[]> {
    return (await this.requests.store.list(q)).map((v) => ({ ...v.data, rev: v.rev }));
  }

  /** A request by its id (br-…) or by the TaskId Tencent gave its push. */
  async find(idOrTaskId: string): Promise<BroadcastRequest | undefined> {
    const key = idOrTaskId.trim();
    if (!key) return undefined;
    const direct = /^br-[a-z0-9]+$/.test(key) ? await this.requests.get(key) : undefined;
    if (direct) return direct;
    const id = await this.requests.store.idByTaskId(key);
    return id ? this.requests.get(id) : undefined;
  }

  /** A person's most recent requests, newest first. */
  recentOf(userId: string, limit = 5): Promise<BroadcastRequest[]> {
    return this.rows({ requester: userId, limit });
  }

  /** The newest requests of everyone. */
  recent(limit = 20): Promise<BroadcastRequest[]> {
    return this.rows({ limit });
  }

  /** Requests still waiting for a decision or a push (pending, scheduled, in flight, unknown). */
  open(limit = 20, requester?: string): Promise<BroadcastRequest[]> {
    return this.rows({ states: OPEN_STATES, limit, ...(requester ? { requester } : {}) });
  }

  /** Every request created in [since, until), oldest first, read page by page. */
  async *between(since: Date, until: Date): AsyncIterable<BroadcastRequest> {
    for await (const v of this.requests.store.scan(since.getTime(), until.getTime())) yield { ...v.data, rev: v.rev };
  }
}
