// The approval card posted in the approvals channel: what will be sent, to whom, when, who has
// approved, and the outcome. It is re-rendered at every event, so it always tells the truth; its
// message metadata makes the channel history a machine-readable audit trail.
//
// Layout, top to bottom: header (state · audience · first words), sandbox banner, who asked and
// when, the message in plain text and in full, the notification preview, every notification field
// the push carries, the facts (audience, size, storage, sender, send time, approvals), warnings,
// the approvers' note, the live quota, the outcome, the buttons, and one line of technical details.
// A decided card keeps who, what, when and the outcome, and drops everything about the future.

import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { formatQuietHours, inQuietHours } from '../src/broadcast/time.js';
import type { BroadcastRequest, RequestState } from '../src/broadcast/types.js';
import type { ImPushBody } from '../src/tim/push-body.js';
import {
  SLACK_LIMITS,
  button,
  confirmDialog,
  context,
  labelled,
  plainChunks as chunks,
  plainSection,
  sandboxBlock,
  section,
  type SlackMessage,
} from './blocks.js';
import { ACTIONS, SANDBOX_BANNER, buttonValue, type ViewContext } from './context.js';
import {
  STATE_WORDS,
  audienceShort,
  charCount,
  code,
  describeAudience,
  errorCode,
  escapeAndTruncate,
  escapeMrkdwn,
  formatLifetime,
  formatQuota,
  groupMention,
  link,
  mention,
  quotaExhausted,
  resetClock,
  slackDate,
  stateLabel,
  truncate,
  utcWords,
  whatHappened,
  formatCount,
} from './format.js';
import { notificationPreview, previewContext, sourceOfBody } from './notification-preview.js';
import { REQUEST_FORM } from './request-fields.js';

export type { SlackMessage } from './blocks.js';

export const APPROVE_ACTION_ID = ACTIONS.approve;
export const REJECT_ACTION_ID = ACTIONS.reject;
export const DECISION_BLOCK_ID = 'decision';
export const CARD_EVENT_TYPE = 'broadcast_request';

export interface CardMessage extends SlackMessage {
  metadata: { event_type: string; event_payload: Record<string, string | number | boolean> };
}

/** True when this request, as it would be pushed, reaches every user (no Condition). */
export function reachesEveryone(req: Pick<BroadcastRequest, 'body'>): boolean {
  return req.body.Condition === undefined;
}

/** The message's first words, for headers and fallbacks: one line, plain, "…" when there is more. */
export function firstWords(message: string, max = 60): string {
  return truncate(message.replace(/\s+/g, ' ').trim(), max);
}

/** User text in plain_text sections, in full, split at Slack's 3000-character section limit. */
export function plainChunks(text: string, max: number = SLACK_LIMITS.sectionText): string[] {
  return chunks(text, max);
}

/** Decided (sent, failed, rejected, expired, cancelled, unknown, did not go out): the card keeps the record, not the future. */
export function isDecided(state: RequestState): boolean {
  return !['pending', 'scheduled', 'approved', 'sending'].includes(state);
}

/** While these, the card talks about what happens next (buttons, quota, warnings). */
function isOpen(state: RequestState): boolean {
  return state === 'pending' || state === 'scheduled';
}

/** The approvers as mentions, so the first post notifies them. */
export function approverMentions(ctx: Pick<ViewContext, 'approvers'>): string {
  return [...ctx.approvers.users.map((u) => mention(u)), ...ctx.approvers.groups.map(groupMention)].join(' ');
}

function audienceWord(req: BroadcastRequest): string {
  if (reachesEveryone(req)) return 'Everyone';
  return req.draft.audience.kind === 'tags' ? 'Users with tags' : 'Users with attributes';
}

/** "Pending approval ⏳ · Everyone · “Server maintenance tonight…”": what the channel list shows. */
function headerText(req: BroadcastRequest): string {
  const head = `${stateLabel(req.state)} · ${audienceWord(req)} · `;
  return `${head}“${firstWords(req.draft.message, SLACK_LIMITS.header - head.length - 2)}”`;
}

function approvedBy(req: BroadcastRequest): string {
  return req.approvals.length ? req.approvals.map((a) => mention(a.userId)).join(', ') : 'an approver';
}

function taskIdOf(req: BroadcastRequest): string | undefined {
  return req.result?.kind === 'sent' ? req.result.taskId : req.resolution?.taskId;
}

