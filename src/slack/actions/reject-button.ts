import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildRejectModal, rejectSummary } from '../../../views/reject-modal.js';
import type { ListenerDeps } from '../deps.js';
import { rejectMetadata } from '../views/reject-submission.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/** Reject: check the clicker first, then ask for a reason in a modal (trigger_id lives 3 s). */
export function rejectButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    await deps.track(async () => {
      const pre = await deps.service.decisions.rejectable({
        requestId: click.requestId,
        version: click.version,
        userId: click.userId,
        isApprover: await deps.approvers.isApprover(click.userId),
      });
      if (!pre.ok) {
        await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(pre.refusal, pre.request));
        return;
      }
      const modal = buildRejectModal({ requestId: click.requestId, summary: rejectSummary(pre.request) });
      // The reason is for the version this card showed: an edit before it is submitted makes it stale.
      const view = { ...modal, private_metadata: rejectMetadata(click.requestId, click.version) };
      await deps.slack.viewsOpen({ trigger_id: click.triggerId, view });
    });
  };
}
