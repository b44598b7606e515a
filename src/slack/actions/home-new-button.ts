import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { requestFormView } from '../request-form.js';
import { asJson } from '../wire.js';

/** "New broadcast" on the Home tab opens the request form. */
export function homeNewButton(deps: ListenerDeps) {
  return async ({ ack, body, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    await deps.track(async () => {
      const view = await requestFormView(deps, { mode: 'new', privateMetadata: JSON.stringify({ mode: 'new' }) });
      await client.views.open({ trigger_id: body.trigger_id, view: asJson(view) });
    });
  };
}
