import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildMarkSentModal } from '../../../views/mark-sent-modal.js';
import type { ListenerDeps } from '../deps.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/** "It went out": an approver opens a modal for the optional TaskId read from the Tencent console. */
export function markSentButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    await deps.track(async () => {
      const [request, isApprover] = await Promise.all([deps.service.get(click.requestId).catch(() => undefined), deps.approvers.isApprover(click.userId)]);
      const refusal = !request ? 'unknown_request' : !isApprover ? 'not_approver' : request.state !== 'unknown' ? 'not_unknown' : undefined;
      if (refusal || !request) {
        await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(refusal ?? 'unknown_request', request));
        return;
      }
      await deps.slack.viewsOpen({ trigger_id: click.triggerId, view: buildMarkSentModal(request) });
    });
  };
}
