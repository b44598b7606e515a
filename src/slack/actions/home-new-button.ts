import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildRequestModal } from '../../../views/request-modal.js';
import type { ListenerDeps } from '../deps.js';

/** "New broadcast" on the Home tab opens the request form. */
export function homeNewButton(deps: ListenerDeps) {
  return async ({ ack, body, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    await deps.track(async () => {
      const [ctx, attributeNames] = await Promise.all([deps.viewContext(), deps.attributeNames()]);
      await client.views.open({
        trigger_id: body.trigger_id,
        view: buildRequestModal({ mode: 'new', quota: ctx.quota, attributeNames: attributeNames ?? [], privateMetadata: JSON.stringify({ mode: 'new' }) }) as never,
      });
    });
  };
}
