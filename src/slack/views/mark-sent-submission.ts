import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { parseButtonValue } from '../../../views/context.js';
import { MARK_SENT_TASK_ID } from '../../../views/mark-sent-modal.js';
import { refusalText } from '../../../views/replies.js';
import type { ListenerDeps } from '../deps.js';

/** "It went out" was confirmed, with an optional TaskId: record the resolution (or say why not, in the modal). */
export function markSentSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    let value = '';
    try {
      value = String((JSON.parse(view.private_metadata) as { value?: unknown }).value ?? '');
    } catch {
      /* an unreadable form names no request */
    }
    const { requestId } = parseButtonValue(value);
    const taskId = String((view.state.values[MARK_SENT_TASK_ID]?.[MARK_SENT_TASK_ID] as { value?: string | null } | undefined)?.value ?? '').trim();
    if (taskId && !/^[\w.:-]{1,200}$/.test(taskId)) {
      return ack({ response_action: 'errors', errors: { [MARK_SENT_TASK_ID]: 'A TaskId has letters, digits, “_”, “-”, “.” or “:” only; copy it from the console.' } });
    }
    const result = await deps.service.decisions.resolveUnknown({
      requestId,
      userId: body.user.id,
      isApprover: await deps.approvers.isApprover(body.user.id),
      wentOut: true,
      ...(taskId ? { taskId } : {}),
    });
    if (!result.ok) return ack({ response_action: 'errors', errors: { [MARK_SENT_TASK_ID]: refusalText(result.refusal, result.request ? { request: result.request } : {}) } });
    await ack();
  };
}
