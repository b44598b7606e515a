import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/** "It did not go out" (after a confirm dialog): an approver settles an unknown outcome. */
export function markNotSentButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    await deps.track(async () => {
      const result = await deps.service.decisions.resolveUnknown({
        requestId: click.requestId,
        userId: click.userId,
        isApprover: await deps.approvers.isApprover(click.userId),
        wentOut: false,
      });
      if (!result.ok) await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(result.refusal, result.request));
    });
  };
}
