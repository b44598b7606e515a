// Thread replies under the approval card, DMs to the requester and ephemeral refusals.

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest, QuotaStatus, RequestState } from '../src/broadcast/types.js';
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
  msgRandomOf,
  retryAdvice,
  slackDate,
  stateLabel,
  truncate,
} from './format.js';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Lines → one section per ≤3000 chars; fallback text = first line. */
function message(lines: string[]): SlackMessage {
  const blocks: KnownBlock[] = [];
  let cur = '';
  for (const line of lines) {
    const l = truncate(line, 3000);
    if (cur && cur.length + 1 + l.length > 3000) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cur } });
      cur = l;
    } else cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cur } });
  return { text: truncate(lines[0] ?? '', 3000), blocks };
}

function approverOf(req: BroadcastRequest): string | undefined {
  return req.decision?.by ?? req.approvals[req.approvals.length - 1]?.userId;
}

function sentLines(req: BroadcastRequest): string[] {
  const r = req.result;
  if (r?.kind !== 'sent') return ['🚀 Pushed, but no TaskId was recorded. Check the Tencent Cloud IM console push records.'];
  return [
    `🚀 Pushed. TaskId ${code(r.taskId, 200)} (attempts ${r.attempts}).`,
    'Keep the TaskId for audits; Tencent delivers asynchronously, usually within a minute.',
  ];
}

function failedLines(req: BroadcastRequest, lead = '❌ The push failed'): string[] {
  const r = req.result;
  if (r?.kind === 'unknown') return unknownLines(req);
  if (r?.kind !== 'failed') return [`${lead} and no error details were recorded.`, '*Nothing was pushed.*'];
  return [
    `${lead} — ${errorCode(r.code)}: *${escapeAndTruncate(r.explanation.title, 200)}*`,
    ...explanationLines(r.explanation, 800),
    ...(r.info ? [`Tencent said: ${code(r.info, 500)}`] : []),
    retryAdvice(r.explanation.retry),
    '*Nothing was pushed.*',
  ];
}

function unknownLines(req: BroadcastRequest): string[] {
  const r = req.result;
  const lines = ['❓ Outcome unknown — the push MAY have gone out.'];
  if (r?.kind === 'unknown') {
    lines.push(`Why: ${escapeAndTruncate(r.reason, 500)}`);
    lines.push(...explanationLines(r.explanation, 800));
  }
  if (req.sendingAt) lines.push(`It was sent to Tencent ${slackDate(req.sendingAt)}.`);
  const rnd = msgRandomOf(req.body);
  if (rnd) lines.push(`MsgRandom: ${code(rnd)}`);
  lines.push(
    'Before requesting it again, check the Tencent Cloud IM console (all-member push records / TaskId list) for a push at that time. If it is there, it went out; do not request it again.',
    'The app will not push this again by itself.',
  );
  return lines;
}

function rejectedLines(req: BroadcastRequest, lead: string): string[] {
  const reason = req.decision?.reason ? `: ${escapeAndTruncate(req.decision.reason, 1000)}` : ' (no reason given)';
  return [`${lead}${reason}`, 'Nothing was pushed.'];
}

export function sentReply(req: BroadcastRequest): SlackMessage {
  return message(sentLines(req));
}

export function failedReply(req: BroadcastRequest): SlackMessage {
  return message(failedLines(req));
}

export function unknownReply(req: BroadcastRequest): SlackMessage {
  return message(unknownLines(req));
}

export function rejectedReply(req: BroadcastRequest): SlackMessage {
  return message(rejectedLines(req, `🚫 Rejected by ${mention(req.decision?.by)}`));
}

export function expiredReply(req: BroadcastRequest): SlackMessage {
  return message([
    `⌛ Expired — nobody approved this request in time (${slackDate(req.decision?.at ?? req.updatedAt)}).`,
    'Nothing was pushed. The requester can ask again with /broadcast if it is still needed.',
  ]);
}

export function cancelledReply(req: BroadcastRequest): SlackMessage {
  return message([
    `🗑️ Cancelled by ${mention(req.decision?.by ?? req.requesterId)} (${slackDate(req.decision?.at ?? req.updatedAt)}).`,
    'Nothing was pushed.',
  ]);
}

