import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { buildHome } from '../../../views/home.js';
import type { ListenerDeps } from '../deps.js';

/**
 * App Home: approvers see every request; anyone else sees only their own and the quota (the
 * Home tab is visible to every member of the workspace). Two indexed lists, never the history.
 */
export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_home_opened'>) => {
    if (event.tab !== 'home') return;
    const isApprover = await deps.approvers.isApprover(event.user);
    const mine = isApprover ? undefined : event.user;
    const q = deps.service.queries;
    const [quota, open, recent] = await Promise.all([deps.service.quotaStatus(), q.open(15, mine), mine ? q.recentOf(mine, 20) : q.recent(20)]);
    await deps.slack.viewsPublish({ user_id: event.user, view: buildHome({ quota, open, recent, isApprover, sandbox: deps.sandbox, viewerId: event.user }) });
  };
}
