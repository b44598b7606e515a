import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { prefillFromDraft } from '../../../views/request-modal.js';
import type { ListenerDeps } from '../deps.js';
import { requestFormView } from '../request-form.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/** Request again: the requester opens the form filled in from an ended request; it becomes a new one. */
export function requestAgainButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    await deps.track(async () => {
      const pre = await deps.service.decisions.againSource({ requestId: click.requestId, userId: click.userId });
      if (!pre.ok) {
        await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(pre.refusal, pre.request));
        return;
      }
      const { sendAt: _old, ...draft } = pre.request.draft;
      const view = await requestFormView(deps, { mode: 'again', prefill: prefillFromDraft(draft), privateMetadata: JSON.stringify({ mode: 'again', requestId: pre.request.id }) });
      await deps.slack.viewsOpen({ trigger_id: click.triggerId, view });
    });
  };
}