function lastEvent(req: BroadcastRequest, kinds: readonly string[]) {
  for (let i = req.history.length - 1; i >= 0; i--) if (kinds.includes(req.history[i]!.kind)) return req.history[i];
  return undefined;
}

/** A value of the body at `path` ("0" indexes arrays). */
function at(body: ImPushBody, path: readonly string[]): unknown {
  let v: unknown = body;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/**
 * Every notification field the push carries, with the label of its form field, in full. Fields
 * the form does not offer (should a body carry them) are listed by their Tencent name, so the card
 * never hides part of what is approved.
 */
export function notificationRows(body: ImPushBody): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const shown = new Set<string>();
  for (const f of REQUEST_FORM) {
    if (f.section !== 'notification' || !f.body) continue;
    shown.add(f.body.join('.'));
    const v = at(body, f.body);
    if (v === undefined || v === '') continue;
    if (f.key === 'badgeMode') {
      if (v === 1) rows.push([f.label, 'not increased']);
      continue;
    }
    rows.push([f.label, String(v)]);
  }
  const walk = (v: unknown, path: string[]) => {
    if (v === undefined) return;
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else if (!shown.has(path.join('.')) && !(path.join('.') === 'OfflinePushInfo.PushFlag' && v === 0)) rows.push([path.join('.'), String(v)]);
  };
  walk(body.OfflinePushInfo, ['OfflinePushInfo']);
  return rows;
}

function audienceSizeLine(req: BroadcastRequest, ctx: ViewContext): string {
  if (!reachesEveryone(req)) return '*Audience size:* Tencent offers no count of the users with these tags or attributes.';
  const size = ctx.audienceSize;
  if (size && size !== 'unknown') return `*Audience size:* up to ${formatCount(size.count)} registered users (Tencent’s count for ${escapeMrkdwn(size.date)})`;
  return '*Audience size:* every registered user; Tencent did not say how many right now.';
}

function factLines(req: BroadcastRequest, ctx: ViewContext): string[] {
  const d = req.draft;
  const open = isOpen(req.state);
  const lines = [`*Audience:* ${describeAudience(d.audience)}`];
  if (open) lines.push(audienceSizeLine(req, ctx));
  lines.push(`*Stored for offline users:* ${formatLifetime(req.body.MsgLifeTime ?? 0)}`);
  lines.push(`*Sender account:* ${req.body.From_Account ? code(req.body.From_Account) : 'the app admin'}`);
  if (d.sendAt) lines.push(`*Send time:* ${slackDate(d.sendAt)} (scheduled; the approval covers this time)`);
  if (req.approvals.length) {
    const who = req.approvals.map((a) => `${mention(a.userId)} ${slackDate(a.at)}`).join(', ');
    lines.push(`*Approvals:* ${req.approvals.length} of ${req.requiredApprovals} — ${who}`);
  } else if (req.state === 'pending') {
    lines.push(`*Approvals:* 0 of ${req.requiredApprovals} (an approver other than the requester)`);
  }
  return lines;
}

function inQuiet(ctx: ViewContext): boolean {
  return inQuietHours(ctx.now, ctx.quota.timezone, ctx.quietHours);
}

