// The card's thread is the append-only audit of a request: one entry per event, each with who and
// when. Submission and edits carry the exact im_push body and its sha256, so the channel history
// shows precisely what an approval covered. The operator's instructions for a failure are here, once.

import type { KnownBlock } from '@slack/types';
import { formatQuietHours } from '../src/broadcast/time.js';
import type { BroadcastRequest, HistoryEntry } from '../src/broadcast/types.js';
import { canonicalJson } from '../src/tim/push-body.js';
import { labelled, plainFallback as fallbackOf, preformatted, sandboxBlock, section, type SlackMessage } from './blocks.js';
import { SANDBOX_BANNER, type ViewContext } from './context.js';
import { code, errorCode, escapeAndTruncate, escapeMrkdwn, link, mention, slackDate, truncate, whatHappened, whatToDo } from './format.js';

/** The exact body as pushed (canonical JSON: keys sorted, no spaces) and the sha256 of exactly that text. */
export function bodyBlocks(req: BroadcastRequest): KnownBlock[] {
  return [
    preformatted(canonicalJson(req.body)),
    section(`sha256 of the JSON above: \`${req.payloadHash}\` · payload version \`${escapeMrkdwn(req.version)}\` (what the card’s buttons carry)`),
  ];
}

interface Entry {
  /** mrkdwn lines; the first one is a full sentence that says what happened (the notification text). */
  lines: string[];
  body?: boolean;
  /** What a person typed, shown literally. */
  literal?: Array<[string, string]>;
}

function approvalsWord(n: number): string {
  return `${n} approval${n === 1 ? '' : 's'}`;
}

