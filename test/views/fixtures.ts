// Shared fixtures for the view tests.
import type { BroadcastDraft, BroadcastRequest, QuotaStatus } from '../../src/broadcast/types.js';

export const NOW = new Date('2026-11-27T08:30:00.000Z');

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

export function request(over: Partial<Omit<BroadcastRequest, 'draft'>> & { draft?: Partial<BroadcastDraft> } = {}): BroadcastRequest {
  const { draft, ...rest } = over;
  const d: BroadcastDraft = {
    message: 'Maintenance tonight 22:00–23:00.',
    audience: { kind: 'all' },
    lifetimeSeconds: 86400,
    ...draft,
  };
  return {
    id: 'req_01JABCDEF',
    rev: 1,
    state: 'pending',
    requesterId: 'UREQ1',
    createdAt: '2026-11-27T08:00:00.000Z',
    updatedAt: '2026-11-27T08:00:00.000Z',
    draft: d,
    body: {
      MsgRandom: 3141592653,
      MsgLifeTime: d.lifetimeSeconds,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: d.message } }],
      ...(d.audience.kind === 'tags'
        ? { Condition: { TagsAnd: d.audience.all, TagsOr: d.audience.any } }
        : d.audience.kind === 'attributes'
          ? { Condition: { AttrsAnd: d.audience.all, AttrsOr: d.audience.any } }
          : {}),
    },
    payloadHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    approvals: [],
    history: [],
    outbox: [],
    ...rest,
  };
}

/** Every text string in a Block Kit structure (text objects, option texts, labels…). */
export function allTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) allTexts(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
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
