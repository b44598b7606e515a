// Modal an approver fills in after checking the Tencent console: the push went out (TaskId optional).

import type { KnownBlock } from '@slack/types';
import type { BroadcastRequest } from '../src/broadcast/types.js';
import { buttonValue } from './context.js';
import { code, slackDate } from './format.js';
import type { ModalView } from './request-modal.js';

export const MARK_SENT_CALLBACK_ID = 'mark_sent';
export const MARK_SENT_TASK_ID = 'task_id';

export function buildMarkSentModal(req: BroadcastRequest): ModalView {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `Request ${code(req.id)} (MsgRandom ${code(String(req.body.MsgRandom))}) may have been pushed${req.sendingAt ? ` around ${slackDate(req.sendingAt)}` : ''}. Mark it as sent only if the Tencent Cloud IM console shows that push.`,
      },
    },
    {
      type: 'input',
      block_id: MARK_SENT_TASK_ID,
      optional: true,
      label: { type: 'plain_text', text: 'TaskId from the console (optional)' },
      hint: { type: 'plain_text', text: 'Recorded in the history and shown on the card.' },
      element: { type: 'plain_text_input', action_id: MARK_SENT_TASK_ID, max_length: 200 },
    },
  ];
  return {
    type: 'modal',
    callback_id: MARK_SENT_CALLBACK_ID,
    private_metadata: JSON.stringify({ value: buttonValue(req) }),
    title: { type: 'plain_text', text: 'It went out' },
    submit: { type: 'plain_text', text: 'Mark as sent' },
    close: { type: 'plain_text', text: 'Back' },
    blocks,
  };
}
