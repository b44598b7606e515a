import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { refusalText } from '../../../views/replies.js';
import type { ListenerDeps } from '../deps.js';

function requestIdOf(privateMetadata: string): string {
  try {
    const parsed = JSON.parse(privateMetadata) as { requestId?: unknown };
    return typeof parsed.requestId === 'string' ? parsed.requestId : '';
  } catch {
    return '';
  }
}

/** The reject-reason modal was submitted: record the rejection (or say why not, in the modal). */
export function rejectSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    const reason = String((view.state.values.reason?.reason as { value?: string | null } | undefined)?.value ?? '').trim();
    if (!reason) return ack({ response_action: 'errors', errors: { reason: 'Say why, so the requester can fix it.' } });
    const userId = body.user.id;
    const result = await deps.service.decisions.reject({
      requestId: requestIdOf(view.private_metadata),
      userId,
      reason,
      isApprover: await deps.approvers.isApprover(userId),
    });
    if (!result.ok) return ack({ response_action: 'errors', errors: { reason: refusalText(result.refusal, result.request ? { request: result.request } : {}) } });
    await ack();
  };
}
