/**
 * A faithful-enough fake of Slack's Web API over loopback HTTP, for end-to-end tests that run the
 * real app (real Bolt, real @slack/web-api WebClient) with `SLACK_API_URL` / `clientOptions.slackApiUrl`
 * pointing at `fake.apiUrl`.
 *
 * Wire behaviour mirrors Slack (see /work/shared/reference/slack-bolt-notes.md §1.2):
 *  - `POST {apiUrl}{method}`, body `application/x-www-form-urlencoded` with non-scalar args JSON-stringified
 *    inside the form (the WebClient's encoding) or `application/json`; query-string args are accepted too.
 *  - Auth is `Authorization: Bearer <botToken>` (a `token` form field is accepted as Slack does).
 *  - Errors are HTTP 200 `{ ok: false, error }`; rate limits are HTTP 429 with `Retry-After`.
 *  - Faults (`failNext`) simulate platform errors, 429s, other HTTP statuses and dropped sockets.
 *
 * Also serves `response_url`s: `POST {origin}/respond/{id}` records the JSON body (Bolt's `respond()`) and, when the
 * URL was made with a context (`responseUrl(id, { channel, user, messageTs })`), does what Slack does with it:
 * an ephemeral message for the user, a new message in the channel, or a replaced/deleted original.
 *
 * Socket Mode: `apps.connections.open` (app-level token) answers with a link URL of the FakeSocketMode attached
 * with `serveSocketMode()` (test/fakes/fake-socket-mode.ts).
 *
 * Content is validated like Slack does it (test/fakes/block-kit-rules.ts): Block Kit limits → `invalid_blocks`
 * with `response_metadata.messages`, text over 40,000 characters → `msg_too_long`, bad metadata →
 * `invalid_metadata_format`. Configuration that survives reset(): `usergroups`, `users`, `userStates`, `notInChannels`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockProblems, MAX_MESSAGE_TEXT, metadataIsValid } from './block-kit-rules.js';

// Captured at module load so that tests using fake timers (vi.useFakeTimers) do not freeze waitFor().
const realSetTimeout = globalThis.setTimeout;
const realNow = Date.now.bind(Date);

export interface SlackCall {
  method: string;
  /** Parsed arguments (form fields / JSON body / query). JSON-valued fields (blocks, view, …) are objects again. The `token` field, if sent in the body, is moved to `token`. */
  args: Record<string, unknown>;
  /** Token the caller presented (Bearer header, else `token` field), or null. */
  token: string | null;
  /** Date.now() when the call was answered. */
  at: number;
  /** The JSON body answered (for a dropped socket: `{ dropped: true }`). */
  answer: unknown;
  /** HTTP status answered (0 when the socket was dropped). Extension of the brief's interface. */
  status: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  /** Extension: attachments as posted/updated. */
  attachments?: unknown[];
  /** Extension: message metadata as posted/updated. */
  metadata?: unknown;
  /** for ephemeral messages: the user it was shown to */
  user?: string;
  ephemeral?: boolean;
  /** Extension: set when the message came from a POST to this response_url id (not from the Web API). */
  viaResponseUrl?: string;
  /** number of successful chat.update calls on this message */
  updates: number;
}

/**
 * `error`: HTTP 200 `{ok:false, error}`. `status` (+ `retryAfter` for 429): that HTTP status. `drop`: the socket is
 * destroyed without an answer. `refuse`: like `drop`, and the fake then stops listening for `forMs` (default 250 ms),
 * so that calls in that window get a real ECONNREFUSED — Slack unreachable.
 */
export type SlackFault =
  | { error: string }
  | { status: 429; retryAfter: number }
  | { status: number }
  | { drop: true }
  | { refuse: true; forMs?: number };

/** Where a response_url's message lives, so that posting to it can do what Slack does. */
export interface ResponseContext {
  channel?: string;
  /** The user who triggered it: ephemeral responses are shown to them. */
  user?: string;
  /** The message the interaction came from (replace_original / delete_original act on it). */
  messageTs?: string;
}

/** What a POST to a response_url did. */
export interface ResponseUrlPost {
  id: string;
  body: unknown;
  /** `rejected`: Slack refused it (see `error`); `unplaced`: accepted, but the URL has no context saying where it goes. */
  effect: 'ephemeral' | 'in_channel' | 'replaced' | 'deleted' | 'rejected' | 'unplaced';
  /** The message created or changed. */
  ts?: string;
  channel?: string;
  user?: string;
  error?: string;
}

/** Users whose DMs fail: `not_found` (no such user) or `deactivated`. */
export type UserState = 'not_found' | 'deactivated';

export interface RecordedView {
  method: string;
  /** the `view` argument as sent (parsed) */
  view: any;
  trigger_id?: string;
  /** id of the view this call created or changed */
  view_id?: string;
  /** views.publish only */
  user_id?: string;
}

export interface FakeSlackOptions {
  botToken?: string;
  /** App-level token (`xapp-…`) accepted by `apps.connections.open`. */
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
}

export const FAKE_SLACK_DEFAULTS = {
  botToken: 'xoxb-fake-bot-token',
  appToken: 'xapp-1-A0FAKEAPP-1-fake-app-token',
  teamId: 'T0FAKETEAM',
  teamDomain: 'fake-team',
  botUserId: 'U0FAKEBOT',
  botId: 'B0FAKEBOT',
  appId: 'A0FAKEAPP',
} as const;

