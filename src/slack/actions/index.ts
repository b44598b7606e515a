import type { App, BlockButtonAction } from '@slack/bolt';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../../views/approval-card.js';
import type { ListenerDeps } from '../deps.js';
import { approveButton } from './approve-button.js';
import { rejectButton } from './reject-button.js';

export function registerActions(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>({ type: 'block_actions', action_id: APPROVE_ACTION_ID }, approveButton(deps));
  app.action<BlockButtonAction>({ type: 'block_actions', action_id: REJECT_ACTION_ID }, rejectButton(deps));
}