/** An approval that never reached Tencent (quota race, restart) handed the request back to pending. */
export function handedBackReply(req: BroadcastRequest): SlackMessage {
  const note = req.history.at(-1)?.note ?? 'its approval did not complete';
  return message([`↩️ Request ${code(req.id)} is pending again: ${escapeMrkdwn(note)}. Nothing was pushed.`]);
}

/** The DM to the requester about their request, for its current state. */
export function requesterNotice(req: BroadcastRequest, o: { cardPermalink?: string } = {}): SlackMessage {
  const card = link(o.cardPermalink, 'View the request');
  const withCard = (lines: string[]): SlackMessage =>
    message(o.cardPermalink && card !== 'View the request' ? [...lines, card] : lines);
  const to = audienceShort(req.draft.audience);
  switch (req.state) {
    case 'pending':
      return withCard([
        `📨 Your broadcast request to *${to}* was submitted and is waiting for approval.`,
        "An approver other than you must approve it. You'll get a message here when it is decided.",
      ]);
    case 'approved':
    case 'sending':
      return withCard([`✅ ${mention(approverOf(req))} approved your broadcast to *${to}*; it is being sent now.`]);
    case 'sent': {
      const [first, ...rest] = sentLines(req);
      return withCard([`Your broadcast to *${to}*: ${first ?? ''}`, ...rest]);
    }
    case 'failed':
      return withCard(failedLines(req, `❌ Your broadcast to *${to}* failed`));
    case 'unknown':
      return withCard([`Your broadcast to *${to}*:`, ...unknownLines(req)]);
    case 'rejected':
      return withCard([
        ...rejectedLines(req, `🚫 ${mention(req.decision?.by)} rejected your broadcast request to *${to}*`),
        'You can change it and request again with /broadcast.',
      ]);
    case 'expired':
      return withCard([
        `⌛ Your broadcast request to *${to}* expired before anyone approved it.`,
        'Nothing was pushed. Request it again with /broadcast if it is still needed.',
      ]);
    case 'cancelled': {
      const by = req.decision?.by && req.decision.by !== req.requesterId ? ` by ${mention(req.decision.by)}` : '';
      return withCard([`🗑️ Your broadcast request to *${to}* was cancelled${by}.`, 'Nothing was pushed.']);
    }
    default:
      return withCard([`Your broadcast request is now: ${stateLabel(req.state)}`]);
  }
}

export type RefusalReason =
  | 'not_approver'
  | 'is_requester'
  | 'already_decided'
  | 'unknown_request'
  | 'quota_exhausted'
  | 'store_unavailable'
  | 'stale_payload';

/** Ephemeral explanation for someone whose click changed nothing. */
export function decisionRefused(
  reason: RefusalReason,
  o: { state?: RequestState; by?: string; quota?: QuotaStatus } = {},
): string {
  switch (reason) {
    case 'not_approver':
      return "You're not one of the broadcast approvers, so you can't approve or reject this request. Nothing changed.";
    case 'is_requester':
      return "You asked for this broadcast, so you can't approve it. Another approver must.";
    case 'already_decided': {
      const state = o.state ? ` (${stateLabel(o.state)})` : '';
      const by = o.by ? ` by ${mention(o.by)}` : '';
      return `This request was already decided${by}${state}, so your click changed nothing. It will not be pushed twice.`;
    }
    case 'unknown_request':
      return "This broadcast request wasn't found (it may have been removed). Nothing was pushed; the requester can ask again with /broadcast.";
    case 'quota_exhausted':
      return `Today's push quota is used up${o.quota ? ` (${formatQuota(o.quota)})` : ''}, so nothing was pushed. Approve it again after the reset.`;
    case 'store_unavailable':
      return "The app couldn't reach its database, so nothing changed and nothing was pushed. Try again in a minute.";
    case 'stale_payload':
      return 'The request changed after this card was shown, so your approval no longer matches what would be sent. Nothing was pushed; review the updated card and decide again.';
    default:
      return 'Your click changed nothing.';
  }
}

/** Tells the requester where their request went. */
export function submittedNotice(req: BroadcastRequest, o: { channelId: string }): SlackMessage {
  return message([
    `📨 Your broadcast request was sent for approval in ${channelLink(o.channelId)}.`,
    `Audience: *${audienceShort(req.draft.audience)}*. Request id ${code(req.id, 100)}. You'll get a message when it is approved, rejected or expires.`,
  ]);
}
