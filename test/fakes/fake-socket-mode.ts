/**
 * A fake of Slack's Socket Mode WebSocket endpoint over loopback, for end-to-end tests that run the real
 * app (real Bolt SocketModeReceiver, real @slack/socket-mode client) against it.
 *
 * What it does, like Slack (see /work/shared/reference/platform-notes-2.md §4.4):
 *  - hands out single-use link URLs `ws://127.0.0.1:<port>/link/?ticket=…&app_id=…` (FakeSlack answers
 *    `apps.connections.open` with `issueUrl()`); a connection with an unknown or used ticket is refused (HTTP 401);
 *  - sends `{"type":"hello",…}` when a link opens;
 *  - delivers envelopes `{envelope_id, type, payload, accepts_response_payload, retry_attempt?, retry_reason?}`
 *    of type `slash_commands`, `interactive` and `events_api`, and records the acks `{envelope_id, payload}`;
 *  - answers the client's pings (the `ws` server does that by itself) and can ping the client (`pingIntervalMs`);
 *  - can ask the client to reconnect (`{"type":"disconnect","reason":"refresh_requested"}`) or just drop the TCP link.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FAKE_SLACK_DEFAULTS } from './fake-slack.js';

// Captured at module load so that tests using fake timers (vi.useFakeTimers) do not freeze the waits.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realNow = Date.now.bind(Date);

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketModeEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface SocketModeAck {
  envelope_id: string;
  /** What the app acked with (`{}` for a bare ack()); e.g. `{ response_action: 'errors', errors: {…} }`. */
  payload: unknown;
  /** Id of the link the ack came over. */
  linkId: number;
  at: number;
}

export interface SocketModeLink {
  id: number;
  ticket: string;
  openedAt: number;
  closedAt?: number;
  /** How it ended: the client closed it, the fake asked for a refresh, or the fake dropped it. */
  closedBy?: 'client' | 'refresh' | 'drop' | 'server-close';
}

export interface FakeSocketModeOptions {
  appId?: string;
  /** Send a WebSocket ping to each client this often, as Slack does. Off by default. */
  pingIntervalMs?: number;
  /** Register with this FakeSlack so that its `apps.connections.open` answers with `issueUrl()`. */
  slack?: { serveSocketMode(server: { issueUrl(): string }): void };
}

interface Live {
  link: SocketModeLink;
  socket: WebSocket;
  pinger?: NodeJS.Timeout;
  /** set before the fake closes/drops it, to record why */
  ending?: SocketModeLink['closedBy'];
}

type Waiter = { probe: () => boolean; resolve: () => void };

export class FakeSocketMode {
  readonly origin: string;
  readonly appId: string;
  /** Every link opened, in order (open and closed). */
  readonly links: SocketModeLink[] = [];
  /** Every envelope delivered, in order. */
  readonly envelopes: SocketModeEnvelope[] = [];
  /** Every ack received, in order. */
  readonly acks: SocketModeAck[] = [];
  /** Upgrade requests refused (HTTP 401) because of a missing, unknown or already used ticket. undici re-sends a request answered 401 once, so one attempt of the SDK client counts 2. */
  refusedTickets = 0;

  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly live = new Map<number, Live>();
  private readonly tickets = new Set<string>();
  private readonly pingIntervalMs: number | undefined;
  private waiters: Waiter[] = [];
  private linkSeq = 0;
  private envelopeSeq = 0;
  private eventSeq = 0;

  private constructor(http: Server, wss: WebSocketServer, port: number, o: FakeSocketModeOptions) {
    this.http = http;
    this.wss = wss;
    this.origin = `ws://127.0.0.1:${port}`;
    this.appId = o.appId ?? FAKE_SLACK_DEFAULTS.appId;
    this.pingIntervalMs = o.pingIntervalMs;
  }

