import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { clickOf, refusalFor, tellPrivately } from './click.js';

/**
 * Approve (or "send now anyway" during quiet hours). The clicker comes from the signed payload;
 * the button names the request and the payload version the card showed. The domain decides
 * atomically and records what people must be told; the push, if this was the last approval, runs once.
 */
export function approveButton(deps: ListenerDeps, o: { sendNow: boolean }) {
  return async ({ ack, body, action, client, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const click = clickOf(deps, body, action);
    // Tracked from the ack on, so idle()/stop() also wait for a decision (and push) still being made.
    await deps.track(async () => {
      const result = await deps.service.decisions.approve({
        requestId: click.requestId,
        version: click.version,
        userId: click.userId,
        isApprover: await deps.approvers.isApprover(click.userId),
        sendNow: o.sendNow,
      });
      if (!result.ok) {
        await tellPrivately(deps, { respond, client, channel: click.channel, user: click.userId }, refusalFor(result.refusal, result.request, result.quota));
        return;
      }
      await result.pushed;
    });
  };
}
