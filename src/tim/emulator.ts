// A local stand-in for the Tencent IM REST calls the app makes (im_push, im_get_attr_name,
// openconfigsvr/getappinfo), faithful to the documentation (reference §1, §4, §6; platform-notes-2
// §3.2): same URL scheme, UserSig check, error codes and limits, plus fault injection for the
// failures that matter (timeouts after acceptance, dropped connections, 5xx), aimed at one path.
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GET_APP_INFO_PATH, GET_ATTR_NAME_PATH, PUSH_PATH } from './client.js';
import { explainError } from './errors.js';
import { checkPushBody, type ImPushBody } from './push-body.js';
import { verifyUserSig } from './usersig.js';

export interface EmulatorOptions {
  sdkAppId: number;
  secretKey: string;
  /** Default 'administrator'. */
  admin?: string;
  /** Default 100. */
  dailyQuota?: number;
  /** Pushes must be MORE than this apart. Default 1000. */
  minIntervalMs?: number;
  /** Default 'Asia/Shanghai'. */
  quotaTimezone?: string;
  attrNames?: string[];
  /**
   * A repeated MsgRandom within this many milliseconds of the push that used it is answered with
   * that push's TaskId and pushes nothing. Default 1000: the current docs promise de-duplication
   * only "within the same second" (reference §6 item 6; an older revision said 7 days).
   */
  dedupWindowMs?: number;
  /** RegistUserNumTotal of the latest day in getappinfo. Default 12345. */
  registeredUsers?: number;
  /** Milliseconds. Default Date.now. */
  now?: () => number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Called once per API request, e.g. for a log line. Carries no secrets. */
  onRequest?: (e: EmulatorLogEntry) => void;
}

export interface EmulatorLogEntry {
  path: string;
  /** Tencent ErrorCode answered, or null when no JSON answer was given (fault). */
  code: number | null;
  taskId?: string;
  fault?: FaultMode['kind'];
}

export interface AcceptedPush {
  taskId: string;
  body: ImPushBody;
  at: number;
  /** The query parameters, without usersig. */
  query: Record<string, string>;
}

export interface EmulatorRequest {
  path: string;
  /** The query parameters, without usersig. */
  query: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** The JSON answer, the raw text for 'malformed', { httpStatus } for 'http', null for 'drop'. */
  response: unknown;
}

/**
 * accept:true = the request is first handled normally (a valid push really goes out), and only
 * then the fault replaces the answer: e.g. 60008 or a 502 from a gateway after the backend acted.
 */
export type FaultMode =
  | { kind: 'error'; code: number; info?: string; accept?: boolean }
  | { kind: 'http'; status: number; accept?: boolean }
  | { kind: 'delay'; ms: number; accept: boolean }
  | { kind: 'drop'; accept: boolean }
  | { kind: 'malformed' };

/** The API paths the emulator answers; a fault can be aimed at one of them or at '*' (any). */
export const EMULATED_PATHS: readonly string[] = [PUSH_PATH, GET_ATTR_NAME_PATH, GET_APP_INFO_PATH];
const API_PATHS = new Set(EMULATED_PATHS);
const MAX_UINT32 = 4294967295;
const MAX_REQUEST_BYTES = 1024 * 1024;
/** Days of operations data getappinfo answers (Tencent: the last 30). */
const APP_INFO_DAYS = 3;
/** Tencent counts operations data per day in Beijing time. */
const APP_INFO_TIMEZONE = 'Asia/Shanghai';

type Reply = { ActionStatus?: 'OK' | 'FAIL'; ErrorCode: number; ErrorInfo: string; [k: string]: unknown };

function ok(extra: Record<string, unknown> = {}): Reply {
  return { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...extra };
}

function fail(code: number, info: string): Reply {
  return { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info };
}

interface Resolved {
  sdkAppId: number;
  secretKey: string;
  admin: string;
  dailyQuota: number;
  minIntervalMs: number;
  quotaTimezone: string;
  attrNames: string[];
  dedupWindowMs: number;
  registeredUsers: number;
  now: () => number;
  onRequest: ((e: EmulatorLogEntry) => void) | undefined;
}

