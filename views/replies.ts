// Direct messages to the requester, private refusals, and the private answers of /broadcast.
// A DM is one or two lines and links the card; the details (the exact body, the operator's
// instructions) live in the card's thread, once.

import type { KnownBlock } from '@slack/types';
import { LIFECYCLE } from '../src/broadcast/lifecycle.js';
import type { BroadcastRequest, QuotaStatus, Refusal } from '../src/broadcast/types.js';
import { approverMentions, firstWords, reachesEveryone } from './approval-card.js';
import { labelled, plainFallback, sandboxBlock, section, type SlackMessage } from './blocks.js';
import { SANDBOX_BANNER, type ViewContext } from './context.js';
import {
  STATE_WORDS,
  audienceShort,
  channelLink,
  code,
  errorCode,
  escapeAndTruncate,
  escapeMrkdwn,
  formatQuota,
  link,
  mention,
  resetClock,
  slackDate,
  stateLabel,
  truncate,
  whatHappened,
} from './format.js';

function message(lines: string[], ctx: Pick<ViewContext, 'sandbox'>, literal?: [string, string]): SlackMessage {
  const blocks: KnownBlock[] = [];
  if (ctx.sandbox) blocks.push(sandboxBlock());
  blocks.push(section(lines.join('\n')));
  if (literal) blocks.push(labelled([literal]));
  const extra = literal ? ` ${literal[0]}: “${escapeMrkdwn(literal[1])}”.` : '';
  return { text: truncate(`${plainFallback(lines[0] ?? '')}${extra}${ctx.sandbox ? ` (${SANDBOX_BANNER})` : ''}`, 3000), blocks };
}

function to(req: BroadcastRequest): string {
  return reachesEveryone(req) ? 'everyone' : audienceShort(req.draft.audience);
}

/** "Your broadcast to everyone (“Server maintenance tonight…”)". */
function yourBroadcast(req: BroadcastRequest): string {
  return `Your broadcast to *${to(req)}* (“${escapeMrkdwn(firstWords(req.draft.message, 50))}”)`;
}

function cardLink(req: BroadcastRequest, label = 'the card'): string {
  return link(req.card?.permalink, label);
}

/** What the requester will hear about next, from the lifecycle table: only messages that really come. */
function promisedNext(): string {
  const told = (['sent', 'rejected', 'failed', 'expired'] as const).filter((k) => LIFECYCLE[k].dm);
  const words: Record<(typeof told)[number], string> = { sent: 'sent (with its TaskId)', rejected: 'rejected', failed: 'fails', expired: 'expires' };
  const list = told.map((k) => words[k]);
  return list.length ? `I’ll message you here when it is ${list.slice(0, -1).join(', ')}${list.length > 1 ? ' or ' : ''}${list.at(-1)}.` : '';
}

