// Will the card and the thread show this push in full? The card shows the message and every
// field the push carries without cutting anything, and the thread holds the exact body, so a
// request too big for one Slack message is refused at the form, on the field that makes it so.

import type { BroadcastDraft, BroadcastRequest } from '../src/broadcast/types.js';
import { buildPushBody } from '../src/broadcast/draft.js';
import type { ImPushBody } from '../src/tim/push-body.js';
import { buildApprovalCard } from './approval-card.js';
import { SLACK_LIMITS, blocksTextLength } from './blocks.js';
import type { ViewContext } from './context.js';
import { REQUEST_FORM, type FormKey } from './request-fields.js';
import { threadEntry } from './thread.js';

export interface FitError {
  field: FormKey;
  message: string;
}

const LONG_ID = 'br-xxxxxxxxxx';
const LONG_USER = 'U0XXXXXXXXXXXXXXXXXX';
const AT = '2099-12-31T23:59:59.000Z';

/** The request as big as it can get on its way through the lifecycle: every approval, a long reason, a long error. */
function largest(draft: BroadcastDraft, body: ImPushBody, ctx: ViewContext): BroadcastRequest[] {
  const n = Math.max(2, ctx.approvers.users.length + ctx.approvers.groups.length);
  const approvals = Array.from({ length: n }, () => ({ userId: LONG_USER, at: AT, version: 'f'.repeat(12) }));
  const long = 'x'.repeat(900);
  const base: BroadcastRequest = {
    id: LONG_ID,
    rev: 1,
    state: 'pending',
    requesterId: LONG_USER,
    createdAt: AT,
    updatedAt: AT,
    draft,
    body: { ...body, MsgRandom: 4294967295 },
    payloadHash: 'f'.repeat(64),
    version: `${'f'.repeat(12)}@4102444799`,
    requiredApprovals: n,
    approvals: [],
    expiresAt: AT,
    history: [{ kind: 'submitted', at: AT, from: null, to: 'pending', by: LONG_USER, version: `${'f'.repeat(12)}@4102444799`, otherId: LONG_ID }],
    outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } },
    dedupKey: 'x',
    againOf: LONG_ID,
    duplicateOf: { id: LONG_ID, sentAt: AT, taskId: 'x'.repeat(60), card: { channel: 'C0X', ts: '1.1', permalink: `https://example.slack.com/archives/C0X/p${'1'.repeat(20)}` } },
  };
  const explanation = { code: 90045, title: 'x'.repeat(200), what: long, action: long, retry: 'no' as const };
  return [
    { ...base, approvals: approvals.slice(0, n - 1) },
    { ...base, state: 'failed', approvals, result: { kind: 'failed', code: 90045, info: 'x'.repeat(500), explanation, attempts: 1, at: AT } },
    { ...base, state: 'unknown', approvals, result: { kind: 'unknown', reason: 'x'.repeat(300), explanation, attempts: 1, at: AT } },
    { ...base, state: 'rejected', decision: { by: LONG_USER, at: AT, reason: 'x'.repeat(1000) } },
  ];
}

/** How far over Slack's message budget the biggest card or thread entry of this push would be (0: it fits). */
export function overBudget(draft: BroadcastDraft, body: ImPushBody, ctx: ViewContext): number {
  let over = 0;
  for (const r of largest(draft, body, ctx)) {
    const card = buildApprovalCard(r, ctx);
    const messages = [card.blocks, threadEntry(r, 0, ctx).blocks];
    for (const blocks of messages) {
      over = Math.max(over, blocksTextLength(blocks) - SLACK_LIMITS.messageTextBudget);
      if (blocks.length > SLACK_LIMITS.messageBlocks) over = Math.max(over, 1);
    }
  }
  return over;
}

/** The text of the fields a person can shorten, and how to put a shorter one back. */
function shortenable(draft: BroadcastDraft): Array<{ field: FormKey; value: string; put: (v: string) => BroadcastDraft }> {
  const p = draft.offlinePush ?? {};
  const push = (k: 'title' | 'desc' | 'ext' | 'apnsSound' | 'androidSound' | 'apnsImage') => (v: string) => ({ ...draft, offlinePush: { ...p, [k]: v } });
  const list: Array<{ field: FormKey; value: string | undefined; put: (v: string) => BroadcastDraft }> = [
    { field: 'message', value: draft.message, put: (v) => ({ ...draft, message: v }) },
    { field: 'note', value: draft.note, put: (v) => ({ ...draft, note: v }) },
    { field: 'pushDesc', value: p.desc, put: push('desc') },
    { field: 'pushExt', value: p.ext, put: push('ext') },
    { field: 'pushTitle', value: p.title, put: push('title') },
    { field: 'apnsImage', value: p.apnsImage, put: push('apnsImage') },
    { field: 'apnsSound', value: p.apnsSound, put: push('apnsSound') },
    { field: 'androidSound', value: p.androidSound, put: push('androidSound') },
    { field: 'sender', value: draft.sender, put: (v) => ({ ...draft, sender: v }) },
  ];
  return list
    .filter((x): x is { field: FormKey; value: string; put: (v: string) => BroadcastDraft } => Boolean(x.value))
    .sort((a, b) => [...b.value].length - [...a.value].length || REQUEST_FORM.findIndex((f) => f.key === a.field) - REQUEST_FORM.findIndex((f) => f.key === b.field));
}

/**
 * Errors for the form when the card or the thread of this push could not show it in full: on the
 * longest field, asking for the fewest characters fewer that make it fit (measured, since one
 * character can take up to six in the body's JSON); on the next ones too when that is not enough.
 */
export function fitErrors(draft: BroadcastDraft, body: ImPushBody, ctx: ViewContext): FitError[] {
  if (overBudget(draft, body, ctx) <= 0) return [];
  const errors: FitError[] = [];
  let current = draft;
  const over = (d: BroadcastDraft) => overBudget(d, buildPushBody(d, body.MsgRandom), ctx);
  for (const { field } of shortenable(draft)) {
    const entry = shortenable(current).find((x) => x.field === field)!;
    const chars = [...entry.value];
    const shorten = (by: number) => entry.put(chars.slice(0, chars.length - by).join(''));
    // The fewest characters fewer that fit: over() only falls as the field gets shorter.
    let lo = 1;
    let hi = chars.length - 1;
    if (hi < 1 || over(shorten(hi)) > 0) {
      hi = Math.max(1, chars.length - 1);
      errors.push({ field, message: message(hi) });
      current = shorten(hi);
      continue;
    }
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (over(shorten(mid)) > 0) lo = mid + 1;
      else hi = mid;
    }
    errors.push({ field, message: message(lo) });
    return errors;
  }
  return errors;
}

function message(cut: number): string {
  return `Too long for the approval card, which must show the whole push in one Slack message: shorten this by at least ${cut} character${cut === 1 ? '' : 's'}.`;
}
