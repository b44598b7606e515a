import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { requestFormView } from '../request-form.js';

/** "New broadcast" on the Home tab opens the request form. */
export function homeNewButton(deps: ListenerDeps) {
  return async ({ ack, body }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    await deps.track(async () => {
      const view = await requestFormView(deps, { mode: 'new', privateMetadata: JSON.stringify({ mode: 'new' }) });
      await deps.slack.viewsOpen({ trigger_id: body.trigger_id, view });
    });
  };
}
