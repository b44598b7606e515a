// Requests of the domain's own type for the view tests, built with the domain's own functions
// (body, sha256, payload version), in every state with the details that state carries.
import { buildPushBody, duplicateKey, payloadHash, payloadVersion } from '../../src/broadcast/draft.js';
import type { BroadcastDraft, BroadcastRequest, EventKind, Explanation, HistoryEntry, QuotaStatus, RequestState } from '../../src/broadcast/types.js';
import type { ViewContext } from '../../views/context.js';

export const NOW = new Date('2026-11-27T08:30:00.000Z');
export const REQUESTER = 'U0REQ1';
export const APPROVER = 'U0APP1';
export const APPROVER_2 = 'U0APP2';
export const GROUP = 'S0APPROVERS';
export const OTHER = 'U0OTHER1';
export const TASK_ID = '1400123456_144115212910570789_4155518400_15723514';
export const PERMALINK = 'https://team.slack.com/archives/C0APPROVALS/p1764230400000100';

export function quota(over: Partial<QuotaStatus> = {}): QuotaStatus {
  return {
    day: '2026-11-27',
    used: 12,
    limit: 100,
    exhausted: false,
    timezone: 'Asia/Shanghai',
    resetsAt: '2026-11-27T16:00:00.000Z',
    ...over,
  };
}

export function ctx(over: Partial<ViewContext> = {}): ViewContext {
  return {
    now: NOW,
    sandbox: false,
    approvalChannel: 'C0APPROVALS',
    approvers: { users: [APPROVER, APPROVER_2], groups: [GROUP] },
    quota: quota(),
    audienceSize: { count: 12345, date: '2026-11-26' },
    links: {},
    ...over,
  };
}

export const DRAFT: BroadcastDraft = {
  message: 'Server maintenance tonight 22:00–23:00. *Save* your work <!channel> & log out_now_.',
  audience: { kind: 'all' },
  lifetimeSeconds: 86400,
};

export const explanation: Explanation = {
  code: 90045,
  title: 'All-member push is not enabled',
  what: 'All-member push is not turned on for SDKAppID 1400000000. Tencent said: “all member push not open”.',
  action: 'Turn it on in the Tencent Cloud IM console (Feature Configuration > All-member push; Ultimate edition), then use “Request again”.',
  retry: 'no',
};

const at = (minutes: number) => new Date(Date.parse('2026-11-27T08:00:00.000Z') + minutes * 60_000).toISOString();

/** A pending request for `draft`, as the domain would store it right after submission. */
export function request(over: Partial<Omit<BroadcastRequest, 'draft'>> & { draft?: Partial<BroadcastDraft> } = {}): BroadcastRequest {
  const { draft, ...rest } = over;
  const d: BroadcastDraft = { ...DRAFT, ...draft };
  const body = buildPushBody(d, 3141592653);
  const hash = payloadHash(body);
  const version = payloadVersion(hash, d.sendAt);
  return {
    id: 'br-abcdefghjk',
    rev: 1,
    state: 'pending',
    requesterId: REQUESTER,
    createdAt: at(0),
    updatedAt: at(0),
    draft: d,
    body,
    payloadHash: hash,
    version,
    requiredApprovals: 1,
    approvals: [],
    expiresAt: at(24 * 60),
    history: [{ kind: 'submitted', at: at(0), from: null, to: 'pending', by: REQUESTER, version }],
    outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } },
    dedupKey: duplicateKey(d),
    card: { channel: 'C0APPROVALS', ts: '1764230400.000100', permalink: PERMALINK },
    ...rest,
  };
}

function event(r: BroadcastRequest, kind: EventKind, minutes: number, to: RequestState, more: Partial<HistoryEntry> = {}): HistoryEntry {
  return { kind, at: at(minutes), from: r.state, to, ...more };
}

