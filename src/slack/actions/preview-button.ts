import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps.js';
import { prefillFromState, type StateValues } from '../modal-input.js';
import { requestFormView } from '../request-form.js';
import { formPurpose } from '../views/request-submission.js';

/**
 * "Update preview" in the request form: redraw the form with the notification preview of what is
 * typed so far. Same blocks and ids, so Slack keeps every input; `hash` makes a redraw that raced
 * with another one fail instead of overwriting it.
 */
export function previewButton(deps: ListenerDeps) {
  return async ({ ack, body }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>) => {
    await ack();
    const view = body.view;
    if (!view) return;
    await deps.track(async () => {
      const next = await requestFormView(deps, {
        mode: formPurpose(view.private_metadata).mode,
        prefill: prefillFromState(view.state.values as StateValues),
        privateMetadata: view.private_metadata,
      });
      await deps.slack.viewsUpdate({ view_id: view.id, hash: view.hash, view: next });
    });
  };
}
