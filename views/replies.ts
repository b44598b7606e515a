// Direct messages to the requester, private refusals, and the private answers of /broadcast.

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest, QuotaStatus, Refusal } from '../src/broadcast/types.js';
import { approverMentions, firstWords, reachesEveryone, type SlackMessage } from './approval-card.js';
import { SANDBOX_BANNER, type ViewContext } from './context.js';
import {
  audienceShort,
  channelLink,
  code,
  errorCode,
  escapeAndTruncate,
  escapeMrkdwn,
  explanationLines,
  formatQuota,
  link,
  mention,
  slackDate,
  stateLabel,
  truncate,
} from './format.js';
import { plainFallback } from './thread.js';

function message(lines: string[], ctx?: Pick<ViewContext, 'sandbox'>): SlackMessage {
  const blocks: KnownBlock[] = [];
  if (ctx?.sandbox) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `🧪 *${SANDBOX_BANNER}*` }] });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } });
  return { text: truncate(plainFallback(lines[0] ?? ''), 3000), blocks };
}

function to(req: BroadcastRequest): string {
  return reachesEveryone(req) ? 'everyone' : audienceShort(req.draft.audience);
}

function yourBroadcast(req: BroadcastRequest): string {
  return `Your broadcast to *${to(req)}* (“${escapeAndTruncate(firstWords(req.draft.message, 40), 60)}”)`;
}

function cardLink(req: BroadcastRequest, label = 'the card'): string {
  return link(req.card?.permalink, label);
}

/** The DM to the requester about history entry `index`, or undefined when that event owes none. */
export function requesterMessage(req: BroadcastRequest, index: number, ctx: ViewContext): SlackMessage {
  const e = req.history[index];
  const r = req.result;
  const lines: string[] = [];
  switch (e?.kind) {
    case 'submitted':
      lines.push(
        `${yourBroadcast(req)} is waiting for approval in ${channelLink(ctx.approvalChannel)} (${cardLink(req)}).`,
        `It needs ${req.requiredApprovals} approval${req.requiredApprovals === 1 ? '' : 's'} from: ${approverMentions(ctx) || 'the approvers'} (never you). I'll tell you here when it is approved, rejected or expires.`,
      );
      break;
    case 'scheduled':
      lines.push(`${yourBroadcast(req)} was approved and will be pushed at ${slackDate(req.scheduledFor)}${req.holdReason === 'quiet_hours' ? ' (after the quiet hours)' : ''}. ${cardLink(req, 'View the card')}.`);
      break;
    case 'sent':
      lines.push(`${yourBroadcast(req)} was pushed ${slackDate(e.at)}. TaskId ${code(e.taskId ?? (r?.kind === 'sent' ? r.taskId : '?'))}. ${cardLink(req, 'Thread')}.`);
      break;
    case 'failed':
      lines.push(
        `${yourBroadcast(req)} failed: ${errorCode(r?.kind === 'failed' ? r.code : null)}${r?.kind === 'failed' ? ` (${escapeAndTruncate(r.explanation.title, 120)})` : ''}. Nothing was pushed.`,
        `Details and what to do are in ${cardLink(req, 'the thread')}.`,
      );
      break;
    case 'unknown':
      lines.push(`${yourBroadcast(req)}: the outcome is unknown — it MAY have gone out. An approver will check the Tencent console and settle it on ${cardLink(req)}. Please don't ask again until then.`);
      break;
    case 'marked_sent':
      lines.push(`${yourBroadcast(req)}: ${mention(e.by)} checked and marked it as sent. ${cardLink(req, 'View the card')}.`);
      break;
    case 'marked_not_sent':
      lines.push(`${yourBroadcast(req)}: ${mention(e.by)} checked and marked it as not sent. You can ask again with “Request again” on ${cardLink(req)}.`);
      break;
    case 'rejected':
      lines.push(`${yourBroadcast(req)} was rejected by ${mention(e.by)}: ${escapeAndTruncate(e.note ?? '(no reason given)', 800)}`, `Nothing was pushed. You can change it and ask again with “Request again” on ${cardLink(req)}.`);
      break;
    case 'expired':
      lines.push(`${yourBroadcast(req)} expired before anyone approved it. Nothing was pushed. Use “Request again” on ${cardLink(req)} if it is still needed.`);
      break;
    case 'cancelled':
      lines.push(`${yourBroadcast(req)} was cancelled by ${mention(e.by)}. Nothing was pushed.`);
      break;
    case 'late':
      lines.push(`${yourBroadcast(req)} was not pushed: its scheduled time passed while the app was down. It needs a new approval (${cardLink(req)}).`);
      break;
    default:
      lines.push(`${yourBroadcast(req)} is now: ${stateLabel(req.state)}. ${cardLink(req, 'View the card')}.`);
  }
  return message(lines, ctx);
}