/** What happened to the request: who, what, when and the outcome (mrkdwn lines). */
export function outcomeLines(req: BroadcastRequest, ctx: ViewContext): string[] {
  const r = req.result;
  const label = `*${stateLabel(req.state)}*`;
  switch (req.state) {
    case 'pending': {
      const lines: string[] = [];
      const back = lastEvent(req, ['handed_back', 'late', 'edited']);
      if (back?.kind === 'handed_back' && req.history.at(-1) === back) {
        lines.push(`An earlier approval did not go through ${slackDate(back.at)} (${escapeMrkdwn(back.note ?? 'interrupted')}); nothing was pushed, and it needs approval again.`);
      }
      if (back?.kind === 'late') {
        lines.push(`Its send time passed by ${escapeMrkdwn(back.note ?? '?')} s while the app was down, so it was not pushed. It needs approval again; the requester can edit the time.`);
      }
      if (back?.kind === 'edited') lines.push(`Edited by ${mention(back.by)} ${slackDate(back.at)}; approvals given before that no longer count.`);
      lines.unshift(`${label} — waiting since ${slackDate(req.createdAt)}; it expires ${slackDate(req.expiresAt)} if nobody decides.`);
      return lines;
    }
    case 'scheduled':
      return req.holdReason === 'quiet_hours'
        ? [`${label} — approved by ${approvedBy(req)}, held for the quiet hours${ctx.quietHours ? ` (${formatQuietHours(ctx.quietHours)} ${escapeMrkdwn(ctx.quota.timezone)})` : ''}: it will be pushed ${slackDate(req.scheduledFor)}, when they end.`]
        : [`${label} — approved by ${approvedBy(req)}; it will be pushed ${slackDate(req.scheduledFor)}. It can be cancelled until then.`];
    case 'approved':
    case 'sending':
      return [`${label} — approved by ${approvedBy(req)}; the push is being sent to Tencent now.`];
    case 'sent': {
      const taskId = taskIdOf(req);
      const lines = [`${label} ${slackDate(r?.kind === 'sent' ? r.at : req.resolution?.at)} — TaskId ${taskId ? code(taskId) : 'not recorded'}. Approved by ${approvedBy(req)}.`];
      if (req.resolution?.kind === 'sent') lines.push(`The outcome was unknown; ${mention(req.resolution.by)} checked the Tencent console and marked it as sent ${slackDate(req.resolution.at)}.`);
      return lines;
    }
    case 'failed': {
      if (r?.kind !== 'failed') return [`${label} — nothing was pushed (no error details were recorded).`];
      return [
        `${label} ${slackDate(r.at)} — ${errorCode(r.code)}: ${escapeAndTruncate(r.explanation.title, 200)}. Nothing was pushed.`,
        ...whatHappened(r.explanation, r.info),
        'What to do is in the thread below.',
      ];
    }
    case 'unknown': {
      const lines = [`${label} ${slackDate(r?.at ?? req.updatedAt)} — the push *may* have gone out.`];
      if (r?.kind === 'unknown') lines.push(`*Why:* ${escapeAndTruncate(r.reason, 300)}`);
      lines.push('An approver settles it with the buttons below after checking the Tencent Cloud IM console (how: in the thread). The app never pushes it again by itself.');
      return lines;
    }
    case 'not_sent':
      return [`${label} — the outcome was unknown; ${mention(req.resolution?.by)} checked the Tencent console and marked it as not sent ${slackDate(req.resolution?.at)}. Nothing was pushed.`];
    case 'rejected':
      return [`${label} by ${mention(req.decision?.by)} ${slackDate(req.decision?.at)}. Nothing was pushed.`];
    case 'expired':
      return [`${label} ${slackDate(req.decision?.at ?? req.updatedAt)} — nobody approved it in time. Nothing was pushed.`];
    case 'cancelled':
      return [`${label} by ${mention(req.decision?.by)} ${slackDate(req.decision?.at)}. Nothing was pushed.`];
  }
}

