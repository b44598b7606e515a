import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTIONS } from '../../../views/context.js';
import type { ListenerDeps } from '../deps.js';
import { approveButton } from './approve-button.js';
import { cancelButton } from './cancel-button.js';
import { editButton } from './edit-button.js';
import { homeNewButton } from './home-new-button.js';
import { markNotSentButton } from './mark-not-sent-button.js';
import { markSentButton } from './mark-sent-button.js';
import { previewButton } from './preview-button.js';
import { rejectButton } from './reject-button.js';
import { requestAgainButton } from './request-again-button.js';

export function registerActions(app: App, deps: ListenerDeps): void {
  const on = (actionId: string, listener: ReturnType<typeof approveButton>) => app.action<BlockButtonAction>({ type: 'block_actions', action_id: actionId }, listener);
  on(ACTIONS.approve, approveButton(deps, { sendNow: false }));
  on(ACTIONS.approveNow, approveButton(deps, { sendNow: true }));
  on(ACTIONS.reject, rejectButton(deps));
  on(ACTIONS.cancel, cancelButton(deps));
  on(ACTIONS.edit, editButton(deps));
  on(ACTIONS.requestAgain, requestAgainButton(deps));
  on(ACTIONS.markSent, markSentButton(deps));
  on(ACTIONS.markNotSent, markNotSentButton(deps));
  on(ACTIONS.homeNew, homeNewButton(deps));
  on(ACTIONS.preview, previewButton(deps));
}