export class PushEmulator {
  readonly url: string;
  readonly pushes: AcceptedPush[] = [];
  readonly requests: EmulatorRequest[] = [];
  readonly #server: Server;
  readonly #o: Resolved;
  readonly #dayFormat: Intl.DateTimeFormat;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #statsDayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: APP_INFO_TIMEZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
  #faults: { path: string; mode: FaultMode }[] = [];
  #quota = { day: '', used: 0 };
  #lastAcceptedAt: number | undefined;
  #byMsgRandom = new Map<number, { taskId: string; at: number }>();
  // TaskId shape: <sdkappid>_<18-digit id>_<uint32>_<counter>, e.g. 1400123456_144115212910570789_4155518400_15723514
  readonly #taskIdMiddle = '1' + Array.from({ length: 17 }, () => randomInt(10)).join('');
  #taskCounter = randomInt(10_000_000, 90_000_000);

  private constructor(server: Server, o: Resolved) {
    this.#server = server;
    this.#o = o;
    this.#dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: o.quotaTimezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `http://${host}:${addr.port}`;
    server.on('request', (req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  static async start(o: EmulatorOptions): Promise<PushEmulator> {
    if (!Number.isSafeInteger(o.sdkAppId) || o.sdkAppId <= 0) throw new RangeError('sdkAppId must be a positive whole number');
    if (!o.secretKey) throw new TypeError('secretKey is empty');
    const resolved: Resolved = {
      sdkAppId: o.sdkAppId,
      secretKey: o.secretKey,
      admin: o.admin ?? 'administrator',
      dailyQuota: o.dailyQuota ?? 100,
      minIntervalMs: o.minIntervalMs ?? 1000,
      quotaTimezone: o.quotaTimezone ?? 'Asia/Shanghai',
      attrNames: o.attrNames ?? [],
      dedupWindowMs: nonNegative('dedupWindowMs', o.dedupWindowMs ?? 1000),
      registeredUsers: nonNegative('registeredUsers', o.registeredUsers ?? 12345),
      now: o.now ?? Date.now,
      onRequest: o.onRequest,
    };
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new PushEmulator(server, resolved);
  }

  /**
   * The next n requests to `path` (default im_push; '*' = any API path) get this fault instead of
   * (or, with accept:true, on top of) normal handling. Faults for other paths are left alone.
   */
  failNext(n: number, mode: FaultMode, path: string = PUSH_PATH): void {
    if (path !== '*' && !API_PATHS.has(path)) throw new RangeError(`failNext: not an emulated path: ${path}`);
    for (let i = 0; i < n; i++) this.#faults.push({ path, mode });
  }

  /** The accepted push tasks that carried this MsgRandom (more than one = a double push). */
  acceptedFor(msgRandom: number): AcceptedPush[] {
    return this.pushes.filter((p) => p.body.MsgRandom === msgRandom);
  }

  /** Change the number of registered users getappinfo reports from now on. */
  setRegisteredUsers(n: number): void {
    this.#o.registeredUsers = nonNegative('registeredUsers', n);
  }

  /** Pretend n pushes were already accepted today (in the quota time zone). */
  setQuotaUsed(n: number): void {
    this.#quota = { day: this.#dayOf(this.#o.now()), used: n };
  }

  reset(): void {
    this.pushes.length = 0;
    this.requests.length = 0;
    this.#faults = [];
    this.#quota = { day: '', used: 0 };
    this.#lastAcceptedAt = undefined;
    this.#byMsgRandom.clear();
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  // ---------------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    if (req.method !== 'POST' || !API_PATHS.has(url.pathname)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const raw = await readBody(req);
    if (raw === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('Payload Too Large');
      return;
    }
    const entry: EmulatorRequest = { path: url.pathname, query: queryWithoutSig(url.searchParams), body: parseOrRaw(raw), response: null };
    this.requests.push(entry);
    const i = this.#faults.findIndex((f) => f.path === '*' || f.path === url.pathname);
    if (i >= 0) {
      const [fault] = this.#faults.splice(i, 1);
      this.#applyFault(fault!.mode, url, raw, entry, res);
      return;
    }
    this.#answer(res, entry, this.#process(url, raw));
  }

  #applyFault(fault: FaultMode, url: URL, raw: string, entry: EmulatorRequest, res: ServerResponse): void {
    const log = (code: number | null) => this.#o.onRequest?.({ path: entry.path, code, fault: fault.kind });
    switch (fault.kind) {
      case 'error':
        if (fault.accept) this.#process(url, raw);
        this.#answer(res, entry, fail(fault.code, fault.info ?? explainError(fault.code).title), fault.kind);
        return;
      case 'http':
        if (fault.accept) this.#process(url, raw);
        entry.response = { httpStatus: fault.status };
        res.writeHead(fault.status, { 'content-type': 'text/html' }).end(`<html><body><h1>${fault.status}</h1></body></html>`);
        log(null);
        return;
      case 'malformed': {
        const text = '{"ActionStatus":"OK","ErrorCode":0,"ErrorIn';
        entry.response = text;
        res.writeHead(200, { 'content-type': 'application/json' }).end(text);
        log(null);
        return;
      }
      case 'delay': {
        // accept:true: the push really goes out now; only the answer is late.
        const reply = fault.accept ? this.#process(url, raw) : fail(60008, 'service timeout');
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#answer(res, entry, reply, fault.kind);
        }, fault.ms);
        this.#timers.add(timer);
        return;
      }
      case 'drop': {
        const reply = fault.accept ? this.#process(url, raw) : undefined;
        entry.response = null;
        const taskId = typeof reply?.TaskId === 'string' ? reply.TaskId : undefined;
        this.#o.onRequest?.({ path: entry.path, code: null, fault: fault.kind, ...(taskId ? { taskId } : {}) });
        res.destroy();
        return;
      }
    }
  }