/** Private answer to someone whose click or submission changed nothing. */
export function refusalText(refusal: Refusal | string, o: { request?: BroadcastRequest; quota?: QuotaStatus } = {}): string {
  const r = o.request;
  switch (refusal) {
    case 'not_approver':
      return "You're not one of the broadcast approvers, so you can't do that. Nothing changed.";
    case 'is_requester':
      return "You asked for this broadcast, so you can't approve or reject it; another approver must. (You can cancel or edit it.)";
    case 'not_requester':
      return 'Only the person who asked for this broadcast can do that. Nothing changed.';
    case 'already_decided':
      return `This request is already ${r ? stateLabel(r.state).toLowerCase() : 'decided'}${r?.decision ? ` (by ${mention(r.decision.by)})` : ''}, so your click changed nothing. It will never be pushed twice.`;
    case 'already_approved_by_you':
      return `You already approved this request; it needs ${r ? r.requiredApprovals - r.approvals.length : 'another'} more approval(s) from other approvers.`;
    case 'unknown_request':
      return "This broadcast request wasn't found. Nothing was pushed.";
    case 'quota_exhausted':
      return `Today's push quota is used up${o.quota ? ` (${formatQuota(o.quota)})` : ''}, so nothing was pushed and nothing changed. Approve it after the reset.`;
    case 'store_unavailable':
      return "The app couldn't reach its database, so nothing changed and nothing was pushed. Try again in a minute.";
    case 'store_uncertain':
      return 'The database failed while your click was being recorded, so the app cannot tell yet whether it counted. Nothing was pushed twice; the card will show what happened within a minute.';
    case 'stale_version':
      return 'This card is out of date: the request changed after it was shown, so your click changed nothing. Look at the updated card and decide again.';
    case 'expired':
      return 'This request expired, so your click changed nothing. The requester can ask again.';
    case 'send_time_passed':
      return 'The send time of this request has already passed, so it cannot be approved as it is. The requester can edit the time.';
    case 'not_unknown':
      return `This request is not in the unknown state any more${r ? ` (it is ${stateLabel(r.state).toLowerCase()})` : ''}, so nothing changed.`;
    default:
      return 'Your click changed nothing.';
  }
}

/** `/broadcast status <id or TaskId>`: everything about one request, privately. */
export function statusAnswer(req: BroadcastRequest, ctx: Pick<ViewContext, 'now'>): string {
  const lines = [
    `*Request ${code(req.id)}* — ${stateLabel(req.state)} (${cardLink(req, 'card')})`,
    `Audience: *${to(req)}*. Requested by ${mention(req.requesterId)} ${slackDate(req.createdAt)}.`,
  ];
  if (req.approvals.length) lines.push(`Approved by ${req.approvals.map((a) => `${mention(a.userId)} ${slackDate(a.at)}`).join(', ')}.`);
  if (req.state === 'scheduled') lines.push(`Will be pushed at ${slackDate(req.scheduledFor)}.`);
  else if (req.draft.sendAt && req.state === 'pending') lines.push(`Send time: ${slackDate(req.draft.sendAt)}, once approved.`);
  const r = req.result;
  if (req.state === 'sent') lines.push(`TaskId ${code((r?.kind === 'sent' ? r.taskId : req.resolution?.taskId) ?? 'not recorded')}.`);
  if (req.state === 'failed' && r?.kind === 'failed') lines.push(`${errorCode(r.code)}: ${escapeAndTruncate(r.explanation.title, 200)}`, ...explanationLines(r.explanation, 400));
  if (req.state === 'unknown' && r?.kind === 'unknown') lines.push(`Why unknown: ${escapeAndTruncate(r.reason, 300)}`);
  if (req.decision?.reason) lines.push(`Reason: ${escapeAndTruncate(req.decision.reason, 500)}`);
  lines.push('*History:*');
  for (const e of req.history.slice(-15)) lines.push(`• ${slackDate(e.at)} ${escapeMrkdwn(e.kind.replace(/_/g, ' '))}${e.by ? ` by ${mention(e.by)}` : ''}${e.taskId ? ` (TaskId ${code(e.taskId)})` : ''}`);
  return truncate(lines.join('\n'), 3000);
}

/** `/broadcast status`: the asker's most recent requests. */
export function statusList(requests: BroadcastRequest[]): string {
  if (!requests.length) return 'You have no broadcast requests yet. Type `/broadcast` to ask for one.';
  const lines = ['*Your most recent broadcast requests:*'];
  for (const r of requests) {
    lines.push(`• ${code(r.id)} ${stateLabel(r.state)} — to *${to(r)}*, ${slackDate(r.createdAt)} (${cardLink(r, 'card')})${r.state === 'scheduled' ? `, goes out ${slackDate(r.scheduledFor)}` : ''}`);
  }
  lines.push('Ask `/broadcast status <request id or TaskId>` for the details of one.');
  return lines.join('\n');
}

/** `/broadcast help`. Its own examples are escaped, so `<text>` shows as typed. */
export function helpText(ctx: Pick<ViewContext, 'approvers' | 'approvalChannel' | 'sandbox'>): string {
  return [
    ...(ctx.sandbox ? [`🧪 *${SANDBOX_BANNER}*`] : []),
    '*/broadcast* asks for a Tencent IM push to the app’s users. An approver must approve it before anything is sent.',
    '• `/broadcast` — open the request form',
    '• `/broadcast &lt;text&gt;` — open the form with the message filled in',
    '• `/broadcast status` — your five most recent requests',
    '• `/broadcast status &lt;request id or TaskId&gt;` — what happened to one request',
    '• `/broadcast quota` — pushes used and left today',
    '• `/broadcast help` — this help',
    `Approvers: ${approverMentions(ctx as ViewContext) || 'none configured'}. Approval cards go to ${channelLink(ctx.approvalChannel)}.`,
  ].join('\n');
}