/** Form fields whose value the WebClient JSON-stringifies (non-scalar args) and we parse back. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks', 'options', 'option_groups']);

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };
type Handler = (args: Record<string, unknown>) => Record<string, unknown>;

interface ViewRecord {
  id: string;
  hash: string;
  external_id?: string;
  view: Record<string, unknown>;
}

interface PendingFault {
  method: string;
  remaining: number;
  fault: SlackFault;
}

const ok = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ok: true, ...extra });
const fail = (error: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ok: false, error, ...extra });

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** `U123` and the DM channel `DU123` we hand out for it address the same conversation. */
function canonicalChannel(c: string): string {
  return /^[UW][A-Z0-9]+$/.test(c) ? `D${c}` : c;
}
function sameChannel(a: string, b: string): boolean {
  return a === b || canonicalChannel(a) === canonicalChannel(b);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function plainTextLength(v: unknown): number | undefined {
  if (v && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string') {
    return ((v as { text: string }).text).length;
  }
  return undefined;
}

/** A light version of Slack's view validation: the mistakes that make views.open fail in real life. */
function validateView(view: unknown, surface: 'modal' | 'home'): string[] {
  const problems: string[] = [];
  if (!view || typeof view !== 'object' || Array.isArray(view)) return ['[ERROR] missing or invalid `view`'];
  const v = view as Record<string, unknown>;
  if (v['type'] !== surface) problems.push(`[ERROR] view.type must be '${surface}' [json-pointer:/view/type]`);
  const blocks = v['blocks'];
  if (!Array.isArray(blocks)) {
    problems.push('[ERROR] view.blocks must be an array [json-pointer:/view/blocks]');
  }
  if (surface === 'modal') {
    const titleLen = plainTextLength(v['title']);
    if (titleLen === undefined) problems.push('[ERROR] missing required field: title [json-pointer:/view/title]');
    else if (titleLen > 24) problems.push('[ERROR] must be less than 25 characters [json-pointer:/view/title/text]');
    for (const k of ['submit', 'close'] as const) {
      const len = v[k] == null ? undefined : plainTextLength(v[k]);
      if (v[k] != null && len === undefined) problems.push(`[ERROR] ${k} must be a plain_text object [json-pointer:/view/${k}]`);
      if (len !== undefined && len > 24) problems.push(`[ERROR] must be less than 25 characters [json-pointer:/view/${k}/text]`);
    }
    const hasInput = Array.isArray(blocks) && blocks.some((b) => (b as { type?: unknown })?.type === 'input');
    if (hasInput && v['submit'] == null) problems.push('[ERROR] must define `submit` to use input blocks [json-pointer:/view/submit]');
  }
  if (typeof v['private_metadata'] === 'string' && v['private_metadata'].length > 3000) {
    problems.push('[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]');
  }
  if (typeof v['callback_id'] === 'string' && v['callback_id'].length > 255) {
    problems.push('[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]');
  }
  if (Array.isArray(blocks)) {
    // input blocks need a label and an element; the shared rules check those and every documented limit
    problems.push(...blockProblems(blocks, '/view/blocks', 100));
  }
  return problems;
}

/**
 * Slack's checks of a message's content (chat.postMessage / postEphemeral / update, response_url): the error
 * answer, or undefined when it is fine. `invalid_blocks` carries Slack's explanation in `errors` and
 * `response_metadata.messages`.
 */
function messageContentError(args: Record<string, unknown>): Record<string, unknown> | undefined {
  const text = args['text'];
  if (typeof text === 'string' && text.length > MAX_MESSAGE_TEXT) return fail('msg_too_long');
  const blocks = args['blocks'];
  if (blocks !== undefined) {
    if (!Array.isArray(blocks)) return fail('invalid_blocks_format');
    const problems = blockProblems(blocks, '/blocks', 50);
    if (problems.length > 0) {
      return fail('invalid_blocks', { errors: problems.map((m) => m.replace(/^\[ERROR\] /, '')), response_metadata: { messages: problems } });
    }
  }
  if (args['metadata'] !== undefined && !metadataIsValid(args['metadata'])) return fail('invalid_metadata_format');
  return undefined;
}

/** The user a DM channel (`U…`, or the `DU…` we hand out for it) belongs to. */
function dmUser(channel: string): string | undefined {
  if (/^[UW][A-Z0-9]+$/.test(channel)) return channel;
  if (/^D[UW][A-Z0-9]+$/.test(channel)) return channel.slice(1);
  return undefined;
}

/** A ts as a sortable integer (µs); accepts `"1700000000"` and `"1700000000.000100"`. */
function tsKey(ts: string): bigint {
  const [sec = '0', frac = ''] = ts.split('.');
  return BigInt(sec || '0') * 1_000_000n + BigInt((frac + '000000').slice(0, 6) || '0');
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Slack-like opaque cursor carrying the ts to continue from. */
const encodeCursor = (ts: string): string => Buffer.from(`next_ts:${ts}`).toString('base64');
function decodeCursor(cursor: string): string | undefined {
  const m = /^next_ts:(\d+(?:\.\d+)?)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return m?.[1];
}

/** Keep messages inside Slack's oldest/latest window (exclusive unless `inclusive`). */
function inWindow(ts: string, args: Record<string, unknown>): boolean {
  const inclusive = truthy(args['inclusive']);
  const oldest = str(args['oldest']);
  const latest = str(args['latest']);
  const k = tsKey(ts);
  if (oldest !== undefined && (inclusive ? k < tsKey(oldest) : k <= tsKey(oldest))) return false;
  if (latest !== undefined && (inclusive ? k > tsKey(latest) : k >= tsKey(latest))) return false;
  return true;
}

export class FakeSlack {
  readonly apiUrl: string;
  readonly origin: string;
  readonly calls: SlackCall[] = [];
  /** group id -> user ids, answered by usergroups.users.list. Configuration: survives reset(). */
  readonly usergroups = new Map<string, string[]>();
  /** Extension: per-user fields merged into users.info answers. Configuration: survives reset(). */
  readonly users = new Map<string, Record<string, unknown>>();
  /**
   * Users that do not exist or are deactivated. A DM to them (chat.postMessage with their id or DM channel) answers
   * `user_not_found` / `account_inactive`; conversations.open `user_not_found` / `user_disabled`; users.info
   * `user_not_found` / `deleted: true`; chat.postEphemeral `user_not_found` / `user_not_in_channel`.
   * Configuration: survives reset().
   */
  readonly userStates = new Map<string, UserState>();
  /**
   * Channels the bot is not a member of: chat.postMessage, chat.postEphemeral, conversations.history and
   * conversations.replies there answer `not_in_channel`. Configuration: survives reset().
   */
  readonly notInChannels = new Set<string>();
  readonly views: RecordedView[] = [];

  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;

  private readonly server: Server;
  private readonly port: number;
  private readonly store: StoredMessage[] = [];
  private readonly viewStore = new Map<string, ViewRecord>();
  private readonly dmChannels = new Map<string, string>();
  private readonly responseLog: { id: string; body: unknown }[] = [];
  private readonly responsePostLog: ResponseUrlPost[] = [];
  private readonly responseContexts = new Map<string, ResponseContext>();
  private socketMode: { issueUrl(): string } | undefined;
  private faults: PendingFault[] = [];
  private refusing = false;
  private closed = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private reopening: Promise<void> | undefined;
  // never reset: ts / ids stay unique for the lifetime of the fake
  private tsSeq = 0;
  private idSeq = 0;
  private hashSeq = 0;
  private readonly handlers: Record<string, Handler>;

  private constructor(server: Server, port: number, o: FakeSlackOptions) {
    this.server = server;
    this.port = port;
    this.origin = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.origin}/api/`;
    this.botToken = o.botToken ?? FAKE_SLACK_DEFAULTS.botToken;
    this.appToken = o.appToken ?? FAKE_SLACK_DEFAULTS.appToken;
    this.teamId = o.teamId ?? FAKE_SLACK_DEFAULTS.teamId;
    this.botUserId = o.botUserId ?? FAKE_SLACK_DEFAULTS.botUserId;
    this.botId = o.botId ?? FAKE_SLACK_DEFAULTS.botId;
    this.handlers = {
      'api.test': (args) => ok({ args }),
      'apps.connections.open': () => this.connectionsOpen(),
      'auth.test': () => this.authTest(),
      'chat.postMessage': (args) => this.postMessage(args),
      'chat.update': (args) => this.update(args),
      'chat.postEphemeral': (args) => this.postEphemeral(args),
      'chat.delete': (args) => this.deleteMessage(args),
      'chat.getPermalink': (args) => this.getPermalink(args),
      'conversations.history': (args) => this.history(args),
      'conversations.replies': (args) => this.replies(args),
      'conversations.open': (args) => this.conversationsOpen(args),
      'usergroups.users.list': (args) => this.usergroupUsers(args),
      'users.info': (args) => this.usersInfo(args),
      'views.open': (args) => this.viewsOpenOrPush('views.open', args),
      'views.push': (args) => this.viewsOpenOrPush('views.push', args),
      'views.update': (args) => this.viewsUpdate(args),
      'views.publish': (args) => this.viewsPublish(args),
    };
  }

  static async start(o: FakeSlackOptions = {}): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      if (!fake) {
        res.writeHead(503).end();
        return;
      }
      fake.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ ok: false, error: 'fake_slack_internal_error', detail: String(err) }));
        } else {
          res.destroy();
        }
      });
    });
    await listen(server, 0);
    const { port } = server.address() as AddressInfo;
    fake = new FakeSlack(server, port, o);
    return fake;
  }

  // ------------------------------------------------------------------ queries

  callsTo(method: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  messages(channel?: string): StoredMessage[] {
    return this.store.filter((m) => channel === undefined || sameChannel(m.channel, channel)).map(clone);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    const m = this.store.find((x) => x.ts === ts && sameChannel(x.channel, channel));
    return m ? clone(m) : undefined;
  }

  threadReplies(channel: string, ts: string): StoredMessage[] {
    return this.store.filter((m) => m.thread_ts === ts && m.ts !== ts && sameChannel(m.channel, channel)).map(clone);
  }

  /** Ephemeral messages (chat.postEphemeral, and ephemeral response_url posts whose context names the user). */
  ephemerals(user?: string): StoredMessage[] {
    return this.store.filter((m) => m.ephemeral === true && (user === undefined || m.user === user)).map(clone);
  }

  dms(user: string): StoredMessage[] {
    const dm = this.dmChannels.get(user) ?? `D${user}`;
    return this.store.filter((m) => !m.ephemeral && (m.channel === dm || m.channel === user)).map(clone);
  }

  /**
   * A response_url Slack would put in a payload. With a `context` (where the interaction happened), posting to it
   * behaves like Slack: ephemeral to `context.user` by default, `response_type: 'in_channel'` posts to
   * `context.channel`, `replace_original: true` / `delete_original: true` change the message `context.messageTs`.
   */
  responseUrl(id: string, context?: ResponseContext): string {
    if (context) this.responseContexts.set(id, { ...context });
    return `${this.origin}/respond/${encodeURIComponent(id)}`;
  }

  /** Ids of the response_urls that received a POST, in order. */
  responseUrls(): string[] {
    return [...new Set(this.responseLog.map((r) => r.id))];
  }

  /** Bodies posted to response_urls (all of them, or those of one id), in order. */
  responses(id?: string): unknown[] {
    return this.responseLog.filter((r) => id === undefined || r.id === id).map((r) => clone(r.body));
  }

  /** What each POST to a response_url did (see ResponseUrlPost). */
  responsePosts(id?: string): ResponseUrlPost[] {
    return this.responsePostLog.filter((r) => id === undefined || r.id === id).map(clone);
  }

  /** Answer `apps.connections.open` with link URLs of this Socket Mode server (see FakeSocketMode). */
  serveSocketMode(server: { issueUrl(): string }): void {
    this.socketMode = server;
  }

  /**
   * The next `n` calls of `method` fail with `fault`. Faults queue in the order registered.
   * `method` may be `'*'` (any Web API method) or `'response_url'` (POSTs to responseUrl()).
   */
  failNext(method: string, n: number, fault: SlackFault): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`failNext(${method}): n must be a positive integer, got ${n}`);
    this.faults.push({ method, remaining: n, fault });
  }

  /** Forget the faults not used yet. */
  clearFaults(): void {
    this.faults = [];
  }

  /** Stop listening: every call until acceptConnections() gets ECONNREFUSED, and open connections are cut. */
  async refuseConnections(): Promise<void> {
    if (this.refusing || this.closed) return;
    this.refusing = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listen again on the same port after refuseConnections(). */
  async acceptConnections(): Promise<void> {
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    if (!this.refusing || this.closed) return;
    this.reopening ??= (async () => {
      // The port was ours a moment ago; another process may grab it in between (then the test fails loudly).
      for (let attempt = 1; ; attempt++) {
        try {
          await listen(this.server, this.port);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
          await new Promise((r) => realSetTimeout(r, 50));
        }
      }
      this.refusing = false;
    })().finally(() => {
      this.reopening = undefined;
    });
    await this.reopening;
  }

  async waitFor<T>(probe: () => T | undefined | false, o: { timeoutMs?: number; what?: string } = {}): Promise<T> {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const deadline = realNow() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const v = probe();
        if (v) return v as T;
        lastError = undefined;
      } catch (err) {
        lastError = err;
      }
      if (realNow() >= deadline) {
        const recent = this.calls
          .slice(-10)
          .map((c) => {
            const a = c.answer as { ok?: unknown; error?: unknown } | undefined;
            return `${c.method}→${c.status === 200 ? (a?.ok ? 'ok' : String(a?.error)) : c.status === 0 ? 'dropped' : `HTTP ${c.status}`}`;
          })
          .join(', ');
        const why = lastError === undefined ? '' : `; last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
        throw new Error(
          `FakeSlack.waitFor: timed out after ${timeoutMs} ms waiting for ${o.what ?? 'condition'}${why}. ` +
            `Last Slack calls (${this.calls.length} total): ${recent || 'none'}`,
        );
      }
      await new Promise<void>((r) => realSetTimeout(r, 10));
    }
  }

  /**
   * Forget calls, messages, views, responses, DM channels and pending faults.
   * Configuration (`usergroups`, `users`, `userStates`, `notInChannels`, the Socket Mode server) is kept.
   */
  reset(): void {
    this.calls.length = 0;
    this.store.length = 0;
    this.views.length = 0;
    this.viewStore.clear();
    this.dmChannels.clear();
    this.responseLog.length = 0;
    this.responsePostLog.length = 0;
    this.responseContexts.clear();
    this.faults = [];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    await this.reopening?.catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      this.server.close((err) => (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const raw = await readBody(req);

    if (url.pathname.startsWith('/respond/')) {
      const id = decodeURIComponent(url.pathname.slice('/respond/'.length));
      const fault = this.takeFault('response_url');
      if (fault) return this.sendFault(res, fault, undefined);
      if (req.method !== 'POST') return send(res, { status: 405, body: { ok: false, error: 'method_not_allowed' } });
      let body: unknown;
      try {
        body = parseResponseUrlBody(raw, req.headers['content-type']);
      } catch {
        return send(res, { status: 400, body: { ok: false, error: 'invalid_payload' } });
      }
      this.responseLog.push({ id, body });
      return send(res, this.respond(id, body));
    }

    if (!url.pathname.startsWith('/api/')) {
      return send(res, { status: 404, body: { ok: false, error: 'not_found' } });
    }

    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    let args: Record<string, unknown>;
    let parseError: string | undefined;
    try {
      args = { ...queryArgs(url), ...parseApiBody(raw, req.headers['content-type']) };
    } catch (err) {
      args = { ...queryArgs(url) };
      parseError = err instanceof BodyError ? err.slackError : 'invalid_form_data';
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const bodyToken = str(args['token']);
    delete args['token'];
    const token = bearer ?? bodyToken ?? null;

    const fault = this.takeFault(method);
    if (fault) return this.sendFault(res, fault, { method, args, token });

    // App-level tokens (xapp-) only open Socket Mode connections; bot tokens cannot.
    const appLevelMethod = method.startsWith('apps.connections.');
    let answer: Answer;
    if (parseError) {
      answer = { status: 200, body: fail(parseError) };
    } else if (token !== this.botToken && token !== this.appToken) {
      answer = { status: 200, body: fail('invalid_auth') }; // Slack says not_authed when missing; the brief asks for invalid_auth in both cases
    } else if (appLevelMethod !== (token === this.appToken)) {
      answer = { status: 200, body: fail('not_allowed_token_type') };
    } else {
      const handler = this.handlers[method];
      answer = { status: 200, body: handler ? handler(args) : fail('unknown_method', { req_method: method }) };
    }
    this.calls.push({ method, args, token, at: realNow(), answer: answer.body, status: answer.status });
    send(res, answer);
  }

  private takeFault(method: string): SlackFault | undefined {
    const i = this.faults.findIndex((f) => f.method === method || (f.method === '*' && method !== 'response_url'));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults.splice(i, 1);
    return f.fault;
  }

  private sendFault(
    res: ServerResponse,
    fault: SlackFault,
    call: { method: string; args: Record<string, unknown>; token: string | null } | undefined,
  ): void {
    const record = (status: number, answer: unknown): void => {
      if (call) this.calls.push({ ...call, at: realNow(), answer, status });
    };
    if ('refuse' in fault) {
      record(0, { dropped: true, refused: true });
      res.socket?.destroy();
      void this.refuseConnections().then(() => {
        if (this.closed) return;
        this.reopenTimer = realSetTimeout(() => void this.acceptConnections().catch(() => undefined), fault.forMs ?? 250);
      });
      return;
    }
    if ('drop' in fault) {
      record(0, { dropped: true });
      res.socket?.destroy();
      return;
    }
    if ('error' in fault) {
      const body = fail(fault.error);
      record(200, body);
      return send(res, { status: 200, body });
    }
    if ('retryAfter' in fault) {
      const body = fail('ratelimited');
      record(429, body);
      return send(res, { status: 429, body, headers: { 'retry-after': String(fault.retryAfter) } });
    }
    const body = fail(`http_${fault.status}`);
    record(fault.status, body);
    send(res, { status: fault.status, body });
  }

  // ------------------------------------------------------------------ response_url

  private respond(id: string, body: unknown): Answer {
    const context = this.responseContexts.get(id) ?? {};
    const post: ResponseUrlPost = { id, body: clone(body), effect: 'unplaced' };
    const reject = (error: string, extra: Record<string, unknown> = {}): Answer => {
      post.effect = 'rejected';
      post.error = error;
      this.responsePostLog.push(post);
      return { status: 400, body: fail(error, extra) };
    };
    if (!body || typeof body !== 'object' || Array.isArray(body)) return reject('invalid_payload');
    const b = body as Record<string, unknown>;
    if (truthy(b['delete_original'])) {
      const original = this.findPosted(context.channel, context.messageTs);
      if (original) {
        this.store.splice(this.store.indexOf(original), 1);
        Object.assign(post, { effect: 'deleted', ts: original.ts, channel: original.channel });
      }
      this.responsePostLog.push(post);
      return { status: 200, body: ok() };
    }
    const problem = messageContentError(b);
    if (problem) return reject(String(problem['error']), problem['response_metadata'] ? { response_metadata: problem['response_metadata'] } : {});
    const text = str(b['text']);
    const blocks = Array.isArray(b['blocks']) ? (b['blocks'] as unknown[]) : undefined;
    if (!text && !(blocks && blocks.length > 0)) return reject('no_text');

    if (truthy(b['replace_original'])) {
      const original = this.findPosted(context.channel, context.messageTs);
      if (original) {
        if (text !== undefined) original.text = text;
        if (blocks !== undefined) original.blocks = clone(blocks);
        original.updates += 1;
        Object.assign(post, { effect: 'replaced', ts: original.ts, channel: original.channel });
      }
    } else if (b['response_type'] === 'in_channel') {
      if (context.channel) {
        const m: StoredMessage = { channel: context.channel, ts: this.nextTs(), updates: 0, viaResponseUrl: id };
        const threadTs = str(b['thread_ts']);
        if (threadTs) m.thread_ts = threadTs;
        if (text !== undefined) m.text = text;
        if (blocks !== undefined) m.blocks = clone(blocks);
        this.store.push(m);
        Object.assign(post, { effect: 'in_channel', ts: m.ts, channel: m.channel });
      }
    } else if (context.user) {
      // Slack's default for a response_url post that replaces nothing: a new message only the user sees.
      const m: StoredMessage = {
        channel: context.channel ?? `D${context.user}`,
        ts: this.nextTs(),
        user: context.user,
        ephemeral: true,
        updates: 0,
        viaResponseUrl: id,
      };
      if (text !== undefined) m.text = text;
      if (blocks !== undefined) m.blocks = clone(blocks);
      this.store.push(m);
      Object.assign(post, { effect: 'ephemeral', ts: m.ts, channel: m.channel, user: m.user });
    }
    this.responsePostLog.push(post);
    return { status: 200, body: ok() };
  }

  // ------------------------------------------------------------------ methods

  private nextTs(): string {
    this.tsSeq += 1;
    const micros = this.tsSeq * 100;
    const sec = 1_700_000_000 + Math.floor(micros / 1_000_000);
    return `${sec}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.idSeq += 1;
    return `${prefix}0${String(this.idSeq).padStart(8, '0')}`;
  }

  private connectionsOpen(): Record<string, unknown> {
    if (!this.socketMode) return fail('fake_socket_mode_not_attached');
    return ok({ url: this.socketMode.issueUrl() });
  }

  private authTest(): Record<string, unknown> {
    return ok({
      url: `https://${FAKE_SLACK_DEFAULTS.teamDomain}.slack.com/`,
      team: 'Fake Team',
      user: 'broadcast-bot',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    });
  }

  private botIsOut(channel: string): boolean {
    return [...this.notInChannels].some((c) => sameChannel(c, channel));
  }

  private messageView(m: StoredMessage, o: { metadata?: boolean; thread?: boolean } = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: 'message',
      text: m.text ?? '',
      user: this.botUserId,
      bot_id: this.botId,
      app_id: FAKE_SLACK_DEFAULTS.appId,
      team: this.teamId,
      ts: m.ts,
    };
    if (m.thread_ts !== undefined) out['thread_ts'] = m.thread_ts;
    if (m.blocks !== undefined) out['blocks'] = clone(m.blocks);
    if (m.attachments !== undefined) out['attachments'] = clone(m.attachments);
    if (m.metadata !== undefined && o.metadata !== false) out['metadata'] = clone(m.metadata);
    if (o.thread && (m.thread_ts === undefined || m.thread_ts === m.ts)) {
      const replies = this.store.filter((r) => !r.ephemeral && r.thread_ts === m.ts && r.ts !== m.ts && sameChannel(r.channel, m.channel));
      if (replies.length > 0) {
        out['thread_ts'] = m.ts;
        out['reply_count'] = replies.length;
        out['reply_users_count'] = 1;
        out['reply_users'] = [this.botUserId];
        out['latest_reply'] = replies.at(-1)!.ts;
      }
    }
    return out;
  }

  /** Checks of chat.postMessage / postEphemeral targets, in Slack's order: the user, then membership. */
  private targetError(channel: string): Record<string, unknown> | undefined {
    const user = dmUser(channel);
    const state = user === undefined ? undefined : this.userStates.get(user);
    if (state === 'not_found') return fail('user_not_found');
    if (state === 'deactivated') return fail('account_inactive');
    if (this.botIsOut(channel)) return fail('not_in_channel');
    return undefined;
  }

  private postMessage(args: Record<string, unknown>): Record<string, unknown> {
    const channel = str(args['channel']);
    if (!channel) return fail('channel_not_found');
    const targetError = this.targetError(channel);
    if (targetError) return targetError;
    const contentError = messageContentError(args);
    if (contentError) return contentError;
    const text = str(args['text']);
    const blocks = args['blocks'] as unknown[] | undefined;
    const attachments = Array.isArray(args['attachments']) ? (args['attachments'] as unknown[]) : undefined;
    if (!text && !(blocks && blocks.length > 0) && !(attachments && attachments.length > 0)) return fail('no_text');
    const m: StoredMessage = { channel, ts: this.nextTs(), updates: 0 };
    const threadTs = str(args['thread_ts']);
    if (threadTs) m.thread_ts = threadTs;
    if (text !== undefined) m.text = text;
    if (blocks !== undefined) m.blocks = clone(blocks);
    if (attachments !== undefined) m.attachments = clone(attachments);
    if (args['metadata'] !== undefined) m.metadata = clone(args['metadata']);
    this.store.push(m);
    return ok({ channel, ts: m.ts, message: this.messageView(m) });
  }

  private findPosted(channel: string | undefined, ts: string | undefined): StoredMessage | undefined {
    if (!channel || !ts) return undefined;
    return this.store.find((m) => !m.ephemeral && m.ts === ts && sameChannel(m.channel, channel));
  }

  private update(args: Record<string, unknown>): Record<string, unknown> {
    const m = this.findPosted(str(args['channel']), str(args['ts']));
    if (!m) return fail('message_not_found');
    const contentError = messageContentError(args);
    if (contentError) return contentError;
    const text = str(args['text']);
    // Like Slack: fields not sent are retained; an empty blocks/attachments array removes them.
    if (text !== undefined) m.text = text;
    if (args['blocks'] !== undefined) m.blocks = clone(args['blocks'] as unknown[]);
    if (Array.isArray(args['attachments'])) m.attachments = clone(args['attachments'] as unknown[]);
    if (args['metadata'] !== undefined) m.metadata = clone(args['metadata']);
    m.updates += 1;
    return ok({ channel: str(args['channel']), ts: m.ts, text: m.text ?? '', message: this.messageView(m) });
  }

  private postEphemeral(args: Record<string, unknown>): Record<string, unknown> {
    const channel = str(args['channel']);
    const user = str(args['user']);
    if (!channel) return fail('channel_not_found');
    if (!user) return fail('user_not_found');
    const state = this.userStates.get(user);
    if (state === 'not_found') return fail('user_not_found');
    if (state === 'deactivated') return fail('user_not_in_channel');
    if (this.botIsOut(channel)) return fail('not_in_channel');
    const contentError = messageContentError(args);
    if (contentError) return contentError;
    const text = str(args['text']);
    const blocks = args['blocks'] as unknown[] | undefined;
    const attachments = Array.isArray(args['attachments']) ? (args['attachments'] as unknown[]) : undefined;
    if (!text && !(blocks && blocks.length > 0) && !(attachments && attachments.length > 0)) return fail('no_text');
    const m: StoredMessage = { channel, ts: this.nextTs(), user, ephemeral: true, updates: 0 };
    const threadTs = str(args['thread_ts']);
    if (threadTs) m.thread_ts = threadTs;
    if (text !== undefined) m.text = text;
    if (blocks !== undefined) m.blocks = clone(blocks);
    if (attachments !== undefined) m.attachments = clone(attachments);
    this.store.push(m);
    return ok({ message_ts: m.ts });
  }

  private deleteMessage(args: Record<string, unknown>): Record<string, unknown> {
    const m = this.findPosted(str(args['channel']), str(args['ts']));
    if (!m) return fail('message_not_found');
    this.store.splice(this.store.indexOf(m), 1);
    return ok({ channel: str(args['channel']), ts: m.ts });
  }

  private getPermalink(args: Record<string, unknown>): Record<string, unknown> {
    const channel = str(args['channel']);
    const ts = str(args['message_ts']);
    if (!channel) return fail('channel_not_found');
    const m = this.findPosted(channel, ts);
    if (!m) return fail('message_not_found');
    let permalink = `https://${FAKE_SLACK_DEFAULTS.teamDomain}.slack.com/archives/${channel}/p${m.ts.replace('.', '')}`;
    if (m.thread_ts !== undefined && m.thread_ts !== m.ts) permalink += `?thread_ts=${m.thread_ts}&cid=${channel}`;
    return ok({ channel, permalink });
  }

  /** One page of `list` (already in answer order) after the cursor, like Slack's cursor pagination. */
  private page(
    list: StoredMessage[],
    args: Record<string, unknown>,
    o: { defaultLimit: number; maxLimit: number; after: (m: StoredMessage, cursorTs: string) => boolean; metadata: boolean; thread: boolean },
  ): Record<string, unknown> | { error: Record<string, unknown> } {
    const cursor = str(args['cursor']);
    let rest = list;
    if (cursor) {
      const from = decodeCursor(cursor);
      if (from === undefined) return { error: fail('invalid_cursor') };
      rest = list.filter((m) => o.after(m, from));
    }
    const asked = Number(str(args['limit']) ?? o.defaultLimit);
    const limit = Number.isFinite(asked) && asked >= 1 ? Math.min(Math.floor(asked), o.maxLimit) : o.defaultLimit;
    const items = rest.slice(0, limit);
    const hasMore = rest.length > limit;
    return {
      messages: items.map((m) => this.messageView(m, { metadata: o.metadata, thread: o.thread })),
      has_more: hasMore,
      response_metadata: { next_cursor: hasMore ? encodeCursor(rest[limit]!.ts) : '' },
    };
  }

  /**
   * Top-level messages of a channel, newest first. Metadata is included only with `include_all_metadata`
   * (stricter than Slack, which may also show the calling app's own metadata without it).
   */
  private history(args: Record<string, unknown>): Record<string, unknown> {
    const channel = str(args['channel']);
    if (!channel) return fail('channel_not_found');
    if (this.botIsOut(channel)) return fail('not_in_channel');
    const list = this.store
      .filter((m) => !m.ephemeral && sameChannel(m.channel, channel) && (m.thread_ts === undefined || m.thread_ts === m.ts))
      .filter((m) => inWindow(m.ts, args))
      .sort((a, b) => (tsKey(b.ts) > tsKey(a.ts) ? 1 : tsKey(b.ts) < tsKey(a.ts) ? -1 : 0));
    const page = this.page(list, args, {
      defaultLimit: 100,
      maxLimit: 999,
      after: (m, from) => tsKey(m.ts) <= tsKey(from),
      metadata: truthy(args['include_all_metadata']),
      thread: true,
    });
    if ('error' in page) return page.error as Record<string, unknown>;
    return ok({ ...page, pin_count: 0, channel_actions_ts: null, channel_actions_count: 0 });
  }

  /** A thread, oldest first: the parent, then its replies. `ts` may be the parent's or a reply's. */
  private replies(args: Record<string, unknown>): Record<string, unknown> {
    const channel = str(args['channel']);
    const ts = str(args['ts']);
    if (!channel) return fail('channel_not_found');
    if (this.botIsOut(channel)) return fail('not_in_channel');
    const hit = this.findPosted(channel, ts);
    if (!hit) return fail('thread_not_found');
    const parentTs = hit.thread_ts ?? hit.ts;
    const list = this.store
      .filter((m) => !m.ephemeral && sameChannel(m.channel, channel) && (m.ts === parentTs || m.thread_ts === parentTs))
      .filter((m) => inWindow(m.ts, args))
      .sort((a, b) => (tsKey(a.ts) > tsKey(b.ts) ? 1 : tsKey(a.ts) < tsKey(b.ts) ? -1 : 0));
    const page = this.page(list, args, {
      defaultLimit: 1000,
      maxLimit: 1000,
      after: (m, from) => tsKey(m.ts) >= tsKey(from),
      metadata: truthy(args['include_all_metadata']),
      thread: true,
    });
    if ('error' in page) return page.error as Record<string, unknown>;
    return ok(page);
  }

  private conversationsOpen(args: Record<string, unknown>): Record<string, unknown> {
    const existing = str(args['channel']);
    if (existing) return ok({ channel: { id: existing }, no_op: true, already_open: true });
    const users = (str(args['users']) ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (users.length === 0) return fail('users_list_not_supplied');
    if (users.length > 8) return fail('too_many_users');
    for (const u of users) {
      const state = this.userStates.get(u);
      if (state === 'not_found') return fail('user_not_found');
      if (state === 'deactivated') return fail('user_disabled');
    }
    if (users.length === 1) {
      const user = users[0]!;
      const already = this.dmChannels.has(user);
      const id = this.dmChannels.get(user) ?? `D${user}`;
      this.dmChannels.set(user, id);
      return ok({ no_op: already, already_open: already, channel: { id } });
    }
    return ok({ no_op: false, already_open: false, channel: { id: `G${[...users].sort().join('')}` } });
  }

  private usergroupUsers(args: Record<string, unknown>): Record<string, unknown> {
    const group = str(args['usergroup']);
    const users = group === undefined ? undefined : this.usergroups.get(group);
    if (!users) return fail('no_such_subteam');
    return ok({ users: [...users] });
  }

  private usersInfo(args: Record<string, unknown>): Record<string, unknown> {
    const id = str(args['user']);
    if (!id) return fail('user_not_found');
    const state = this.userStates.get(id);
    if (state === 'not_found') return fail('user_not_found');
    const name = id.toLowerCase();
    const extra = this.users.get(id) ?? {};
    return ok({
      user: {
        id,
        team_id: this.teamId,
        name,
        real_name: name,
        deleted: state === 'deactivated',
        is_bot: id === this.botUserId,
        is_admin: false,
        tz: 'Asia/Shanghai',
        tz_label: 'China Standard Time',
        tz_offset: 28800,
        profile: { real_name: name, display_name: name },
        ...clone(extra),
      },
    });
  }

  private storeView(view: Record<string, unknown>, existing?: ViewRecord): ViewRecord {
    const id = existing?.id ?? this.nextId('V');
    this.hashSeq += 1;
    const hash = `1700000000.h${String(this.hashSeq).padStart(8, '0')}`;
    const rec: ViewRecord = { id, hash, view: clone(view) };
    const ext = str(view['external_id']) ?? existing?.external_id;
    if (ext !== undefined) rec.external_id = ext;
    this.viewStore.set(id, rec);
    return rec;
  }

  private viewAnswer(rec: ViewRecord): Record<string, unknown> {
    return ok({
      view: {
        team_id: this.teamId,
        type: 'modal',
        blocks: [],
        private_metadata: '',
        callback_id: '',
        state: { values: {} },
        clear_on_close: false,
        notify_on_close: false,
        close: null,
        submit: null,
        previous_view_id: null,
        root_view_id: rec.id,
        app_id: FAKE_SLACK_DEFAULTS.appId,
        external_id: '',
        app_installed_team_id: this.teamId,
        bot_id: this.botId,
        ...clone(rec.view),
        id: rec.id,
        hash: rec.hash,
      },
    });
  }

  private viewsOpenOrPush(method: 'views.open' | 'views.push', args: Record<string, unknown>): Record<string, unknown> {
    const triggerId = str(args['trigger_id']) ?? str(args['interactivity_pointer']);
    if (!triggerId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
    const problems = validateView(args['view'], 'modal');
    if (problems.length > 0) return fail('invalid_arguments', { response_metadata: { messages: problems } });
    const view = args['view'] as Record<string, unknown>;
    const ext = str(view['external_id']);
    if (ext !== undefined && [...this.viewStore.values()].some((v) => v.external_id === ext)) return fail('duplicate_external_id');
    const rec = this.storeView(view);
    this.views.push({ method, view: clone(view), trigger_id: triggerId, view_id: rec.id });
    return this.viewAnswer(rec);
  }

  /**
   * Lenient on purpose: a view_id the fake never issued (e.g. from a hand-built view_submission payload) is
   * accepted and becomes known. For a known view, a stale `hash` answers `hash_conflict` as Slack does.
   */
  private viewsUpdate(args: Record<string, unknown>): Record<string, unknown> {
    const viewId = str(args['view_id']);
    const externalId = str(args['external_id']);
    if (!viewId && !externalId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view_id or external_id is required'] } });
    const problems = validateView(args['view'], 'modal');
    if (problems.length > 0) return fail('invalid_arguments', { response_metadata: { messages: problems } });
    let existing = viewId ? this.viewStore.get(viewId) : [...this.viewStore.values()].find((v) => v.external_id === externalId);
    if (!existing && !viewId) return fail('not_found');
    const hash = str(args['hash']);
    if (existing && hash !== undefined && hash !== existing.hash) return fail('hash_conflict');
    if (!existing && viewId) {
      existing = { id: viewId, hash: '', view: {} };
    }
    const rec = this.storeView(args['view'] as Record<string, unknown>, existing);
    this.views.push({ method: 'views.update', view: clone(args['view']), view_id: rec.id });
    return this.viewAnswer(rec);
  }

  private viewsPublish(args: Record<string, unknown>): Record<string, unknown> {
    const userId = str(args['user_id']);
    if (!userId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: user_id'] } });
    const problems = validateView(args['view'], 'home');
    if (problems.length > 0) return fail('invalid_arguments', { response_metadata: { messages: problems } });
    const rec = this.storeView(args['view'] as Record<string, unknown>);
    this.views.push({ method: 'views.publish', view: clone(args['view']), view_id: rec.id, user_id: userId });
    return this.viewAnswer(rec);
  }
}

/** Listen on 127.0.0.1:`port` (0: any free port). */
function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// ------------------------------------------------------------------ body parsing

class BodyError extends Error {
  constructor(readonly slackError: string) {
    super(slackError);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function mimeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function parseJsonField(key: string, value: string): unknown {
  if (!JSON_FIELDS.has(key)) return value;
  const t = value.trim();
  if (!(t.startsWith('[') || t.startsWith('{'))) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}

function formArgs(raw: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = parseJsonField(k, v);
  return out;
}

function queryArgs(url: URL): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) out[k] = parseJsonField(k, v);
  return out;
}

function parseApiBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  const mime = mimeOf(contentType);
  if (mime === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new BodyError('invalid_json');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyError('invalid_json');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) out[k] = typeof v === 'string' ? parseJsonField(k, v) : v;
    return out;
  }
  if (mime === 'application/x-www-form-urlencoded' || mime === '') return formArgs(raw);
  throw new BodyError('invalid_form_data');
}

function parseResponseUrlBody(raw: string, contentType: string | undefined): unknown {
  if (mimeOf(contentType) === 'application/x-www-form-urlencoded') {
    const form = formArgs(raw);
    return typeof form['payload'] === 'string' ? JSON.parse(form['payload']) : form;
  }
  return raw.length === 0 ? null : JSON.parse(raw);
}

function send(res: ServerResponse, a: Answer): void {
  const body = JSON.stringify(a.body);
  res.writeHead(a.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...a.headers,
  });
  res.end(body);
}