function entryOf(req: BroadcastRequest, e: HistoryEntry, ctx: ViewContext): Entry {
  const when = slackDate(e.at);
  const r = req.result;
  const current = e.version === req.version;
  switch (e.kind) {
    case 'submitted': {
      const lines = [`*Submitted* by ${mention(e.by)} ${when}. It needs ${approvalsWord(req.requiredApprovals)} from approvers other than the requester.`];
      if (e.otherId) lines.push(`Asked again from request ${code(e.otherId)} (${link(ctx.links?.[e.otherId], 'its card')}).`);
      lines.push(current ? '*The exact push an approval covers* (the im_push body):' : 'It was edited before this entry was posted; the exact push is in the edit’s entry below.');
      return { lines, body: current };
    }
    case 'edited':
      return {
        lines: [
          `*Edited* by ${mention(e.by)} ${when}. Every approval given before is reset.`,
          current ? '*The exact push an approval now covers:*' : 'It was edited again later; the exact push is in the entry below.',
        ],
        body: current,
      };
    case 'approval':
      return { lines: [`*Approval ${e.count ?? '?'} of ${e.required ?? '?'}* by ${mention(e.by)} ${when}, for payload version \`${escapeMrkdwn(e.version ?? '')}\`.`] };
    case 'approved':
      return {
        lines: [
          `*Approved* by ${mention(e.by)} ${when}${e.count ? ` (approval ${e.count} of ${e.required ?? e.count})` : ''}, for payload version \`${escapeMrkdwn(e.version ?? '')}\`. Sending it now${e.note === 'send now anyway' ? ', in the quiet hours (“send now anyway”)' : ''}.`,
        ],
      };
    case 'scheduled':
      return {
        lines: [
          e.note === 'quiet hours'
            ? `*Held for the quiet hours*: approved by ${mention(e.by)} ${when}${ctx.quietHours ? ` during the quiet hours (${formatQuietHours(ctx.quietHours)} ${escapeMrkdwn(ctx.quota.timezone)})` : ''}. It will be pushed ${slackDate(req.scheduledFor)}, when they end.`
            : `*Scheduled*: approved by ${mention(e.by)} ${when}, for payload version \`${escapeMrkdwn(e.version ?? '')}\`. It will be pushed ${slackDate(req.draft.sendAt)}.`,
        ],
      };
    case 'claimed':
      return {
        lines: [
          `*Sending* ${when}${
            e.note === 'send now anyway'
              ? ` (${mention(e.by)} chose “send now anyway”)`
              : `${e.note ? `, ${escapeMrkdwn(e.note)} s after its time` : ', at its scheduled time'}${e.by ? ` (by ${mention(e.by)})` : ''}`
          }.`,
        ],
      };
    case 'handed_back':
      return { lines: [`*Back to pending* ${when}: ${escapeMrkdwn(e.note ?? 'the approval did not complete')}. Nothing was pushed; it needs approval again.`] };
    case 'sent':
      return {
        lines: [
          `*Sent* ${when}: Tencent accepted the push. TaskId ${code(e.taskId ?? (r?.kind === 'sent' ? r.taskId : '?'))}.`,
          ...(e.note ? [`(${escapeMrkdwn(e.note)}.)`] : []),
          'Tencent delivers it to users over the next minutes.',
        ],
      };
    case 'failed':
      if (r?.kind !== 'failed') return { lines: [`*Failed* ${when}. Nothing was pushed.`] };
      return {
        lines: [
          `*Failed* ${when} — ${errorCode(r.code)}: ${escapeAndTruncate(r.explanation.title, 200)}. Nothing was pushed.`,
          ...whatHappened(r.explanation, r.info),
          ...whatToDo(r.explanation),
        ],
      };
    case 'unknown':
      return {
        lines: [
          `*Outcome unknown* ${when}: the push *may* have gone out.`,
          ...(r?.kind === 'unknown' ? [`*Why:* ${escapeAndTruncate(r.reason, 500)}`, ...whatHappened(r.explanation)] : []),
          `It left with MsgRandom ${code(String(req.body.MsgRandom))}${req.sendingAt ? ` at ${slackDate(req.sendingAt)}` : ''}: look for it among the all-member pushes in the Tencent Cloud IM console.`,
          ...(r?.kind === 'unknown' && r.explanation.action ? [`*What to do:* ${escapeAndTruncate(r.explanation.action, 900)}`] : []),
          'Then an approver presses “It went out” or “It did not go out” on the card. The app never pushes it again by itself.',
        ],
      };
    case 'marked_sent':
      return { lines: [`*Marked as sent* by ${mention(e.by)} ${when}, after checking the Tencent console${e.taskId ? `: TaskId ${code(e.taskId)}` : ''}.`] };
    case 'marked_not_sent':
      return { lines: [`*Marked as not sent* by ${mention(e.by)} ${when}, after checking the Tencent console. Nothing went out; the requester may ask again.`] };
    case 'rejected':
      return { lines: [`*Rejected* by ${mention(e.by)} ${when}. Nothing was pushed.`], literal: [['Reason', e.note ?? '(no reason given)']] };
    case 'expired':
      return { lines: [`*Expired* ${when}: nobody approved it in time. Nothing was pushed.`] };
    case 'cancelled':
      return { lines: [`*Cancelled* by ${mention(e.by)} ${when}. Nothing was pushed.`] };
    case 'late':
      return {
        lines: [`*Not pushed, too late* ${when}: its send time passed by ${escapeMrkdwn(e.note ?? '?')} s while the app was down. It needs approval again; the requester can edit the time.`],
      };
    case 'requested_again':
      return { lines: [`*Asked again* by ${mention(e.by)} ${when}, as request ${code(e.otherId ?? '?')} (${link(e.otherId ? ctx.links?.[e.otherId] : undefined, 'its card')}).`] };
    case 'delivery_ended': {
      const err = `\`${escapeMrkdwn(e.note ?? 'error')}\``;
      if (e.target === 'card') return { lines: [`*The card could not be updated* ${when}: Slack said ${err}. This thread has every event.`] };
      return { lines: [`*Could not message the requester* (${mention(req.requesterId)}) ${when}: Slack said ${err}. The card and this thread are up to date.`] };
    }
    default:
      return { lines: [`*${escapeMrkdwn(String(e.kind).replace(/_/g, ' '))}* ${when}.`] };
  }
}

/** The thread entry of history entry `index`. */
export function threadEntry(req: BroadcastRequest, index: number, ctx: ViewContext): SlackMessage {
  const e = req.history[index];
  if (!e) return { text: `Broadcast request ${req.id}: nothing recorded at position ${index}.`, blocks: [section(`Nothing recorded at position ${index} of request ${code(req.id)}.`)] };
  const entry = entryOf(req, e, ctx);
  const blocks: KnownBlock[] = [];
  if (ctx.sandbox) blocks.push(sandboxBlock());
  blocks.push(section(entry.lines.join('\n')));
  if (entry.literal) blocks.push(labelled(entry.literal));
  if (entry.body) blocks.push(...bodyBlocks(req));
  const reason = entry.literal?.[0] ? ` ${entry.literal[0][0]}: “${escapeMrkdwn(entry.literal[0][1])}”.` : '';
  const sandbox = ctx.sandbox ? ` (${SANDBOX_BANNER})` : '';
  return { text: truncate(`${fallbackOf(entry.lines[0]!)}${reason} Request ${req.id}.${sandbox}`, 3000), blocks };
}

/** A readable plain fallback from a mrkdwn line (see blocks.ts). */
export const plainFallback = fallbackOf;
