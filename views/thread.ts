// The card's thread is the append-only audit of a request: one entry per event, each with who and
// when. Submission and edits carry the exact im_push body and its sha256, so the channel history
// shows precisely what an approval covered.

import type { KnownBlock } from '@slack/types';
import { canonicalJson } from '../src/tim/push-body.js';
import type { BroadcastRequest, HistoryEntry } from '../src/broadcast/types.js';
import type { SlackMessage } from './approval-card.js';
import { SANDBOX_BANNER, type ViewContext } from './context.js';
import { code, errorCode, escapeAndTruncate, escapeMrkdwn, explanationLines, link, mention, slackDate, truncate } from './format.js';

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } });

function withBanner(ctx: ViewContext, blocks: KnownBlock[]): KnownBlock[] {
  return ctx.sandbox ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `🧪 *${SANDBOX_BANNER}*` }] }, ...blocks] : blocks;
}

/** The exact body as pushed (canonical JSON: keys sorted, no spaces) and the sha256 of exactly that text. */
export function bodyBlocks(req: BroadcastRequest): KnownBlock[] {
  return [
    { type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text: canonicalJson(req.body) }] }] } as KnownBlock,
    section(`sha256 of the JSON above: \`${req.payloadHash}\` · payload version \`${escapeMrkdwn(req.version)}\``),
  ];
}

function entryLines(req: BroadcastRequest, e: HistoryEntry, ctx: ViewContext): { lines: string[]; body?: boolean } {
  const when = slackDate(e.at);
  const r = req.result;
  switch (e.kind) {
    case 'submitted': {
      const lines = [`Submitted by ${mention(e.by)} ${when}. Needs ${req.requiredApprovals} approval${req.requiredApprovals === 1 ? '' : 's'} from someone other than the requester.`];
      if (e.otherId) lines.push(`Asked again from request ${code(e.otherId)} (${link(ctx.links?.[e.otherId], 'its card')}).`);
      return { lines: [...lines, ...(e.version === req.version ? ['The exact push this approval covers:'] : ['(This version was replaced by a later edit, below.)'])], body: e.version === req.version };
    }
    case 'edited':
      return {
        lines: [`Edited by ${mention(e.by)} ${when}. Every approval given so far is reset.`, ...(e.version === req.version ? ['The exact push now:'] : ['(Replaced again by a later edit, below.)'])],
        body: e.version === req.version,
      };
    case 'approval':
      return { lines: [`Approval ${e.count ?? '?'} of ${e.required ?? '?'} by ${mention(e.by)} ${when} (payload \`${escapeMrkdwn(e.version ?? '')}\`).`] };
    case 'approved':
      return { lines: [`Approved by ${mention(e.by)} ${when}${e.note ? ` (${escapeMrkdwn(e.note)})` : ''} — sending now.`] };
    case 'scheduled':
      return {
        lines: [
          e.note === 'quiet hours'
            ? `Approved by ${mention(e.by)} ${when} during quiet hours: held until ${slackDate(req.scheduledFor)}.`
            : `Approved by ${mention(e.by)} ${when}: scheduled for ${slackDate(req.draft.sendAt)}.`,
        ],
      };
    case 'claimed':
      return { lines: [`Sending ${when}${e.note ? ` (${escapeMrkdwn(e.note)})` : ''}.`] };
    case 'handed_back':
      return { lines: [`Back to pending ${when}: ${escapeMrkdwn(e.note ?? 'the approval did not complete')}. Nothing was pushed.`] };
    case 'sent':
      return {
        lines: [
          `Pushed ${when}. TaskId ${code(e.taskId ?? (r?.kind === 'sent' ? r.taskId : '?'), 200)}.`,
          ...(e.note ? [escapeMrkdwn(e.note)] : []),
          'Tencent delivers asynchronously, usually within a minute.',
        ],
      };
    case 'failed':
      if (r?.kind !== 'failed') return { lines: [`Failed ${when}. Nothing was pushed.`] };
      return {
        lines: [
          `Failed ${when} — ${errorCode(r.code)}: *${escapeAndTruncate(r.explanation.title, 200)}*. Nothing was pushed.`,
          ...explanationLines(r.explanation, 900),
          ...(r.info ? [`Tencent said: ${code(r.info, 500)}`] : []),
        ],
      };
    case 'unknown':
      return {
        lines: [
          `Outcome unknown ${when} — the push MAY have gone out.`,
          ...(r?.kind === 'unknown' ? [`Why: ${escapeAndTruncate(r.reason, 500)}`, ...explanationLines(r.explanation, 800)] : []),
          `MsgRandom ${code(String(req.body.MsgRandom))}${req.sendingAt ? `, sent to Tencent ${slackDate(req.sendingAt)}` : ''}.`,
          'An approver settles it with “It went out” or “It did not go out” on the card. The app will not push this again by itself.',
        ],
      };
    case 'marked_sent':
      return { lines: [`${mention(e.by)} marked it as sent ${when}${e.taskId ? ` (TaskId ${code(e.taskId)})` : ''}.`] };
    case 'marked_not_sent':
      return { lines: [`${mention(e.by)} marked it as not sent ${when}. The requester may ask again (a new request, a new approval).`] };
    case 'rejected':
      return { lines: [`Rejected by ${mention(e.by)} ${when}: ${escapeAndTruncate(e.note ?? '(no reason given)', 1000)}. Nothing was pushed.`] };
    case 'expired':
      return { lines: [`Expired ${when}: nobody approved it in time. Nothing was pushed.`] };
    case 'cancelled':
      return { lines: [`Cancelled by ${mention(e.by)} ${when}. Nothing was pushed.`] };
    case 'late':
      return { lines: [`The scheduled time passed by ${escapeMrkdwn(e.note ?? '?')} s while the app was down (${when}), so it was not pushed. It needs a new approval.`] };
    case 'requested_again':
      return { lines: [`Asked again ${when} as request ${code(e.otherId ?? '?')} (${link(e.otherId ? ctx.links?.[e.otherId] : undefined, 'its card')}).`] };
    case 'delivery_ended':
      return { lines: [`Could not send a direct message to the requester (${mention(req.requesterId)}): \`${escapeMrkdwn(e.note ?? 'error')}\`. The card and this thread are up to date.`] };
    default:
      return { lines: [`${escapeMrkdwn(e.kind)} ${when}.`] };
  }
}

/** The thread entry of history entry `index`. */
export function threadEntry(req: BroadcastRequest, index: number, ctx: ViewContext): SlackMessage {
  const e = req.history[index];
  if (!e) return { text: 'Update', blocks: [section('Update')] };
  const { lines, body } = entryLines(req, e, ctx);
  const blocks = withBanner(ctx, [section(lines.join('\n')), ...(body ? bodyBlocks(req) : [])]);
  return { text: truncate(plainFallback(lines[0] ?? e.kind), 3000), blocks };
}

/**
 * A readable fallback from a mrkdwn line: dates as their ISO fallback, links as their label, bold
 * and code marks dropped. Escapes stay escaped, so user text can never turn into a mention.
 */
export function plainFallback(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/[*`]/g, '');
}
