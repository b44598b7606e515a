import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { clickOf, tellRefusal } from './refusal.js';

/**
 * Approve: the clicker comes from the signed payload (never from the button value), the
 * button value is only the request id. The domain decides atomically; the push runs once.
 */
export function approveButton(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const { userId, channel, requestId } = clickOf(deps, body, action);
    // Tracked from the ack on, so idle()/stop() also wait for a decision (and push) still being made.
    await deps.track(async () => {
      const result = await deps.service.approve({ requestId, userId, isApprover: await deps.approvers.isApprover(userId) });
      if (!result.ok) {
        await tellRefusal(deps, client, { channel, user: userId }, result.refusal, result.request, result.quota);
        return;
      }
      // Show "approved, sending" at once, then the final state when the push is done.
      await deps.notifier.deliver(requestId);
      await result.sent.catch(() => undefined);
      await deps.notifier.deliver(requestId);
    });
  };
}
