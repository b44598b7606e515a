import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.js';

/**
 * Who may approve: user IDs listed in APPROVERS, plus members of the user groups (S…) listed
 * there, resolved with usergroups.users.list and cached for a short while.
 */
export class Approvers {
  private readonly users: Set<string>;
  private readonly groups: string[];
  private cache: { members: Set<string>; until: number } | undefined;

  constructor(
    ids: readonly string[],
    private readonly client: WebClient,
    private readonly o: { cacheMs: number; logger: Logger; now?: () => number },
  ) {
    this.users = new Set(ids.filter((id) => !id.startsWith('S')));
    this.groups = ids.filter((id) => id.startsWith('S'));
  }

  /** As configured: user ids and user-group ids (for mentions). */
  list(): { users: string[]; groups: string[] } {
    return { users: [...this.users], groups: [...this.groups] };
  }

  async isApprover(userId: string): Promise<boolean> {
    if (this.users.has(userId)) return true;
    if (this.groups.length === 0) return false;
    return (await this.groupMembers()).has(userId);
  }

  private async groupMembers(): Promise<Set<string>> {
    const now = (this.o.now ?? Date.now)();
    if (this.cache && this.cache.until > now) return this.cache.members;
    try {
      const members = new Set<string>();
      for (const usergroup of this.groups) {
        const res = await this.client.usergroups.users.list({ usergroup });
        for (const u of res.users ?? []) members.add(u);
      }
      this.cache = { members, until: now + this.o.cacheMs };
      return members;
    } catch (error) {
      // Fail closed, but keep using the last known membership rather than locking everyone out.
      this.o.logger.warn('cannot resolve approver user groups', { error });
      return this.cache?.members ?? new Set();
    }
  }
}