/** The DM to the requester about history entry `index`. */
export function requesterMessage(req: BroadcastRequest, index: number, ctx: ViewContext): SlackMessage {
  const e = req.history[index];
  const r = req.result;
  switch (e?.kind) {
    case 'submitted': {
      const who = approverMentions(ctx) || 'the approvers';
      return message(
        [
          `${yourBroadcast(req)} is waiting for approval in ${channelLink(ctx.approvalChannel)}: ${cardLink(req, 'see its card')}.`,
          `It needs ${req.requiredApprovals} approval${req.requiredApprovals === 1 ? '' : 's'} from ${who} (never your own). ${promisedNext()}`,
        ],
        ctx,
      );
    }
    case 'scheduled':
      return message(
        [
          `${yourBroadcast(req)} was approved by ${mention(e.by)}: it will be pushed ${slackDate(req.scheduledFor)}${req.holdReason === 'quiet_hours' ? ', when the quiet hours end' : ' (scheduled)'}.`,
          `You or an approver can cancel it on ${cardLink(req)} until then.`,
        ],
        ctx,
      );
    case 'sent':
      return message([`${yourBroadcast(req)} was sent ${slackDate(e.at)}. TaskId ${code(e.taskId ?? (r?.kind === 'sent' ? r.taskId : '?'))}. ${cardLink(req, 'See the card')}.`], ctx);
    case 'failed':
      return message(
        [
          `${yourBroadcast(req)} failed with ${errorCode(r?.kind === 'failed' ? r.code : (e.code ?? null))}${r?.kind === 'failed' ? `: ${escapeAndTruncate(r.explanation.title, 120)}` : ''}. Nothing was pushed.`,
          `What happened and what to do: ${cardLink(req, 'the card’s thread')}.`,
        ],
        ctx,
      );
    case 'unknown':
      return message(
        [
          `${yourBroadcast(req)}: the outcome is unknown, it *may* have gone out.`,
          `An approver will check the Tencent console and settle it on ${cardLink(req)}; I’ll message you then. Please don’t ask again before that.`,
        ],
        ctx,
      );
    case 'marked_sent':
      return message([`${yourBroadcast(req)}: ${mention(e.by)} checked the Tencent console and marked it as sent${e.taskId ? ` (TaskId ${code(e.taskId)})` : ''}. ${cardLink(req, 'See the card')}.`], ctx);
    case 'marked_not_sent':
      return message([`${yourBroadcast(req)}: ${mention(e.by)} checked the Tencent console and marked it as not sent. You can ask again with “Request again” on ${cardLink(req)}.`], ctx);
    case 'rejected':
      return message(
        [`${yourBroadcast(req)} was rejected by ${mention(e.by)}. Nothing was pushed.`, `You can change it and ask again with “Request again” on ${cardLink(req)}.`],
        ctx,
        ['Reason', e.note ?? '(no reason given)'],
      );
    case 'expired':
      return message([`${yourBroadcast(req)} expired: nobody approved it in time. Nothing was pushed.`, `Use “Request again” on ${cardLink(req)} if it is still needed.`], ctx);
    case 'cancelled':
      return message([`${yourBroadcast(req)} was cancelled by ${mention(e.by)} ${slackDate(e.at)}. Nothing was pushed.`], ctx);
    case 'late':
      return message([`${yourBroadcast(req)} was not pushed: its send time passed while the app was down. It needs approval again on ${cardLink(req)}.`], ctx);
    default:
      return message([`${yourBroadcast(req)} is now ${STATE_WORDS[req.state].toLowerCase()}. ${cardLink(req, 'See the card')}.`], ctx);
  }
}

/** Private answer to someone whose click or submission changed nothing: short, specific, plain mrkdwn. */
export function refusalText(refusal: Refusal | string, o: { request?: BroadcastRequest; quota?: QuotaStatus } = {}): string {
  const r = o.request;
  switch (refusal) {
    case 'not_approver':
      return 'Only the broadcast approvers can do that, and you are not one. Nothing changed.';
    case 'is_requester':
      return 'You asked for this broadcast, so another approver must decide it. Nothing changed. (You can edit or cancel it.)';
    case 'not_requester':
      return 'Only the person who asked for this broadcast can do that. Nothing changed.';
    case 'already_decided':
      return `This request is already ${r ? STATE_WORDS[r.state].toLowerCase() : 'decided'}${r?.decision && r.decision.by !== 'system' ? ` (by ${mention(r.decision.by)})` : ''}, so nothing changed. A request is never pushed twice.`;
    case 'already_approved_by_you': {
      const left = r ? Math.max(1, r.requiredApprovals - r.approvals.length) : 1;
      return `You already approved this request, so nothing changed. It needs ${left} more approval${left === 1 ? '' : 's'} from other approvers.`;
    }
    case 'unknown_request':
      return 'This broadcast request was not found. Nothing changed.';
    case 'quota_exhausted':
      return o.quota
        ? `Nothing was pushed: ${formatQuota(o.quota)}. Approve it after the reset at ${resetClock(o.quota)} ${escapeMrkdwn(o.quota.timezone)}.`
        : 'Nothing was pushed: today’s push quota is used up. Approve it after the daily reset.';
    case 'store_unavailable':
      return 'The app could not reach its database, so nothing changed and nothing was pushed. Try again in a minute.';
    case 'store_uncertain':
      return 'The database failed while your click was being recorded, so the app cannot tell yet whether it counted. Nothing is ever pushed twice; the card shows what happened within a minute.';
    case 'stale_version':
      return 'This card is out of date: the request changed after it was shown, so nothing changed. Look at the updated card and decide again.';
    case 'expired':
      return 'This request expired, so nothing changed. The requester can ask again.';
    case 'send_time_passed':
      return 'Its send time has already passed, so it cannot be approved as it is. Nothing changed; the requester can edit the time.';
    case 'not_unknown':
      return `This request’s outcome is already settled${r ? ` (${STATE_WORDS[r.state].toLowerCase()})` : ''}, so nothing changed.`;
    default:
      return 'Nothing changed.';
  }
}