  #answer(res: ServerResponse, entry: EmulatorRequest, reply: Reply, fault?: FaultMode['kind']): void {
    entry.response = reply;
    const taskId = typeof reply.TaskId === 'string' ? reply.TaskId : undefined;
    this.#o.onRequest?.({ path: entry.path, code: reply.ErrorCode, ...(taskId ? { taskId } : {}), ...(fault ? { fault } : {}) });
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(reply));
  }

  /** Normal handling, in the order a real server applies its checks. */
  #process(url: URL, raw: string): Reply {
    const auth = this.#checkAuth(url.searchParams);
    if (auth) return auth;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      if (url.pathname === GET_APP_INFO_PATH) return fail(130001, 'request JSON parse error');
      return fail(90001, 'JSON parse error: the request body is not valid JSON');
    }
    if (url.pathname === GET_ATTR_NAME_PATH) return ok({ AttrNames: Object.fromEntries(this.#o.attrNames.map((n, i) => [String(i), n])) });
    if (url.pathname === GET_APP_INFO_PATH) return this.#appInfo(body);
    return this.#push(body, queryWithoutSig(url.searchParams));
  }

  /**
   * Operations data in the documented shape: newest day first, every figure a string, Date as
   * YYYYMMDD (Beijing time), ErrorInfo "OK" and no ActionStatus, as in Tencent's sample reply.
   * The latest day is yesterday: a day is counted once it is over.
   */
  #appInfo(body: unknown): Reply {
    const requested = body !== null && typeof body === 'object' ? (body as { RequestField?: unknown }).RequestField : undefined;
    if (requested !== undefined && (!Array.isArray(requested) || !requested.every((f) => typeof f === 'string'))) {
      return fail(130001, 'RequestField must be an array of field names');
    }
    const newPerDay = Math.round(this.#o.registeredUsers / 100);
    const days = Array.from({ length: APP_INFO_DAYS }, (_, i) => {
      const total = Math.max(0, this.#o.registeredUsers - i * newPerDay);
      const all: Record<string, string> = {
        AppId: String(this.#o.sdkAppId),
        AppName: 'tim-broadcast emulator',
        ActiveUserNum: String(Math.round(total * 0.3)),
        RegistUserNumOneDay: String(Math.min(total, newPerDay)),
        RegistUserNumTotal: String(total),
        LoginTimes: String(Math.round(total * 0.4)),
        LoginUserNum: String(Math.round(total * 0.2)),
        MaxOnlineNum: String(Math.round(total * 0.05)),
        Date: this.#statsDayFormat.format(new Date(this.#o.now() - (i + 1) * 86_400_000)).replaceAll('-', ''),
      };
      if (requested === undefined || requested.length === 0) return all;
      // The documented sample for RequestField returns the asked fields plus Date.
      return Object.fromEntries(Object.entries(all).filter(([k]) => k === 'Date' || (requested as string[]).includes(k)));
    });
    return { ErrorCode: 0, ErrorInfo: 'OK', Result: days };
  }

  #checkAuth(q: URLSearchParams): Reply | undefined {
    const sdkappid = q.get('sdkappid');
    if (!sdkappid) return fail(60012, 'SDKAppID is missing from the URL');
    if (!/^\d{1,12}$/.test(sdkappid)) return fail(60006, 'SDKAppID is invalid');
    if (q.get('contenttype') !== 'json') return fail(60002, 'HTTP parse error: contenttype must be json');
    const random = q.get('random');
    if (random === null || !/^\d{1,10}$/.test(random) || Number(random) > MAX_UINT32) {
      return fail(60002, 'HTTP parse error: random must be a 32-bit unsigned integer');
    }
    const identifier = q.get('identifier');
    if (!identifier) return fail(60004, 'identifier is missing from the URL');
    const usersig = q.get('usersig');
    if (!usersig) return fail(70002, 'UserSig is empty');
    if (Number(sdkappid) !== this.#o.sdkAppId) {
      return fail(70016, 'key not found for this SDKAppID; check the SDKAppID and the region (data center) domain');
    }
    const check = verifyUserSig(usersig, {
      sdkAppId: this.#o.sdkAppId,
      secretKey: this.#o.secretKey,
      identifier,
      nowSeconds: Math.floor(this.#o.now() / 1000),
    });
    if (!check.ok) return fail(check.code, check.reason);
    if (identifier !== this.#o.admin) return fail(90009, 'the request requires app admin permission');
    return undefined;
  }

  #push(input: unknown, query: Record<string, string>): Reply {
    const checked = checkPushBody(input);
    if (!checked.ok) {
      const first = checked.violations[0];
      return first ? fail(first.code, first.message) : fail(90010, 'invalid request');
    }
    const body = checked.body;
    const now = this.#o.now();
    // Same MsgRandom within the window = the same task: answer it again, push nothing new.
    const earlier = this.#byMsgRandom.get(body.MsgRandom);
    if (earlier && now - earlier.at < this.#o.dedupWindowMs) return ok({ TaskId: earlier.taskId });
    if (this.#usedToday(now) >= this.#o.dailyQuota) {
      return fail(90047, `the number of pushes exceeds the daily limit (${this.#o.dailyQuota})`);
    }
    if (this.#lastAcceptedAt !== undefined && now - this.#lastAcceptedAt <= this.#o.minIntervalMs) {
      return fail(90024, 'pushes are too frequent; the interval between two pushes must be greater than 1 second');
    }
    const taskId = `${this.#o.sdkAppId}_${this.#taskIdMiddle}_${randomInt(MAX_UINT32 + 1)}_${++this.#taskCounter}`;
    this.pushes.push({ taskId, body, at: now, query });
    this.#byMsgRandom.set(body.MsgRandom, { taskId, at: now });
    this.#lastAcceptedAt = now;
    this.#quota.used++;
    return ok({ TaskId: taskId });
  }

  #dayOf(ms: number): string {
    return this.#dayFormat.format(new Date(ms));
  }

  #usedToday(now: number): number {
    const day = this.#dayOf(now);
    if (this.#quota.day !== day) this.#quota = { day, used: 0 };
    return this.#quota.used;
  }
}

function nonNegative(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number ≥ 0`);
  return n;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function queryWithoutSig(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of q) if (k !== 'usersig') out[k] = v;
  return out;
}

function parseOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
