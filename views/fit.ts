// Will the card and the thread show this push in full? The card shows the message and every
// field the push carries without cutting anything, and the thread holds the exact body, so a
// request too big for one Slack message is refused at the form, on the field that makes it so.

import type { BroadcastDraft, BroadcastRequest } from '../src/broadcast/types.js';
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

/** The fields a person can shorten, with their length in the draft. */
function contributions(draft: BroadcastDraft): Array<{ field: FormKey; size: number }> {
  const p = draft.offlinePush ?? {};
  const a = draft.audience;
  const audience = (all: unknown, any: unknown) => [JSON.stringify(all ?? '').length, JSON.stringify(any ?? '').length];
  const [all, any] = a.kind === 'all' ? [0, 0] : audience(a.all, a.any);
  const sizes: Partial<Record<FormKey, number>> = {
    message: draft.message.length,
    note: draft.note?.length ?? 0,
    pushTitle: p.title?.length ?? 0,
    pushDesc: p.desc?.length ?? 0,
    pushExt: p.ext?.length ?? 0,
    apnsSound: p.apnsSound?.length ?? 0,
    androidSound: p.androidSound?.length ?? 0,
    apnsImage: p.apnsImage?.length ?? 0,
    sender: draft.sender?.length ?? 0,
    [a.kind === 'attributes' ? 'attrsAll' : 'tagsAll']: all,
    [a.kind === 'attributes' ? 'attrsAny' : 'tagsAny']: any,
  };
  return REQUEST_FORM.map((f) => ({ field: f.key, size: sizes[f.key] ?? 0 }))
    .filter((x) => x.size > 0)
    .sort((x, y) => y.size - x.size);
}

/**
 * Errors for the form when the card or the thread of this push could not show it in full: on the
 * longest fields, each asked to shrink by its share of what is too much.
 */
export function fitErrors(draft: BroadcastDraft, body: ImPushBody, ctx: ViewContext): FitError[] {
  let over = overBudget(draft, body, ctx);
  if (over <= 0) return [];
  const errors: FitError[] = [];
  for (const { field, size } of contributions(draft)) {
    // Shown twice at most (the card and the body's JSON), so one character less saves at least one.
    const cut = Math.min(size, over);
    errors.push({
      field,
      message: `Too long for the approval card, which must show the whole push in one Slack message: shorten this by at least ${cut} character${cut === 1 ? '' : 's'}.`,
    });
    over -= cut;
    if (over <= 0) break;
  }
  return errors;
}