  static async start(o: FakeSocketModeOptions = {}): Promise<FakeSocketMode> {
    const http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('upgrade required');
    });
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    const fake = new FakeSocketMode(http, wss, (http.address() as AddressInfo).port, o);
    http.on('upgrade', (req, socket, head) => fake.upgrade(req, socket, head));
    o.slack?.serveSocketMode(fake);
    return fake;
  }

  // ------------------------------------------------------------------ links

  /** A fresh single-use link URL, as `apps.connections.open` returns it. */
  issueUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${this.origin}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  /** Links open now (hello sent). */
  openLinks(): SocketModeLink[] {
    return [...this.live.values()].map((l) => ({ ...l.link }));
  }

  /** Resolves once at least `count` links have ever opened (default: one more than now) and one is open. */
  async waitForLink(o: { count?: number; timeoutMs?: number } = {}): Promise<SocketModeLink> {
    const count = o.count ?? this.links.length + 1;
    await this.until(() => this.links.length >= count && this.live.size > 0, o.timeoutMs ?? 10_000, `Socket Mode link #${count}`);
    return { ...[...this.live.values()].at(-1)!.link };
  }

  /** Resolves once no link is open. */
  async waitForNoLink(o: { timeoutMs?: number } = {}): Promise<void> {
    await this.until(() => this.live.size === 0, o.timeoutMs ?? 10_000, 'every Socket Mode link to close');
  }

  /** Ask every client to reconnect, as Slack does before recycling a server (the client closes the link). */
  requestRefresh(reason: 'refresh_requested' | 'warning' | 'too_many_websockets' = 'refresh_requested'): void {
    for (const l of this.live.values()) {
      l.ending ??= 'refresh';
      l.socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
    }
  }

  /** Drop every link without a close frame (the TCP connection just dies). */
  dropAll(): void {
    for (const l of this.live.values()) {
      l.ending = 'drop';
      l.socket.terminate();
    }
  }

  // ------------------------------------------------------------------ envelopes

  /**
   * Deliver an envelope on the newest open link (waiting up to `timeoutMs` for one). Returns its envelope_id.
   * `accepts_response_payload` defaults to Slack's: true for slash commands and view submissions.
   */
  async deliver(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    o: { acceptsResponsePayload?: boolean; retryAttempt?: number; retryReason?: string; timeoutMs?: number } = {},
  ): Promise<string> {
    await this.until(() => this.live.size > 0, o.timeoutMs ?? 10_000, `an open Socket Mode link to deliver ${type}`);
    const live = [...this.live.values()].at(-1)!;
    this.envelopeSeq += 1;
    const envelope: SocketModeEnvelope = {
      envelope_id: `${randomUUID()}-${this.envelopeSeq}`,
      type,
      payload,
      accepts_response_payload:
        o.acceptsResponsePayload ?? (type === 'slash_commands' || (type === 'interactive' && payload['type'] === 'view_submission')),
    };
    if (type === 'events_api') {
      envelope.retry_attempt = o.retryAttempt ?? 0;
      envelope.retry_reason = o.retryReason ?? '';
    }
    this.envelopes.push(envelope);
    live.socket.send(JSON.stringify(envelope));
    return envelope.envelope_id;
  }

  /** A slash command; `payload` has the fields of the HTTP form (command, text, user_id, trigger_id, response_url, …). */
  slashCommand(payload: Record<string, unknown>): Promise<string> {
    return this.deliver('slash_commands', payload);
  }

  /** An interaction: a block_actions or view_submission payload (the JSON of the HTTP `payload` field). */
  interactive(payload: Record<string, unknown>): Promise<string> {
    return this.deliver('interactive', payload);
  }

  /** An Events API callback: `event` is wrapped in an `event_callback` like Slack does. */
  eventsApi(event: Record<string, unknown>, o: { retryAttempt?: number; retryReason?: string; teamId?: string } = {}): Promise<string> {
    const teamId = o.teamId ?? FAKE_SLACK_DEFAULTS.teamId;
    this.eventSeq += 1;
    return this.deliver(
      'events_api',
      {
        token: 'fake-verification-token',
        team_id: teamId,
        api_app_id: this.appId,
        event,
        type: 'event_callback',
        event_id: `Ev0FAKE${String(this.eventSeq).padStart(6, '0')}`,
        event_time: Math.floor(realNow() / 1000),
        authorizations: [{ team_id: teamId, user_id: FAKE_SLACK_DEFAULTS.botUserId, is_bot: true, is_enterprise_install: false }],
        is_ext_shared_channel: false,
      },
      { ...(o.retryAttempt !== undefined ? { retryAttempt: o.retryAttempt } : {}), ...(o.retryReason !== undefined ? { retryReason: o.retryReason } : {}) },
    );
  }

  /** The ack of an envelope, once the app sent it. */
  async waitForAck(envelopeId: string, o: { timeoutMs?: number } = {}): Promise<SocketModeAck> {
    await this.until(() => this.acks.some((a) => a.envelope_id === envelopeId), o.timeoutMs ?? 10_000, `the ack of envelope ${envelopeId}`);
    return this.acks.find((a) => a.envelope_id === envelopeId)!;
  }

  /** Forget envelopes, acks and links history (open links stay open). */
  reset(): void {
    this.envelopes.length = 0;
    this.acks.length = 0;
    this.links.splice(0, this.links.length, ...[...this.live.values()].map((l) => l.link));
    this.refusedTickets = 0;
  }

  async close(): Promise<void> {
    for (const l of this.live.values()) {
      l.ending = 'server-close';
      l.socket.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve, reject) => {
      this.http.close((err) => (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve()));
      this.http.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------ internals

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket');
    if (url.pathname !== '/link/' || !ticket || !this.tickets.has(ticket)) {
      this.refusedTickets += 1;
      const body = 'invalid or used ticket';
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    this.tickets.delete(ticket); // single use, like Slack's
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opened(ws, ticket));
  }

  private opened(socket: WebSocket, ticket: string): void {
    this.linkSeq += 1;
    const link: SocketModeLink = { id: this.linkSeq, ticket, openedAt: realNow() };
    const live: Live = { link, socket };
    this.links.push(link);
    this.live.set(link.id, live);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      const m = msg as { envelope_id?: unknown; payload?: unknown };
      if (typeof m.envelope_id === 'string') {
        this.acks.push({ envelope_id: m.envelope_id, payload: m.payload ?? {}, linkId: link.id, at: realNow() });
        this.notify();
      }
    });
    socket.on('close', () => {
      link.closedAt = realNow();
      link.closedBy = live.ending ?? 'client';
      if (live.pinger) clearInterval(live.pinger);
      this.live.delete(link.id);
      this.notify();
    });
    socket.on('error', () => undefined); // a dropped peer; 'close' follows
    if (this.pingIntervalMs) {
      live.pinger = setInterval(() => socket.ping(Buffer.from(`ping ${realNow()}`)), this.pingIntervalMs);
    }
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.live.size,
        debug_info: { host: `applink-fake-${link.id}`, build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    this.notify();
  }

  private notify(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.probe() ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (probe()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        probe,
        resolve: () => {
          realClearTimeout(timer);
          resolve();
        },
      };
      const timer = realSetTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `FakeSocketMode: timed out after ${timeoutMs} ms waiting for ${what} ` +
              `(links opened: ${this.links.length}, open now: ${this.live.size}, tickets refused: ${this.refusedTickets}, acks: ${this.acks.length})`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

/** The fields of a form-encoded HTTP body (e.g. `slashCommandBody()`), as the Socket Mode payload carries them. */
export function formFields(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** The JSON of the `payload=` field of an interaction body (e.g. `blockActionBody()`, `viewSubmissionBody()`). */
export function interactionPayload(body: string): Record<string, unknown> {
  const raw = new URLSearchParams(body).get('payload');
  if (raw === null) throw new Error('interactionPayload: the body has no payload field');
  return JSON.parse(raw) as Record<string, unknown>;
}
