// Modal asking an approver why they reject a request. The reason is shown to the requester.

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest } from '../src/broadcast/types.js';
import type { ModalView } from './request-modal.js';
import { audienceShort, charCount, escapeAndTruncate, mention, truncate } from './format.js';

export const REJECT_MODAL_CALLBACK_ID = 'reject_reason';
export const REJECT_REASON_ID = 'reason';
export const REJECT_REASON_MAX = 1000;

/** A safe mrkdwn summary of a request for the reject modal (escaped, short). */
export function rejectSummary(req: BroadcastRequest): string {
  const n = charCount(req.draft.message);
  return `Broadcast from ${mention(req.requesterId)} to *${audienceShort(req.draft.audience)}* (${n} characters):\n> ${escapeAndTruncate(req.draft.message.replace(/\s+/g, ' '), 300)}`;
}

/**
 * `summary` is mrkdwn written by the app (use rejectSummary); it is not escaped again here.
 */
export function buildRejectModal(o: { requestId: string; summary: string }): ModalView {
  const blocks: KnownBlock[] = [];
  if (o.summary) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(o.summary, 3000) } });
  blocks.push({
    type: 'input',
    block_id: REJECT_REASON_ID,
    label: { type: 'plain_text', text: 'Why are you rejecting it?' },
    hint: { type: 'plain_text', text: 'The requester sees this reason. Nothing is pushed.' },
    optional: false,
    element: {
      type: 'plain_text_input',
      action_id: REJECT_REASON_ID,
      multiline: true,
      max_length: REJECT_REASON_MAX,
    },
  });
  return {
    type: 'modal',
    callback_id: REJECT_MODAL_CALLBACK_ID,
    private_metadata: JSON.stringify({ requestId: o.requestId }),
    title: { type: 'plain_text', text: 'Reject broadcast' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}
