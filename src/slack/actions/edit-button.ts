import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { prefillFromDraft } from '../../../views/request-modal.js';
import type { ListenerDeps } from '../deps.js';
import { requestFormView } from '../request-form.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/** Edit: the requester reopens the form filled in with the request as it stands. */
export function editButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    await deps.track(async () => {
      const pre = await deps.service.decisions.editSource({ requestId: click.requestId, userId: click.userId, version: click.version });
      if (!pre.ok) {
        await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(pre.refusal, pre.request));
        return;
      }
      const view = await requestFormView(deps, {
        mode: 'edit',
        prefill: prefillFromDraft(pre.request.draft),
        privateMetadata: JSON.stringify({ mode: 'edit', requestId: pre.request.id, version: pre.request.version }),
      });
      await deps.slack.viewsOpen({ trigger_id: click.triggerId, view });
    });
  };
}
