// The approval card posted in the approvals channel: what will be sent, to whom, when, who has
// approved, and the outcome. It is re-rendered at every event, so it always shows the truth; its
// message metadata makes the channel history a machine-readable audit trail.

import type { ActionsBlock, Button, KnownBlock, MrkdwnElement, PlainTextElement } from '@slack/types';
import type { BroadcastRequest, OfflinePushDraft, RequestState } from '../src/broadcast/types.js';
import { ACTIONS, SANDBOX_BANNER, buttonValue, type ViewContext } from './context.js';
import {
  STATE_WORDS,
  audienceShort,
  code,
  describeAudience,
  errorCode,
  escapeAndTruncate,
  escapeMrkdwn,
  explanationLines,
  formatLifetime,
  formatQuota,
  link,
  mention,
  quotaExhausted,
  slackDate,
  stateLabel,
  truncate,
} from './format.js';

export const APPROVE_ACTION_ID = ACTIONS.approve;
export const REJECT_ACTION_ID = ACTIONS.reject;
export const DECISION_BLOCK_ID = 'decision';
export const CARD_EVENT_TYPE = 'broadcast_request';

const SECTION_MAX = 3000;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export interface CardMessage extends SlackMessage {
  metadata: { event_type: string; event_payload: Record<string, string | number | boolean> };
}

const md = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text: truncate(text, SECTION_MAX) });
const pt = (text: string): PlainTextElement => ({ type: 'plain_text', text: truncate(text, SECTION_MAX), emoji: false });
const section = (text: string): KnownBlock => ({ type: 'section', text: md(text) });
const context = (text: string): KnownBlock => ({ type: 'context', elements: [md(text)] });

/** True when this request, as it would be pushed, reaches every user (no Condition). */
export function reachesEveryone(req: BroadcastRequest): boolean {
  return req.body.Condition === undefined;
}

/** The message's first words, for headers and fallbacks: one line, plain. */
export function firstWords(message: string, max = 60): string {
  return truncate(message.replace(/\s+/g, ' ').trim(), max);
}

/** User text in plain_text sections, in full, split at Slack's 3000-character section limit. */
export function plainChunks(text: string, max = SECTION_MAX): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = max;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length || !chunks.length) chunks.push(rest);
  return chunks;
}

function notificationLines(op: OfflinePushDraft | undefined): string[] {
  if (!op) return [];
  const lines: string[] = [];
  if (op.title) lines.push(`Notification title: ${op.title}`);
  if (op.apnsSubtitle) lines.push(`iOS subtitle: ${op.apnsSubtitle}`);
  if (op.desc) lines.push(`Notification text (replaces the message on the lock screen): ${op.desc}`);
  if (op.ext) lines.push(`Notification extra data (JSON): ${op.ext}`);
  if (op.apnsBadgeMode === 1) lines.push("iOS badge: not increased");
  if (op.apnsSound) lines.push(`iOS sound: ${op.apnsSound}`);
  if (op.androidSound) lines.push(`Android sound: ${op.androidSound}`);
  if (op.apnsImage) lines.push(`iOS image: ${op.apnsImage}`);
  return lines;
}

function lastEvent(req: BroadcastRequest, kinds: string[]) {
  for (let i = req.history.length - 1; i >= 0; i--) if (kinds.includes(req.history[i]!.kind)) return req.history[i];
  return undefined;
}

function approvalsLine(req: BroadcastRequest): string | undefined {
  if (req.requiredApprovals <= 1 && req.approvals.length === 0) return undefined;
  const who = req.approvals.map((a) => `${mention(a.userId)} ${slackDate(a.at)}`).join(', ');
  return `*Approvals:* ${req.approvals.length} of ${req.requiredApprovals}${who ? ` — ${who}` : ''}`;
}

