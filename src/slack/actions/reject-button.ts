import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildRejectModal, rejectSummary } from '../../../views/reject-modal.js';
import type { ListenerDeps } from '../deps.js';
import { tellRefusal } from './refusal.js';

/** Reject: check the clicker first, then ask for a reason in a modal. */
export function rejectButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const userId = body.user.id;
    const channel = body.channel?.id ?? body.container?.channel_id ?? deps.approvalChannel;
    const requestId = String(action.value ?? '');
    // Tracked from the ack on, so idle()/stop() also wait for the refusal or the modal.
    const work = (async () => {
      const pre = await deps.service.precheck({ requestId, userId, isApprover: await deps.approvers.isApprover(userId) });
      if (!pre.ok) {
        await tellRefusal(deps, client, { channel, user: userId }, pre.refusal, pre.request);
        return;
      }
      await client.views.open({
        trigger_id: body.trigger_id,
        view: buildRejectModal({ requestId, summary: rejectSummary(pre.request) }) as never,
      });
    })();
    deps.background(work);
    await work;
  };
}
