import type { App } from '@slack/bolt';
import { MARK_SENT_CALLBACK_ID } from '../../../views/mark-sent-modal.js';
import { REJECT_MODAL_CALLBACK_ID } from '../../../views/reject-modal.js';
import { REQUEST_MODAL_CALLBACK_ID } from '../../../views/request-modal.js';
import type { ListenerDeps } from '../deps.js';
import { markSentSubmission } from './mark-sent-submission.js';
import { rejectSubmission } from './reject-submission.js';
import { requestSubmission } from './request-submission.js';

export function registerViews(app: App, deps: ListenerDeps): void {
  app.view(REQUEST_MODAL_CALLBACK_ID, requestSubmission(deps));
  app.view(REJECT_MODAL_CALLBACK_ID, rejectSubmission(deps));
  app.view(MARK_SENT_CALLBACK_ID, markSentSubmission(deps));
}
