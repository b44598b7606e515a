import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildRejectModal, rejectSummary } from '../../../views/reject-modal.js';
import type { ListenerDeps } from '../deps.js';
import { clickOf, tellRefusal } from './refusal.js';

/** Reject: check the clicker first, then ask for a reason in a modal. */
export function rejectButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const { userId, channel, requestId } = clickOf(deps, body, action);
    // Tracked from the ack on, so idle()/stop() also wait for the refusal or the modal.
    await deps.track(async () => {
      const pre = await deps.service.precheck({ requestId, userId, isApprover: await deps.approvers.isApprover(userId) });
      if (!pre.ok) {
        await tellRefusal(deps, client, { channel, user: userId }, pre.refusal, pre.request);
        return;
      }
      await client.views.open({
        trigger_id: body.trigger_id,
        view: buildRejectModal({ requestId, summary: rejectSummary(pre.request) }) as never,
      });
    });
  };
}
