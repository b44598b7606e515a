// App Home: a New broadcast button, today's quota, what is waiting, and the latest broadcasts.
// The Home tab is visible to every member: approvers see everything, anyone else only their own.

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest, QuotaStatus } from '../src/broadcast/types.js';
import { firstWords, reachesEveryone } from './approval-card.js';
import { ACTIONS, SANDBOX_BANNER } from './context.js';
import { audienceShort, code, escapeMrkdwn, formatQuota, link, mention, quotaExhausted, slackDate, stateLabel, truncate } from './format.js';

export const HOME_RECENT_LIMIT = 20;
const GAUGE_CELLS = 10;

/** "▰▰▰▱▱▱▱▱▱▱ 30 of 100": full only when the quota really is used up. */
export function quotaGauge(q: QuotaStatus): string {
  const exhausted = quotaExhausted(q);
  const ratio = exhausted ? 1 : q.limit > 0 ? Math.min(1, Math.max(0, q.used / q.limit)) : 1;
  let filled = Math.round(ratio * GAUGE_CELLS);
  if (!exhausted && filled === GAUGE_CELLS) filled = GAUGE_CELLS - 1;
  if (q.used > 0 && filled === 0) filled = 1;
  return `${'▰'.repeat(filled)}${'▱'.repeat(GAUGE_CELLS - filled)} ${q.used} of ${q.limit}`;
}

function line(r: BroadcastRequest): string {
  const to = reachesEveryone(r) ? 'everyone' : audienceShort(r.draft.audience);
  const taskId = r.result?.kind === 'sent' ? r.result.taskId : r.resolution?.taskId;
  const approver = r.approvals.at(-1)?.userId ?? r.decision?.by;
  const parts = [
    `*${stateLabel(r.state)}* · ${link(r.card?.permalink, escapeMrkdwn(`“${firstWords(r.draft.message, 50)}”`))} · to ${to}`,
    `from ${mention(r.requesterId)} ${slackDate(r.createdAt)}${approver && approver !== 'system' ? ` · approved/decided by ${mention(approver)}` : ''}${taskId ? ` · TaskId ${code(taskId, 80)}` : ''}${r.state === 'scheduled' ? ` · goes out ${slackDate(r.scheduledFor)}` : ''}`,
  ];
  return truncate(parts.join('\n'), 3000);
}

export function buildHome(o: {
  quota: QuotaStatus;
  open: BroadcastRequest[];
  recent: BroadcastRequest[];
  isApprover: boolean;
  sandbox?: boolean;
}): { type: 'home'; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Broadcasts', emoji: false } }];
  if (o.sandbox) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `🧪 *${SANDBOX_BANNER}*` }] });
  blocks.push({
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: ACTIONS.homeNew,
        text: { type: 'plain_text', text: 'New broadcast' },
        style: 'primary',
        accessibility_label: 'Open the form to request a new broadcast',
      },
    ],
  });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Today's pushes:* \`${quotaGauge(o.quota)}\`\n${formatQuota(o.quota)}` } });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: o.isApprover
          ? 'You are an approver: you see every request. Approve or reject on the cards in the approvals channel (never your own).'
          : 'You see your own requests. An approver must approve each one before anything is sent.',
      },
    ],
  });
  blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: '*Waiting*' } });
  if (!o.open.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Nothing is waiting.' }] });
  for (const r of o.open.slice(0, 15)) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: line(r) } });
  blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: `*Latest ${HOME_RECENT_LIMIT} broadcasts*` } });
  if (!o.recent.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'No broadcast requests yet.' }] });
  for (const r of o.recent.slice(0, HOME_RECENT_LIMIT)) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: line(r) } });
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
