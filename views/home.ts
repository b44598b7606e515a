// App Home: a New broadcast button, today's quota, what is waiting, and the latest broadcasts,
// each linking to its card. The Home tab is visible to every member of the workspace: approvers
// see everything, anyone else only their own requests and the quota.

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest, QuotaStatus } from '../src/broadcast/types.js';
import { firstWords, reachesEveryone } from './approval-card.js';
import { SLACK_LIMITS, button, context, sandboxBlock, section } from './blocks.js';
import { ACTIONS } from './context.js';
import { audienceShort, code, escapeMrkdwn, link, mention, quotaExhausted, quotaLeft, resetClock, slackDate, stateLabel, truncate } from './format.js';

export const HOME_RECENT_LIMIT = 20;
export const HOME_OPEN_LIMIT = 15;
const GAUGE_CELLS = 10;

/** "▰▰▰▱▱▱▱▱▱▱": full only when the quota really is used up; any use shows at least one cell. */
export function quotaGauge(q: QuotaStatus): string {
  const exhausted = quotaExhausted(q);
  const ratio = exhausted ? 1 : q.limit > 0 ? Math.min(1, Math.max(0, q.used / q.limit)) : 1;
  let filled = Math.round(ratio * GAUGE_CELLS);
  if (!exhausted && filled === GAUGE_CELLS) filled = GAUGE_CELLS - 1;
  if (q.used > 0 && filled === 0) filled = 1;
  return `${'▰'.repeat(filled)}${'▱'.repeat(GAUGE_CELLS - filled)}`;
}

/** The quota in words: used, left, when it resets (in the quota time zone). */
export function quotaWords(q: QuotaStatus): string {
  const reset = `resets at ${resetClock(q)} ${escapeMrkdwn(q.timezone)} (${slackDate(q.resetsAt, '{time}')} your time)`;
  if (quotaExhausted(q)) {
    const why = q.used < q.limit ? ` (Tencent refused further pushes; ${q.used} of ${q.limit} counted here)` : ` (${q.used} of ${q.limit})`;
    return `*Used up for today*${why}; it ${reset}.`;
  }
  return `*${q.used} of ${q.limit} used, ${quotaLeft(q)} left* today (${escapeMrkdwn(q.day)}); it ${reset}.`;
}

/** Who decided it, in the words of its state. */
function deciders(r: BroadcastRequest): string | undefined {
  const approvers = r.approvals.map((a) => mention(a.userId)).join(', ');
  switch (r.state) {
    case 'rejected':
      return `rejected by ${mention(r.decision?.by)}`;
    case 'cancelled':
      return `cancelled by ${mention(r.decision?.by)}`;
    case 'not_sent':
      return `${approvers ? `approved by ${approvers}, ` : ''}marked not sent by ${mention(r.resolution?.by)}`;
    default:
      return approvers ? `approved by ${approvers}` : undefined;
  }
}

function requestLine(r: BroadcastRequest): string {
  const to = reachesEveryone(r) ? 'everyone' : audienceShort(r.draft.audience);
  const taskId = r.result?.kind === 'sent' ? r.result.taskId : r.resolution?.taskId;
  const title = link(r.card?.permalink, `“${escapeMrkdwn(firstWords(r.draft.message, 60))}”`);
  const facts = [
    `${code(r.id)} from ${mention(r.requesterId)} ${slackDate(r.createdAt)}`,
    deciders(r),
    taskId ? `TaskId ${code(taskId)}` : undefined,
    r.state === 'failed' && r.result?.kind === 'failed' && r.result.code !== null ? `error ${r.result.code}` : undefined,
    r.state === 'scheduled' ? `goes out ${slackDate(r.scheduledFor)}` : undefined,
    r.state === 'pending' ? `expires ${slackDate(r.expiresAt)}` : undefined,
  ].filter(Boolean);
  return truncate(`*${stateLabel(r.state)}* · ${title} · to ${to}${r.card?.permalink ? '' : ' (card not posted yet)'}\n${facts.join(' · ')}`, SLACK_LIMITS.sectionText);
}

export function buildHome(o: {
  quota: QuotaStatus;
  open: BroadcastRequest[];
  recent: BroadcastRequest[];
  isApprover: boolean;
  sandbox?: boolean;
  /** Who is looking: a non-approver is shown only their own requests, whatever the lists hold. */
  viewerId?: string;
}): { type: 'home'; blocks: KnownBlock[] } {
  const own = (rs: BroadcastRequest[]) => (o.isApprover || !o.viewerId ? rs : rs.filter((r) => r.requesterId === o.viewerId));
  const open = own(o.open).slice(0, HOME_OPEN_LIMIT);
  const recent = own(o.recent).slice(0, HOME_RECENT_LIMIT);

  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Broadcasts', emoji: false } }];
  if (o.sandbox) blocks.push(sandboxBlock());
  blocks.push({
    type: 'actions',
    block_id: 'home_actions',
    elements: [{ ...button({ actionId: ACTIONS.homeNew, text: 'New broadcast', value: 'new', label: 'Open the form to request a new broadcast' }), style: 'primary' }],
  });
  blocks.push(section(`*Today’s pushes* \`${quotaGauge(o.quota)}\`\n${quotaWords(o.quota)}`));
  blocks.push(
    context(
      o.isApprover
        ? 'You are an approver: you see every request. Decide on the cards in the approvals channel (never on your own requests).'
        : 'You see your own requests. An approver must approve each one before anything is sent.',
    ),
  );

  blocks.push({ type: 'divider' }, { type: 'header', text: { type: 'plain_text', text: o.isApprover ? 'Waiting' : 'Your requests waiting', emoji: false } });
  if (!open.length) blocks.push(context('Nothing is waiting.'));
  for (const r of open) blocks.push(section(requestLine(r)));

  blocks.push(
    { type: 'divider' },
    { type: 'header', text: { type: 'plain_text', text: o.isApprover ? `Latest ${HOME_RECENT_LIMIT} broadcasts` : `Your latest ${HOME_RECENT_LIMIT} broadcasts`, emoji: false } },
  );
  if (!recent.length) blocks.push(context(o.isApprover ? 'No broadcast requests yet.' : 'You have no broadcast requests yet. Press “New broadcast” to ask for one.'));
  for (const r of recent) blocks.push(section(requestLine(r)));
  return { type: 'home', blocks: blocks.slice(0, SLACK_LIMITS.viewBlocks) };
}
