import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/** Cancel: the requester withdraws a pending request; a scheduled one, the requester or an approver. */
export function cancelButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    await deps.track(async () => {
      const result = await deps.service.decisions.cancel({ requestId: click.requestId, userId: click.userId, isApprover: await deps.approvers.isApprover(click.userId) });
      if (!result.ok) await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(result.refusal, result.request));
    });
  };
}