/** What happened to the request: who, what, when and the outcome. */
export function outcomeLines(req: BroadcastRequest, ctx: ViewContext): string[] {
  const r = req.result;
  switch (req.state) {
    case 'pending': {
      const lines: string[] = [];
      const back = lastEvent(req, ['handed_back', 'late', 'edited']);
      if (back?.kind === 'handed_back' && req.history.at(-1) === back) lines.push(`↩️ An earlier approval did not go through (${escapeMrkdwn(back.note ?? 'interrupted')}); nothing was pushed. Approve again to send.`);
      if (back?.kind === 'late') lines.push(`The scheduled time passed by ${escapeMrkdwn(back.note ?? '?')} s while the app was down, so it was not pushed. Approve again to send it now, or the requester can edit the time.`);
      if (back?.kind === 'edited') lines.push(`Edited by ${mention(back.by)} ${slackDate(back.at)}; earlier approvals no longer count.`);
      lines.push(`Waiting for approval since ${slackDate(req.createdAt)}; expires ${slackDate(req.expiresAt)}.`);
      return lines;
    }
    case 'scheduled': {
      const hold = req.holdReason === 'quiet_hours' ? ' (held until the quiet hours end)' : '';
      return [`Approved by ${approverList(req)}. It will be pushed at ${slackDate(req.scheduledFor)}${hold}.`];
    }
    case 'approved':
    case 'sending':
      return [`Approved by ${approverList(req)} — sending now.`];
    case 'sent': {
      const taskId = r?.kind === 'sent' ? r.taskId : req.resolution?.taskId;
      const lines = [`Sent ✅ — TaskId ${taskId ? code(taskId, 200) : 'not recorded'}.`];
      if (req.resolution?.kind === 'sent') lines.push(`Marked as sent by ${mention(req.resolution.by)} ${slackDate(req.resolution.at)} after the outcome was unknown.`);
      else if (r?.kind === 'sent') lines.push(`Approved by ${approverList(req)}; pushed ${slackDate(r.at)}.`);
      return lines;
    }
    case 'failed': {
      if (r?.kind !== 'failed') return ['Failed ❌ — no error details were recorded. Nothing was pushed.'];
      return [
        `Failed ❌ — ${errorCode(r.code)}: ${escapeAndTruncate(r.explanation.title, 200)}. Nothing was pushed.`,
        ...explanationLines(r.explanation, 600),
        ...(r.info ? [`Tencent said: ${code(r.info, 300)}`] : []),
      ];
    }
    case 'unknown': {
      const lines = ['Outcome unknown ❓ — the push MAY have gone out.'];
      if (r?.kind === 'unknown') lines.push(`Why: ${escapeAndTruncate(r.reason, 300)}`, ...explanationLines(r.explanation, 500));
      lines.push('An approver can settle it after checking the Tencent Cloud IM console. The app will not push this again by itself.');
      return lines;
    }
    case 'not_sent':
      return [`Did not go out — marked by ${mention(req.resolution?.by)} ${slackDate(req.resolution?.at)} after checking. Nothing was pushed; the requester may ask again.`];
    case 'rejected':
      return [`Rejected 🚫 by ${mention(req.decision?.by)} ${slackDate(req.decision?.at)}: ${escapeAndTruncate(req.decision?.reason ?? '(no reason given)', 800)}. Nothing was pushed.`];
    case 'expired':
      return [`Expired ⌛ ${slackDate(req.decision?.at ?? req.updatedAt)} — nobody approved it in time. Nothing was pushed.`];
    case 'cancelled':
      return [`Cancelled 🗑️ by ${mention(req.decision?.by)} ${slackDate(req.decision?.at)}. Nothing was pushed.`];
  }
}

function approverList(req: BroadcastRequest): string {
  const ids = req.approvals.map((a) => a.userId);
  return ids.length ? ids.map((id) => mention(id)).join(', ') : 'an approver';
}

