import type { BlockButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Refusal } from '../../broadcast/service.js';
import type { BroadcastRequest, QuotaStatus } from '../../broadcast/types.js';
import { decisionRefused } from '../../../views/result-messages.js';
import type { ListenerDeps } from '../deps.js';

/** Tell the clicker, privately, why their click changed nothing. */
export async function tellRefusal(
  deps: ListenerDeps,
  client: WebClient,
  where: { channel: string; user: string },
  refusal: Refusal,
  request?: BroadcastRequest,
  quota?: QuotaStatus,
): Promise<void> {
  const text = decisionRefused(refusal, {
    ...(request ? { state: request.state, ...(request.decision ? { by: request.decision.by } : {}) } : {}),
    ...(quota ? { quota } : {}),
  });
  try {
    await client.chat.postEphemeral({ channel: where.channel, user: where.user, text });
  } catch (error) {
    deps.logger.warn('cannot tell the clicker why nothing changed', { error, refusal, user: where.user });
  }
}

/** Who clicked (from the signed payload), where, and on which request (the button's value). */
export function clickOf(deps: ListenerDeps, body: BlockButtonAction, action: { value?: string }): { userId: string; channel: string; requestId: string } {
  return {
    userId: body.user.id,
    channel: body.channel?.id ?? body.container?.channel_id ?? deps.approvalChannel,
    requestId: String(action.value ?? ''),
  };
}