function actionsFor(req: BroadcastRequest, ctx: ViewContext): Button[] {
  const to = reachesEveryone(req) ? 'to everyone' : `to ${audienceShort(req.draft.audience)}`;
  const value = buttonValue(req);
  const b = (actionId: string, text: string, label: string, more: { style?: 'primary' | 'danger'; confirm?: Button['confirm'] } = {}) =>
    button({ actionId, text, value, label, ...more });
  const size = ctx.audienceSize && ctx.audienceSize !== 'unknown' ? ` (up to ${formatCount(ctx.audienceSize.count)} registered users)` : '';
  const whom = reachesEveryone(req) ? `every user of the app${size}` : audienceShort(req.draft.audience);
  const when = req.draft.sendAt ? `at ${utcWords(Date.parse(req.draft.sendAt))}` : 'now';
  const approveConfirm = confirmDialog(
    reachesEveryone(req) ? 'Push to everyone?' : 'Send this push?',
    `This sends the message to ${whom} ${when}. A push cannot be recalled.`,
    req.draft.sendAt ? 'Approve' : 'Approve and push',
  );
  switch (req.state) {
    case 'pending': {
      const buttons: Button[] = [];
      if (!(quotaExhausted(ctx.quota) && !req.draft.sendAt)) {
        if (inQuiet(ctx) && !req.draft.sendAt) {
          const hours = ctx.quietHours ? formatQuietHours(ctx.quietHours) : '';
          buttons.push(
            b(ACTIONS.approve, 'Approve (hold)', `Approve broadcast ${req.id} ${to}, held until the quiet hours end`, {
              style: 'primary',
              confirm: confirmDialog('Approve and hold?', `It is quiet hours (${hours}). The push waits until they end, then goes to ${whom}. It cannot be recalled.`, 'Approve and hold'),
            }),
            b(ACTIONS.approveNow, 'Approve, send now', `Approve broadcast ${req.id} ${to} and send it now, in quiet hours`, {
              confirm: confirmDialog('Send now anyway?', `It is quiet hours (${hours}). This sends the push to ${whom} right now instead of holding it. It cannot be recalled.`, 'Send now anyway'),
            }),
          );
        } else {
          buttons.push(b(ACTIONS.approve, 'Approve', `Approve broadcast ${req.id} ${to}`, { style: 'primary', confirm: approveConfirm }));
        }
      }
      buttons.push(b(ACTIONS.reject, 'Reject', `Reject broadcast ${req.id}`, { style: 'danger' }));
      buttons.push(b(ACTIONS.edit, 'Edit', `Edit broadcast ${req.id} (requester only)`));
      buttons.push(
        b(ACTIONS.cancel, 'Cancel request', `Cancel broadcast request ${req.id} (requester only)`, {
          confirm: confirmDialog('Cancel this request?', 'Nothing will be pushed. You can ask again later.', 'Cancel request', 'Keep it'),
        }),
      );
      return buttons;
    }
    case 'scheduled': {
      const buttons: Button[] = [];
      if (req.holdReason === 'quiet_hours') {
        buttons.push(
          b(ACTIONS.approveNow, 'Send now anyway', `Send broadcast ${req.id} now, in quiet hours (approvers)`, {
            confirm: confirmDialog('Send now anyway?', `This sends the push to ${whom} right now instead of waiting for the quiet hours to end. It cannot be recalled.`, 'Send now anyway'),
          }),
        );
      }
      buttons.push(b(ACTIONS.edit, 'Edit', `Edit scheduled broadcast ${req.id} (requester only; approvals reset)`));
      buttons.push(
        b(ACTIONS.cancel, 'Cancel push', `Cancel scheduled broadcast ${req.id} (requester or approvers)`, {
          style: 'danger',
          confirm: confirmDialog('Cancel this scheduled push?', 'Nothing will be pushed.', 'Cancel push', 'Keep it'),
        }),
      );
      return buttons;
    }
    case 'unknown':
      return [
        b(ACTIONS.markSent, 'It went out', `Mark broadcast ${req.id} as sent (approvers)`),
        b(ACTIONS.markNotSent, 'It did not go out', `Mark broadcast ${req.id} as not sent (approvers)`, {
          confirm: confirmDialog('Mark as not sent?', 'Only if the Tencent Cloud IM console shows no push at that time. The requester may then ask again.', 'It did not go out', 'Back'),
        }),
      ];
    case 'rejected':
    case 'failed':
    case 'expired':
    case 'cancelled':
    case 'not_sent':
      return [b(ACTIONS.requestAgain, 'Request again', `Request broadcast ${req.id} again (requester only)`)];
    default:
      return [];
  }
}

/** Scalars only, never a secret: what an auditor reads from conversations.history with include_all_metadata. */
export function cardMetadata(req: BroadcastRequest, ctx?: Pick<ViewContext, 'sandbox'>): CardMessage['metadata'] {
  const p: Record<string, string | number | boolean> = {
    request_id: req.id,
    state: req.state,
    requester: req.requesterId,
    audience_kind: reachesEveryone(req) ? 'all' : req.draft.audience.kind,
    payload_sha256: req.payloadHash,
    payload_version: req.version,
    msg_random: req.body.MsgRandom,
    approvers: req.approvals.map((a) => a.userId).join(','),
    approvals_required: req.requiredApprovals,
    created_at: req.createdAt,
    updated_at: req.updatedAt,
    expires_at: req.expiresAt,
  };
  if (ctx?.sandbox) p.sandbox = true;
  if (req.draft.sendAt) p.send_at = req.draft.sendAt;
  if (req.scheduledFor) p.scheduled_for = req.scheduledFor;
  if (req.sendingAt) p.sending_at = req.sendingAt;
  if (req.result) p.result_at = req.result.at;
  const taskId = taskIdOf(req);
  if (taskId) p.task_id = taskId;
  if (req.result?.kind === 'failed' && req.result.code !== null) p.error_code = req.result.code;
  if (req.decision) {
    p.decided_by = req.decision.by;
    p.decided_at = req.decision.at;
  }
  if (req.resolution) {
    p.resolved_as = req.resolution.kind;
    p.resolved_by = req.resolution.by;
    p.resolved_at = req.resolution.at;
  }
  if (req.againOf) p.asked_again_from = req.againOf;
  return { event_type: CARD_EVENT_TYPE, event_payload: p };
}

