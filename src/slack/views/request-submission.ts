import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { blockErrors, draftFromModal } from '../modal-input.js';
import type { ListenerDeps } from '../deps.js';

/**
 * The request form was submitted: check the modal's own rules and every push rule,
 * answer errors at the block where they happened (nothing stored), or store and ack.
 */
export function requestSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    const parsed = draftFromModal(view.state.values as never);
    if (!parsed.ok) return ack({ response_action: 'errors', errors: parsed.errors });
    let submitted;
    try {
      submitted = await deps.service.submit({ requesterId: body.user.id, teamId: body.team?.id ?? body.user.team_id, draft: parsed.draft });
    } catch (error) {
      deps.logger.error('cannot store the broadcast request', { error, user: body.user.id });
      return ack({
        response_action: 'errors',
        errors: { message: 'The request could not be recorded right now (the store did not answer). Nothing was saved; please try again in a minute.' },
      });
    }
    if (!submitted.ok) return ack({ response_action: 'errors', errors: blockErrors(submitted.errors) });
    await ack();
    await deps.track(() => deps.notifier.deliver(submitted.request.id));
  };
}
