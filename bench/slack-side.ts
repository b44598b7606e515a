// The Slack side of the bench: the fake Slack Web API, stamped at the moment each call arrives, and
// answering `expired_trigger_id` to a views.open that comes more than 3 s after its command was sent
// (Slack's trigger_id lifetime). Also the signed requests the bench sends, built like Slack's.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import {
  APPROVAL_CHANNEL,
  FAKE_SLACK_DEFAULTS,
  FakeSlack,
  REQUEST_DEFAULTS,
  postSigned,
  requestIdIn,
  slashCommandBody,
} from './app-adapter.js';

export const TRIGGER_LIFETIME_MS = 3000;

type Handler = (args: Record<string, unknown>) => Record<string, unknown>;
type Waiters<T> = Map<string, (v: T) => void>;

export interface CardSeen {
  at: number;
  requestId: string;
  ts: string;
}

export class SlackSide {
  /** views.open calls answered expired_trigger_id, by target. */
  readonly expired = new Map<string, number>();
  /** The last modal the app opened (its submission is replayed to both targets). */
  lastModal: Record<string, unknown> | undefined;
  private readonly sent = new Map<string, { at: number; target: string }>();
  private readonly opens: Waiters<number> = new Map();
  private readonly cards: Waiters<CardSeen> = new Map();
  private readonly publishes: Waiters<number> = new Map();
  private readonly ephemerals: Waiters<number> = new Map();
  private seq = 0;

  /** Requests of the bench that failed before any answer, by cause (ECONNRESET, …); each was retried once. */
  readonly clientErrors = new Map<string, number>();

  private constructor(readonly fake: FakeSlack) {
    // Like Slack's API, keep idle connections open well past the clients' own idle timeout, so a client
    // never reuses a socket the server is just closing (on a loaded machine that race is otherwise real).
    const server = (fake as unknown as { server?: Server }).server;
    if (server) server.keepAliveTimeout = 65_000;
    // The fake has no per-call hook; its method table is wrapped instead (a thin layer, no extra hop).
    const handlers = (fake as unknown as { handlers?: Record<string, Handler> }).handlers;
    if (!handlers || typeof handlers['views.open'] !== 'function') {
      throw new Error('test/fakes/fake-slack.ts changed: bench/slack-side.ts needs its method table (handlers) to stamp calls');
    }
    for (const [method, handle] of Object.entries(handlers)) {
      handlers[method] = (args) => {
        const at = performance.now();
        if (method === 'views.open') return this.viewsOpen(handle, args, at);
        const answer = handle(args);
        if (method === 'chat.postMessage') this.postMessage(args, answer, at);
        else if (method === 'views.publish') this.resolve(this.publishes, String(args['user_id']), at);
        else if (method === 'chat.postEphemeral') this.resolve(this.ephemerals, String(args['user']), at);
        return answer;
      };
    }
  }

  static async start(): Promise<SlackSide> {
    return new SlackSide(await FakeSlack.start());
  }

  get apiUrl(): string {
    return this.fake.apiUrl;
  }

  /** Forget what the fake recorded (it keeps every call; a long run would hold gigabytes). */
  forget(): void {
    this.fake.reset();
  }

  private viewsOpen(handle: Handler, args: Record<string, unknown>, at: number): Record<string, unknown> {
    const trigger = String(args['trigger_id'] ?? '');
    const sent = this.sent.get(trigger);
    this.sent.delete(trigger);
    if (sent && at - sent.at > TRIGGER_LIFETIME_MS) {
      this.expired.set(sent.target, (this.expired.get(sent.target) ?? 0) + 1);
      this.resolve(this.opens, trigger, at);
      return { ok: false, error: 'expired_trigger_id' };
    }
    const answer = handle(args);
    if (answer['ok'] && sent?.target === 'app') this.lastModal = args['view'] as Record<string, unknown>;
    this.resolve(this.opens, trigger, at);
    return answer;
  }

  private postMessage(args: Record<string, unknown>, answer: Record<string, unknown>, at: number): void {
    if (args['channel'] !== APPROVAL_CHANNEL || args['thread_ts'] || !answer['ok']) return;
    const text = JSON.stringify(args['blocks'] ?? '') + String(args['text'] ?? '');
    const marker = /\[(bench-\d+)\]/.exec(text)?.[1];
    const requestId = requestIdIn(text);
    if (marker && requestId) this.resolve(this.cards, marker, { at, requestId, ts: String(answer['ts']) });
  }

