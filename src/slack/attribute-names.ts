/**
 * Attribute names defined in the IM app, offered as a hint in the request form. The form must
 * open within Slack's 3-second trigger window, so this never waits long for Tencent: it answers
 * from a cache, refreshes it in the background, and waits at most `firstWaitMs` when empty.
 */
export class AttributeNames {
  private names: string[] = [];
  /** When the last fetch finished, good or not: a failing Tencent is asked again only after the TTL. */
  private checkedAt = -Infinity;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly fetch: () => Promise<{ ok: true; names: string[] } | { ok: false; message: string }>,
    private readonly o: { ttlMs?: number; firstWaitMs?: number; now?: () => number } = {},
  ) {}

  async get(): Promise<string[]> {
    const now = (this.o.now ?? Date.now)();
    if (now - this.checkedAt > (this.o.ttlMs ?? 600_000)) {
      const refresh = this.refresh();
      if (this.checkedAt === -Infinity) {
        await Promise.race([refresh, new Promise((r) => setTimeout(r, this.o.firstWaitMs ?? 700).unref())]);
      }
    }
    return this.names;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.fetch()
      .then((res) => {
        if (res.ok) this.names = res.names;
      })
      .catch(() => undefined)
      .finally(() => {
        this.checkedAt = (this.o.now ?? Date.now)();
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}
