import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { buildRequestModal } from '../../../views/request-modal.js';
import { formatQuota } from '../../../views/format.js';
import type { ListenerDeps } from '../deps.js';

const HELP = [
  '*/broadcast* opens a form to request a Tencent IM push; an approver in the approvals channel must approve it before anything is sent.',
  '• `/broadcast` — open the request form',
  '• `/broadcast <text>` — open the form with the message filled in',
  '• `/broadcast quota` — pushes used and left today',
  '• `/broadcast help` — this help',
].join('\n');

/** `/broadcast [text]`: ack at once (trigger_id lives 3 s), then open the request modal. */
export function broadcastCommand(deps: ListenerDeps) {
  return async ({ ack, command, client, respond }: AllMiddlewareArgs & SlackCommandMiddlewareArgs) => {
    const text = command.text.trim();
    if (text === 'help') return ack({ response_type: 'ephemeral', text: HELP });
    if (text === 'quota') {
      await ack();
      const quota = await deps.service.quotaStatus();
      await respond({ response_type: 'ephemeral', text: formatQuota(quota) });
      return;
    }
    await ack();
    try {
      const [quota, attributeNames] = await Promise.all([deps.service.quotaStatus(), deps.attributeNames().catch(() => [])]);
      await client.views.open({
        trigger_id: command.trigger_id,
        view: buildRequestModal({
          prefill: text ? { message: text } : {},
          quota,
          attributeNames,
          privateMetadata: JSON.stringify({ channelId: command.channel_id }),
        }) as never,
      });
    } catch (error) {
      deps.logger.error('cannot open the request form', { error, user: command.user_id });
      await respond({
        response_type: 'ephemeral',
        text: '⚠️ The broadcast form could not be opened right now (the request store or Slack did not answer). Nothing was recorded; please try again in a minute.',
      }).catch(() => undefined);
    }
  };
}
