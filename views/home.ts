// App Home tab: today's quota and the most recent requests.

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest, QuotaStatus } from '../src/broadcast/types.js';
import { audienceShort, escapeAndTruncate, formatQuota, mention, quotaExhausted, slackDate, stateLabel } from './format.js';

export const HOME_RECENT_LIMIT = 10;
const GAUGE_CELLS = 10;

/** "▰▰▰▱▱▱▱▱▱▱ 30 of 100" */
export function quotaGauge(q: QuotaStatus): string {
  const exhausted = quotaExhausted(q);
  const ratio = exhausted ? 1 : q.limit > 0 ? Math.min(1, Math.max(0, q.used / q.limit)) : 1;
  // Never show a full gauge unless the quota really is used up, nor an empty one once something was used.
  let filled = Math.round(ratio * GAUGE_CELLS);
  if (!exhausted && filled === GAUGE_CELLS) filled = GAUGE_CELLS - 1;
  if (q.used > 0 && filled === 0) filled = 1;
  return `${'▰'.repeat(filled)}${'▱'.repeat(GAUGE_CELLS - filled)} ${q.used} of ${q.limit}`;
}

function recentLine(r: BroadcastRequest): string {
  const preview = escapeAndTruncate(r.draft.message.replace(/\s+/g, ' ').trim(), 120);
  return `${stateLabel(r.state)} · ${slackDate(r.createdAt)} · from ${mention(r.requesterId)} to *${audienceShort(r.draft.audience)}*\n> ${preview || '(empty message)'}`;
}

export function buildHome(o: {
  quota: QuotaStatus;
  recent: BroadcastRequest[];
  isApprover: boolean;
}): { type: 'home'; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: '📣 Broadcasts', emoji: true } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*Today's pushes:* \`${quotaGauge(o.quota)}\`\n${formatQuota(o.quota)}` },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: o.isApprover
            ? 'You are an approver: approve or reject requests on their cards in the approvals channel. You cannot approve your own.'
            : 'Type /broadcast to request a push. An approver must approve it before anything is sent.',
        },
      ],
    },
    { type: 'divider' },
    { type: 'section', text: { type: 'mrkdwn', text: '*Recent requests*' } },
  ];
  const recent = [...o.recent]
    .sort((a, b) => (Date.parse(b.createdAt) || 0) - (Date.parse(a.createdAt) || 0))
    .slice(0, HOME_RECENT_LIMIT);
  if (!recent.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'No broadcast requests yet.' }] });
  }
  for (const r of recent) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: recentLine(r) } });
  return { type: 'home', blocks };
}
