import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { fitErrors } from '../../../views/fit.js';
import { refusalText } from '../../../views/replies.js';
import { blockErrors, draftFromModal, type StateValues } from '../modal-input.js';
import type { ListenerDeps } from '../deps.js';

/** What the form was opened for, as its private_metadata says. */
export function formPurpose(privateMetadata: string): { mode: 'new' | 'edit' | 'again'; requestId?: string } {
  try {
    const m = JSON.parse(privateMetadata) as { mode?: unknown; requestId?: unknown };
    const mode = m.mode === 'edit' || m.mode === 'again' ? m.mode : 'new';
    return { mode, ...(typeof m.requestId === 'string' ? { requestId: m.requestId } : {}) };
  } catch {
    return { mode: 'new' };
  }
}

/**
 * The request form was submitted (new, edit or request again): check the form's own rules, every
 * push rule, the send time and whether the card can show it all, in one pass, and answer every
 * error at the block where it happened (nothing stored); or store the request (or the edit) and
 * close the form. The domain checks again when it stores; the notifier posts the card.
 */
export function requestSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    const purpose = formPurpose(view.private_metadata);
    const [attributeNames, ctx] = await Promise.all([deps.attributeNames().catch(() => undefined), deps.viewContext().catch(() => undefined)]);
    const parsed = draftFromModal(view.state.values as StateValues, {
      attributeNames,
      sendAtErrors: (d) => deps.service.decisions.sendAtErrors(d),
      ...(ctx ? { fitErrors: (d, b) => fitErrors(d, b, ctx) } : {}),
    });
    if (!parsed.ok) return ack({ response_action: 'errors', errors: parsed.errors });
    const userId = body.user.id;
    let result;
    try {
      result =
        purpose.mode === 'edit' && purpose.requestId
          ? await deps.service.decisions.edit({ requestId: purpose.requestId, userId, draft: parsed.draft })
          : await deps.service.decisions.submit({
              requesterId: userId,
              teamId: body.team?.id ?? body.user.team_id,
              draft: parsed.draft,
              ...(purpose.mode === 'again' && purpose.requestId ? { againOf: purpose.requestId } : {}),
            });
    } catch (error) {
      deps.logger.error('cannot store the broadcast request', { error, user: userId });
      return ack({
        response_action: 'errors',
        errors: { message: 'The request could not be recorded right now (the store did not answer). Nothing was saved; please try again in a minute.' },
      });
    }
    if (!result.ok) {
      if ('errors' in result) return ack({ response_action: 'errors', errors: blockErrors(result.errors) });
      return ack({ response_action: 'errors', errors: { message: refusalText(result.refusal, result.request ? { request: result.request } : {}) } });
    }
    await ack();
  };
}
