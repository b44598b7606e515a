import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { refusalText } from '../../../views/replies.js';
import type { ListenerDeps } from '../deps.js';

/** The reject modal's private_metadata: the request and the payload version of the card it was opened from. */
export function rejectMetadata(requestId: string, version: string): string {
  return JSON.stringify({ requestId, ...(version ? { version } : {}) });
}

function targetOf(privateMetadata: string): { requestId: string; version?: string } {
  try {
    const parsed = JSON.parse(privateMetadata) as { requestId?: unknown; version?: unknown };
    return {
      requestId: typeof parsed.requestId === 'string' ? parsed.requestId : '',
      ...(typeof parsed.version === 'string' && parsed.version ? { version: parsed.version } : {}),
    };
  } catch {
    return { requestId: '' };
  }
}

/** The reject-reason modal was submitted: record the rejection (or say why not, in the modal). */
export function rejectSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    const reason = String((view.state.values.reason?.reason as { value?: string | null } | undefined)?.value ?? '').trim();
    if (!reason) return ack({ response_action: 'errors', errors: { reason: 'Say why, so the requester can fix it.' } });
    const userId = body.user.id;
    const result = await deps.service.decisions.reject({
      ...targetOf(view.private_metadata),
      userId,
      reason,
      isApprover: await deps.approvers.isApprover(userId),
    });
    if (!result.ok) return ack({ response_action: 'errors', errors: { reason: refusalText(result.refusal, result.request ? { request: result.request } : {}) } });
    await ack();
  };
}