function historyLine(e: BroadcastRequest['history'][number]): string {
  const what = e.kind.replace(/_/g, ' ');
  const extra = e.taskId ? ` (TaskId ${code(e.taskId)})` : e.kind === 'failed' && e.code !== undefined ? ` (${errorCode(e.code)})` : '';
  return `• ${slackDate(e.at)} ${escapeMrkdwn(what)}${e.by ? ` by ${mention(e.by)}` : ''}${extra}`;
}

/** `/broadcast status <id or TaskId>`: everything about one request, privately. */
export function statusAnswer(req: BroadcastRequest, _ctx: Pick<ViewContext, 'now'>): string {
  const lines = [
    `*Request ${code(req.id)}*: ${stateLabel(req.state)} (${cardLink(req, 'card')})`,
    `To *${to(req)}*: “${escapeMrkdwn(firstWords(req.draft.message, 80))}”. Requested by ${mention(req.requesterId)} ${slackDate(req.createdAt)}.`,
  ];
  if (req.approvals.length) lines.push(`Approved by ${req.approvals.map((a) => `${mention(a.userId)} ${slackDate(a.at)}`).join(', ')} (${req.approvals.length} of ${req.requiredApprovals}).`);
  else if (req.state === 'pending') lines.push(`Waiting for ${req.requiredApprovals} approval${req.requiredApprovals === 1 ? '' : 's'}; it expires ${slackDate(req.expiresAt)}.`);
  if (req.state === 'scheduled') lines.push(`Scheduled: it will be pushed ${slackDate(req.scheduledFor)}.`);
  else if (req.draft.sendAt && req.state === 'pending') lines.push(`Send time: ${slackDate(req.draft.sendAt)} (scheduled), once approved.`);
  const r = req.result;
  const taskId = r?.kind === 'sent' ? r.taskId : req.resolution?.taskId;
  if (req.state === 'sent') lines.push(`TaskId ${taskId ? code(taskId) : 'not recorded'}.`);
  if (req.state === 'failed' && r?.kind === 'failed') lines.push(`${errorCode(r.code)}: ${escapeAndTruncate(r.explanation.title, 200)}. Nothing was pushed.`, ...whatHappened(r.explanation, r.info), 'What to do: in the card’s thread.');
  if (req.state === 'unknown' && r?.kind === 'unknown') lines.push(`The push *may* have gone out: ${escapeAndTruncate(r.reason, 300)}. An approver settles it on the card.`);
  if (req.decision?.reason) lines.push(`Reason: ${escapeAndTruncate(req.decision.reason, 1000)}`);
  lines.push('*History:*');
  const shown = req.history.slice(-15);
  if (shown.length < req.history.length) lines.push(`• … ${req.history.length - shown.length} earlier events (all of them are in the card’s thread)`);
  for (const e of shown) lines.push(historyLine(e));
  return truncate(lines.join('\n'), 3000);
}

/** `/broadcast status`: the asker's most recent requests. */
export function statusList(requests: BroadcastRequest[]): string {
  if (!requests.length) return 'You have no broadcast requests yet. Type `/broadcast` to ask for one.';
  const lines = ['*Your most recent broadcast requests:*'];
  for (const r of requests) {
    const when = r.state === 'scheduled' ? `, goes out ${slackDate(r.scheduledFor)}` : '';
    lines.push(`• ${code(r.id)} ${stateLabel(r.state)}: to *${to(r)}*, “${escapeMrkdwn(firstWords(r.draft.message, 40))}”, ${slackDate(r.createdAt)}${when} (${cardLink(r, 'card')})`);
  }
  lines.push('Ask `/broadcast status &lt;request id or TaskId&gt;` for the details of one.');
  return lines.join('\n');
}

/** `/broadcast help`. Its own examples are escaped, so `<text>` shows as typed. */
export function helpText(ctx: Pick<ViewContext, 'approvers' | 'approvalChannel' | 'sandbox'>): string {
  return [
    ...(ctx.sandbox ? [`*${SANDBOX_BANNER}.* Pushes go to the emulator inside the app.`] : []),
    '*/broadcast* asks for a Tencent IM push to every user of the app, or to users with tags or attributes. An approver must approve it before anything is sent.',
    '• `/broadcast` — open the request form',
    '• `/broadcast &lt;text&gt;` — open the form with the message filled in',
    '• `/broadcast status` — your five most recent requests',
    '• `/broadcast status &lt;request id or TaskId&gt;` — what happened to one request',
    '• `/broadcast quota` — pushes used and left today',
    '• `/broadcast help` — this help',
    `Approvers: ${approverMentions(ctx) || 'none configured'}. Approval cards go to ${channelLink(ctx.approvalChannel)}.`,
  ].join('\n');
}