function button(o: { actionId: string; text: string; req: BroadcastRequest; label: string; style?: 'primary' | 'danger'; confirm?: Button['confirm'] }): Button {
  const b: Button = {
    type: 'button',
    action_id: o.actionId,
    text: { type: 'plain_text', text: o.text, emoji: true },
    value: buttonValue(o.req),
    accessibility_label: truncate(o.label, 75),
  };
  if (o.style) b.style = o.style;
  if (o.confirm) b.confirm = o.confirm;
  return b;
}

function confirm(title: string, text: string, yes: string, no = 'Not yet'): NonNullable<Button['confirm']> {
  return {
    title: { type: 'plain_text', text: truncate(title, 100) },
    text: { type: 'plain_text', text: truncate(text, 300) },
    confirm: { type: 'plain_text', text: truncate(yes, 30) },
    deny: { type: 'plain_text', text: truncate(no, 30) },
    style: 'danger',
  };
}

function audienceWords(req: BroadcastRequest): string {
  return reachesEveryone(req) ? 'to everyone' : `to ${audienceShort(req.draft.audience)}`;
}

function inQuiet(ctx: ViewContext): boolean {
  const q = ctx.quietHours;
  if (!q) return false;
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone: ctx.quota.timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ctx.now);
  const [h, m] = hm.split(':').map(Number) as [number, number];
  const minute = h * 60 + m;
  return q.startMinute < q.endMinute ? minute >= q.startMinute && minute < q.endMinute : minute >= q.startMinute || minute < q.endMinute;
}

function actionsFor(req: BroadcastRequest, ctx: ViewContext): Button[] {
  const to = audienceWords(req);
  const everyone = reachesEveryone(req);
  const approveConfirm = confirm(
    'Send this push?',
    `${everyone ? 'This sends the message to EVERY user of the app.' : `This sends the message ${to}.`} It cannot be recalled.`,
    req.draft.sendAt ? 'Approve' : 'Push now',
  );
  switch (req.state) {
    case 'pending': {
      const buttons: Button[] = [];
      const quotaUp = quotaExhausted(ctx.quota) && !req.draft.sendAt;
      if (!quotaUp) {
        if (inQuiet(ctx) && !req.draft.sendAt) {
          buttons.push(button({ actionId: ACTIONS.approve, text: 'Approve (hold)', req, style: 'primary', label: `Approve broadcast ${req.id} ${to}, held until quiet hours end`, confirm: { ...approveConfirm, confirm: { type: 'plain_text', text: 'Approve and hold' } } }));
          buttons.push(
            button({
              actionId: ACTIONS.approveNow,
              text: 'Approve, send now',
              req,
              label: `Approve broadcast ${req.id} ${to} and send now despite quiet hours`,
              confirm: confirm('Send now anyway?', 'It is quiet hours. This sends the push right now instead of holding it until they end. It cannot be recalled.', 'Send now anyway'),
            }),
          );
        } else {
          buttons.push(button({ actionId: ACTIONS.approve, text: 'Approve', req, style: 'primary', label: `Approve broadcast ${req.id} ${to}`, confirm: approveConfirm }));
        }
      }
      buttons.push(button({ actionId: ACTIONS.reject, text: 'Reject', req, style: 'danger', label: `Reject broadcast ${req.id}` }));
      buttons.push(button({ actionId: ACTIONS.edit, text: 'Edit', req, label: `Edit broadcast ${req.id} (requester only)` }));
      buttons.push(button({ actionId: ACTIONS.cancel, text: 'Cancel request', req, label: `Cancel broadcast ${req.id} (requester only)`, confirm: confirm('Cancel this request?', 'Nothing will be pushed.', 'Cancel request', 'Keep it') }));
      return buttons;
    }
    case 'scheduled': {
      const buttons: Button[] = [];
      if (req.holdReason === 'quiet_hours') {
        buttons.push(
          button({
            actionId: ACTIONS.approveNow,
            text: 'Send now anyway',
            req,
            label: `Send broadcast ${req.id} now despite quiet hours`,
            confirm: confirm('Send now anyway?', 'This sends the push right now instead of waiting for the quiet hours to end. It cannot be recalled.', 'Send now anyway'),
          }),
        );
      }
      buttons.push(button({ actionId: ACTIONS.edit, text: 'Edit', req, label: `Edit broadcast ${req.id} (requester only; approvals reset)` }));
      buttons.push(button({ actionId: ACTIONS.cancel, text: 'Cancel push', req, style: 'danger', label: `Cancel scheduled broadcast ${req.id}`, confirm: confirm('Cancel this scheduled push?', 'Nothing will be pushed.', 'Cancel push', 'Keep it') }));
      return buttons;
    }
    case 'unknown':
      return [
        button({ actionId: ACTIONS.markSent, text: 'It went out', req, label: `Mark broadcast ${req.id} as sent (approvers)` }),
        button({
          actionId: ACTIONS.markNotSent,
          text: 'It did not go out',
          req,
          label: `Mark broadcast ${req.id} as not sent (approvers)`,
          confirm: confirm('Mark as not sent?', 'Only if the Tencent Cloud IM console shows no push at that time. The requester may then ask again.', 'It did not go out', 'Back'),
        }),
      ];
    case 'rejected':
    case 'failed':
    case 'expired':
    case 'cancelled':
    case 'not_sent':
      return [button({ actionId: ACTIONS.requestAgain, text: 'Request again', req, label: `Request broadcast ${req.id} again (requester only)` })];
    default:
      return [];
  }
}

