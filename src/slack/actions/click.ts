import type { BlockButtonAction, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { BroadcastRequest, QuotaStatus, Refusal } from '../../broadcast/types.js';
import { parseButtonValue } from '../../../views/context.js';
import { refusalText } from '../../../views/replies.js';
import type { ListenerDeps } from '../deps.js';

/** Who clicked (from the signed payload, never the button), where, and which request and payload version the card showed. */
export interface Click {
  userId: string;
  channel: string;
  requestId: string;
  version: string;
  triggerId: string;
}

export function clickOf(deps: ListenerDeps, body: BlockButtonAction, action: { value?: string }): Click {
  const { requestId, version } = parseButtonValue(action.value);
  return {
    userId: body.user.id,
    channel: body.channel?.id ?? body.container?.channel_id ?? deps.approvalChannel,
    requestId,
    version,
    triggerId: body.trigger_id,
  };
}

/**
 * Tell one person, privately, why their action changed nothing. Through the interaction's
 * response_url when there is one (it reaches the clicker even where the bot is not a channel
 * member); chat.postEphemeral otherwise.
 */
export async function tellPrivately(
  deps: ListenerDeps,
  o: { respond?: RespondFn | undefined; client: WebClient; channel?: string; user: string },
  text: string,
): Promise<void> {
  try {
    if (o.respond) {
      await o.respond({ response_type: 'ephemeral', replace_original: false, text });
      return;
    }
  } catch (error) {
    deps.logger.warn('could not answer through response_url; trying an ephemeral message', { error, user: o.user });
  }
  try {
    if (o.channel) await o.client.chat.postEphemeral({ channel: o.channel, user: o.user, text });
  } catch (error) {
    deps.logger.warn('could not tell the person why nothing changed', { error, user: o.user });
  }
}

export function refusalFor(refusal: Refusal, request?: BroadcastRequest, quota?: QuotaStatus): string {
  return refusalText(refusal, { ...(request ? { request } : {}), ...(quota ? { quota } : {}) });
}