export function buildApprovalCard(req: BroadcastRequest, ctx: ViewContext): CardMessage {
  const d = req.draft;
  const open = isOpen(req.state);
  const blocks: KnownBlock[] = [];

  blocks.push({ type: 'header', text: { type: 'plain_text', text: headerText(req), emoji: false } });
  if (ctx.sandbox) blocks.push(sandboxBlock());
  const everyone = reachesEveryone(req) && open ? '\n⚠️ *This goes to every user of the app.* A push cannot be recalled.' : '';
  blocks.push(section(`Requested by ${mention(req.requesterId)} ${slackDate(req.createdAt)}.${everyone}`));

  // The message as users will read it: plain text, in full (the exact body is in the thread).
  blocks.push(section(open ? `*Message*, exactly as users will read it (${charCount(d.message)} characters):` : `*Message*, exactly as submitted (${charCount(d.message)} characters):`));
  for (const chunk of plainChunks(d.message)) blocks.push(plainSection(chunk));
  if (open) blocks.push(previewContext(notificationPreview(sourceOfBody(req.body))));
  const rows = notificationRows(req.body);
  if (rows.length) blocks.push(section('*Notification fields*, exactly as pushed:'), labelled(rows));

  blocks.push(section(factLines(req, ctx).join('\n')));

  if (req.duplicateOf && open) {
    const dup = req.duplicateOf;
    const where = link(ctx.links?.[dup.id] ?? dup.card?.permalink, 'its card');
    blocks.push(
      section(`⚠️ *The same message was already pushed to this audience* ${slackDate(dup.sentAt)} (request ${code(dup.id)}, ${where}${dup.taskId ? `, TaskId ${code(dup.taskId)}` : ''}). Approve only if it should go out again.`),
    );
  }
  if (req.againOf) blocks.push(context(`Asked again from request ${code(req.againOf)} (${link(ctx.links?.[req.againOf], 'its card')}).`));
  if (req.againAs?.length) blocks.push(context(`Asked again as ${req.againAs.map((id) => `${code(id)} (${link(ctx.links?.[id], 'its card')})`).join(', ')}.`));
  if (d.note) blocks.push(labelled([['Note for the approvers (not sent)', d.note]]));

  if (req.state === 'pending') {
    const q = ctx.quota;
    blocks.push(
      context(
        quotaExhausted(q) && !d.sendAt
          ? `🚫 *It cannot be approved until the quota resets* at ${resetClock(q)} ${escapeMrkdwn(q.timezone)}: ${formatQuota(q)}.`
          : `Quota: ${formatQuota(q)}.`,
      ),
    );
  }

  blocks.push({ type: 'divider' });
  blocks.push(section(outcomeLines(req, ctx).join('\n')));
  if (req.state === 'rejected') blocks.push(labelled([['Reason', req.decision?.reason ?? '(no reason given)']]));

  const buttons = actionsFor(req, ctx);
  if (buttons.length) blocks.push({ type: 'actions', block_id: DECISION_BLOCK_ID, elements: buttons } as ActionsBlock);

  blocks.push(context(`Request ${code(req.id)} · payload version ${code(req.version)} · MsgRandom ${code(String(req.body.MsgRandom))}`));

  return { text: cardFallbackText(req, '', ctx), blocks, metadata: cardMetadata(req, ctx) };
}

/**
 * The notification text of the card: the state, audience, requester and first words, plain
 * (no markup but mentions, user text escaped). The first post passes the approvers' mentions.
 */
export function cardFallbackText(req: BroadcastRequest, mentions = '', ctx?: Pick<ViewContext, 'sandbox'>): string {
  const to = reachesEveryone(req) ? 'everyone' : audienceShort(req.draft.audience);
  const lead = mentions ? `${mentions}: a broadcast needs your approval. ` : '';
  const taskId = taskIdOf(req);
  const outcome = req.state === 'sent' && taskId ? ` TaskId ${escapeMrkdwn(taskId)}.` : '';
  const sandbox = ctx?.sandbox ? ` (${SANDBOX_BANNER})` : '';
  return `${lead}${STATE_WORDS[req.state]}: broadcast to ${to} from ${mention(req.requesterId)}: “${escapeMrkdwn(firstWords(req.draft.message, 80))}”.${outcome}${sandbox}`;
}