function metadataOf(req: BroadcastRequest): CardMessage['metadata'] {
  const p: Record<string, string | number | boolean> = {
    request_id: req.id,
    state: req.state,
    requester: req.requesterId,
    audience_kind: reachesEveryone(req) ? 'all' : req.draft.audience.kind,
    payload_sha256: req.payloadHash,
    payload_version: req.version,
    msg_random: req.body.MsgRandom,
    approvals: req.approvals.map((a) => a.userId).join(','),
    required_approvals: req.requiredApprovals,
    created_at: req.createdAt,
    updated_at: req.updatedAt,
  };
  if (req.draft.sendAt) p.send_at = req.draft.sendAt;
  if (req.scheduledFor) p.scheduled_for = req.scheduledFor;
  const taskId = req.result?.kind === 'sent' ? req.result.taskId : req.resolution?.taskId;
  if (taskId) p.task_id = taskId;
  if (req.result?.kind === 'failed' && req.result.code !== null) p.error_code = req.result.code;
  if (req.decision) {
    p.decided_by = req.decision.by;
    p.decided_at = req.decision.at;
  }
  if (req.resolution) p.resolved_as = req.resolution.kind;
  return { event_type: CARD_EVENT_TYPE, event_payload: p };
}

function headerText(req: BroadcastRequest): string {
  const who = reachesEveryone(req) ? 'Everyone' : req.draft.audience.kind === 'tags' ? 'Users with tags' : 'Users with attributes';
  return truncate(`${STATE_WORDS[req.state]} · ${who} · “${firstWords(req.draft.message, 80)}”`, 150);
}

/** The approvers as mentions, so the first post notifies them. */
export function approverMentions(ctx: ViewContext): string {
  return [...ctx.approvers.users.map((u) => `<@${u}>`), ...ctx.approvers.groups.map((g) => `<!subteam^${g}>`)].join(' ');
}