  private resolve<T>(waiters: Waiters<T>, key: string, v: T): void {
    const w = waiters.get(key);
    if (w) {
      waiters.delete(key);
      w(v);
    }
  }

  private wait<T>(waiters: Waiters<T>, key: string, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      waiters.set(key, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  // ---------------------------------------------------------------- requests

  /**
   * postSigned, tolerant of the one failure that is the bench's own: a keep-alive socket to the subject
   * that the subject closed (its 5-s idle timeout) just as the bench reused it. Retried once, counted.
   * Anything else, or a second failure, answers status 0.
   */
  async post(url: string, secret: string, body: string, o: { contentType?: string } = {}): Promise<{ status: number; json: unknown }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await postSigned(url, secret, body, o);
      } catch (error) {
        const cause = String((error as { cause?: { code?: unknown } }).cause?.code ?? (error as Error).message);
        this.clientErrors.set(cause, (this.clientErrors.get(cause) ?? 0) + 1);
        if (attempt >= 2 || !/ECONNRESET|UND_ERR_SOCKET|EPIPE/.test(cause)) return { status: 0, json: undefined };
      }
    }
  }

  /** A fresh, Slack-shaped trigger_id whose send time is remembered for the 3-s check. */
  trigger(target: string): { id: string; markSent: () => number } {
    const id = `${Date.now()}.${++this.seq}.${randomBytes(8).toString('hex')}`;
    return {
      id,
      markSent: () => {
        const at = performance.now();
        this.sent.set(id, { at, target });
        return at;
      },
    };
  }

  /** `/broadcast <text>` to `url`: ack latency, and when views.open arrived (undefined = never; expired ones are counted in `expired`). */
  async command(url: string, secret: string, target: string, o: { text?: string; userId?: string; openTimeoutMs?: number } = {}): Promise<{
    status: number;
    ackMs: number;
    openMs: number | undefined;
    json: unknown;
    responseId: string;
  }> {
    const trigger = this.trigger(target);
    const responseId = `r${this.seq}`;
    const body = slashCommandBody({
      text: o.text ?? '',
      ...(o.userId ? { userId: o.userId } : {}),
      triggerId: trigger.id,
      responseUrl: this.fake.responseUrl(responseId),
    });
    const opened = this.wait(this.opens, trigger.id, o.openTimeoutMs ?? 10_000);
    const t0 = trigger.markSent();
    const res = await this.post(url, secret, body);
    const ackMs = performance.now() - t0;
    const at = await opened;
    return { status: res.status, ackMs, openMs: at === undefined ? undefined : at - t0, json: res.json, responseId };
  }

  /** Resolve when the approval card carrying `[marker]` is posted. */
  waitForCard(marker: string, timeoutMs = 10_000): Promise<CardSeen | undefined> {
    return this.wait(this.cards, marker, timeoutMs);
  }

  waitForPublish(userId: string, timeoutMs = 10_000): Promise<number | undefined> {
    return this.wait(this.publishes, userId, timeoutMs);
  }

  waitForEphemeral(userId: string, timeoutMs = 10_000): Promise<number | undefined> {
    return this.wait(this.ephemerals, userId, timeoutMs);
  }

  waitForOpen(triggerId: string, timeoutMs = 10_000): Promise<number | undefined> {
    return this.wait(this.opens, triggerId, timeoutMs);
  }

  /** When a response_url POST for `id` arrived (polled: the fake records those outside its method table). */
  async waitForResponse(id: string, timeoutMs = 10_000, stop: () => boolean = () => false): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && !stop()) {
      if (this.fake.responses(id).length > 0) return performance.now();
      await new Promise((r) => setTimeout(r, 1));
    }
    return undefined;
  }
}

/** An app_home_opened event callback as Slack sends it (JSON body). */
export function appHomeOpenedBody(userId: string, seq: number): string {
  const now = Date.now() / 1000;
  return JSON.stringify({
    token: REQUEST_DEFAULTS.verificationToken,
    team_id: REQUEST_DEFAULTS.teamId,
    api_app_id: REQUEST_DEFAULTS.appId,
    event: { type: 'app_home_opened', user: userId, channel: `D${userId}`, tab: 'home', event_ts: now.toFixed(6) },
    type: 'event_callback',
    event_id: `Ev0BENCH${String(seq).padStart(6, '0')}`,
    event_time: Math.floor(now),
    authorizations: [{ enterprise_id: null, team_id: REQUEST_DEFAULTS.teamId, user_id: FAKE_SLACK_DEFAULTS.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}