/** The request after the events that lead to `state`, with the record each state carries. */
export function inState(state: RequestState, base: BroadcastRequest = request()): BroadcastRequest {
  const r = base;
  const approval = { userId: APPROVER, at: at(19), version: r.version };
  const approved = event(r, 'approved', 19, 'approved', { by: APPROVER, version: r.version, count: 1, required: 1 });
  const sending = { ...r, approvals: [approval], sendingAt: at(20), quotaDay: '2026-11-27' };
  switch (state) {
    case 'pending':
      return r;
    case 'approved':
      return { ...sending, state, history: [...r.history, approved] };
    case 'sending':
      return { ...sending, state, history: [...r.history, approved, { kind: 'sending', at: at(20), from: 'approved', to: 'sending' }] };
    case 'scheduled': {
      const sendAt = '2026-11-28T01:00:00.000Z';
      const s = request({ ...over(r), draft: { ...r.draft, sendAt } });
      return {
        ...s,
        state,
        approvals: [{ ...approval, version: s.version }],
        scheduledFor: sendAt,
        holdReason: 'send_at',
        history: [...s.history, { kind: 'scheduled', at: at(19), from: 'pending', to: 'scheduled', by: APPROVER, version: s.version, count: 1, required: 1 }],
      };
    }
    case 'sent':
      return {
        ...sending,
        state,
        result: { kind: 'sent', taskId: TASK_ID, attempts: 1, at: at(20) },
        history: [...r.history, approved, { kind: 'sent', at: at(20), from: 'sending', to: 'sent', taskId: TASK_ID }],
      };
    case 'failed':
      return {
        ...sending,
        state,
        result: { kind: 'failed', code: 90045, info: 'all member push not open', explanation, attempts: 1, at: at(20) },
        history: [...r.history, approved, { kind: 'failed', at: at(20), from: 'sending', to: 'failed', code: 90045 }],
      };
    case 'unknown':
      return {
        ...sending,
        state,
        result: {
          kind: 'unknown',
          reason: 'no answer within 3.5 s after the request was sent',
          explanation: { code: null, title: 'Outcome unknown', what: 'The request may have reached Tencent but no answer came back.', action: 'Check the push records of SDKAppID 1400000000 in the Tencent Cloud IM console.', retry: 'no' },
          attempts: 1,
          at: at(21),
        },
        history: [...r.history, approved, { kind: 'unknown', at: at(21), from: 'sending', to: 'unknown' }],
      };
    case 'not_sent': {
      const u = inState('unknown', r);
      return {
        ...u,
        state,
        resolution: { kind: 'not_sent', by: APPROVER_2, at: at(30) },
        history: [...u.history, { kind: 'marked_not_sent', at: at(30), from: 'unknown', to: 'not_sent', by: APPROVER_2 }],
      };
    }
    case 'rejected':
      return {
        ...r,
        state,
        decision: { by: APPROVER_2, at: at(25), reason: 'Wrong date: it is *tomorrow* <!here>, not tonight.' },
        history: [...r.history, { kind: 'rejected', at: at(25), from: 'pending', to: 'rejected', by: APPROVER_2, note: 'Wrong date: it is *tomorrow* <!here>, not tonight.' }],
      };
    case 'expired':
      return { ...r, state, decision: { by: 'system', at: at(24 * 60) }, history: [...r.history, { kind: 'expired', at: at(24 * 60), from: 'pending', to: 'expired' }] };
    case 'cancelled':
      return { ...r, state, decision: { by: REQUESTER, at: at(10) }, history: [...r.history, { kind: 'cancelled', at: at(10), from: 'pending', to: 'cancelled', by: REQUESTER }] };
  }
}

/** The request fields to carry over when a fixture is rebuilt for another draft. */
function over(r: BroadcastRequest): Partial<BroadcastRequest> {
  const { draft: _d, body: _b, payloadHash: _h, version: _v, history: _hi, dedupKey: _k, ...rest } = r;
  return rest;
}

/** Every text string in a Block Kit structure (text objects, rich text, option texts, labels…). */
export function allTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) allTexts(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text' || o.type === 'text') && typeof o.text === 'string') out.push(o.text);
    for (const v of Object.values(o)) allTexts(v, out);
  }
  return out;
}

/** Only mrkdwn texts (where escaping matters). */
export function mrkdwnTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) mrkdwnTexts(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
    for (const v of Object.values(o)) mrkdwnTexts(v, out);
  }
  return out;
}

/** The texts of plain_text sections and rich text: what a person typed, shown literally. */
export function literalTexts(node: unknown): string[] {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'section' && (o.text as { type?: string } | undefined)?.type === 'plain_text') out.push((o.text as { text: string }).text);
    if (o.type === 'text' && typeof o.text === 'string') out.push(o.text);
    Object.values(o).forEach(walk);
  };
  walk(node);
  return out;
}

export const ALL_STATES: readonly RequestState[] = ['pending', 'approved', 'scheduled', 'sending', 'sent', 'failed', 'rejected', 'expired', 'cancelled', 'unknown', 'not_sent'];