export function buildApprovalCard(req: BroadcastRequest, ctx: ViewContext): CardMessage {
  const d = req.draft;
  const blocks: KnownBlock[] = [];
  const decided = !['pending', 'scheduled', 'approved', 'sending'].includes(req.state);
  const everyone = reachesEveryone(req);

  blocks.push({ type: 'header', text: { type: 'plain_text', text: headerText(req), emoji: false } });
  if (ctx.sandbox) blocks.push(context(`🧪 *${SANDBOX_BANNER}*`));
  blocks.push(section(`*${stateLabel(req.state)}* — requested by ${mention(req.requesterId)} ${slackDate(req.createdAt)}`));
  if (everyone && !decided) blocks.push(section('⚠️ *This goes to EVERY user of the app.* It cannot be recalled.'));

  blocks.push(section('*Message, exactly as users will read it:*'));
  for (const chunk of plainChunks(d.message)) blocks.push({ type: 'section', text: pt(chunk) });
  const notif = notificationLines(d.offlinePush);
  if (notif.length) {
    blocks.push(section('*Notification details:*'));
    for (const chunk of plainChunks(notif.join('\n'))) blocks.push({ type: 'section', text: pt(chunk) });
  }

  const facts: string[] = [`*Audience:* ${truncate(describeAudience(d.audience), 1500)}`];
  if (everyone) {
    const size = ctx.audienceSize;
    facts.push(
      size && size !== 'unknown'
        ? `*Audience size:* up to ${size.count.toLocaleString('en-US')} registered users (Tencent, ${escapeMrkdwn(size.date)})`
        : '*Audience size:* not known right now (Tencent did not answer)',
    );
  } else {
    facts.push('*Audience size:* Tencent offers no count for tag or attribute pushes.');
  }
  facts.push(`*Stored for offline users:* ${formatLifetime(d.lifetimeSeconds)}`);
  facts.push(`*Sender account:* ${d.sender ? code(d.sender, 100) : 'the app admin'}`);
  if (d.sendAt) facts.push(`*Send time:* ${slackDate(d.sendAt)} (scheduled)`);
  const approvals = approvalsLine(req);
  if (approvals) facts.push(approvals);
  else if (req.state === 'pending') facts.push(`*Approvals needed:* ${req.requiredApprovals}`);
  blocks.push(section(facts.join('\n')));

  if (req.duplicateOf && !decided) {
    const dup = req.duplicateOf;
    const where = link(ctx.links?.[dup.id] ?? dup.card?.permalink, 'earlier card');
    blocks.push(section(`⚠️ The same message was already pushed to this audience ${slackDate(dup.sentAt)} (${where}${dup.taskId ? `, TaskId ${code(dup.taskId)}` : ''}). Approve only if it should go out again.`));
  }
  if (req.againOf) blocks.push(context(`Asked again from request ${code(req.againOf)} (${link(ctx.links?.[req.againOf], 'its card')}).`));
  if (req.againAs?.length) blocks.push(context(`Asked again as ${req.againAs.map((id) => `${code(id)} (${link(ctx.links?.[id], 'card')})`).join(', ')}.`));
  if (d.note) blocks.push(section(`*Note for the approvers* (not sent): ${escapeAndTruncate(d.note, 1000)}`));

  if (req.state === 'pending') {
    const q = ctx.quota;
    blocks.push(context(quotaExhausted(q) && !d.sendAt ? `🚫 ${formatQuota(q)}. It can be approved after the reset.` : `📊 ${formatQuota(q)}`));
  }

  blocks.push({ type: 'divider' });
  blocks.push(section(outcomeLines(req, ctx).join('\n')));

  const buttons = actionsFor(req, ctx);
  if (buttons.length) blocks.push({ type: 'actions', block_id: DECISION_BLOCK_ID, elements: buttons } as ActionsBlock);

  blocks.push(context(`Request ${code(req.id)} · payload ${code(req.version)} · MsgRandom ${code(String(req.body.MsgRandom))}`));

  return { text: cardFallbackText(req), blocks, metadata: metadataOf(req) };
}

/** The notification text: state, audience, requester and the first words (plain, no markup). */
export function cardFallbackText(req: BroadcastRequest, mentions = ''): string {
  const to = reachesEveryone(req) ? 'everyone' : audienceShort(req.draft.audience);
  return truncate(`${mentions ? `${mentions} ` : ''}${STATE_WORDS[req.state]}: broadcast to ${to} from ${mention(req.requesterId)} — “${escapeMrkdwn(firstWords(req.draft.message))}”`, 3000);
}

export function isDecided(state: RequestState): boolean {
  return !['pending', 'scheduled', 'approved', 'sending'].includes(state);
}
