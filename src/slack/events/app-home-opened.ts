import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { buildHome } from '../../../views/home.js';
import type { ListenerDeps } from '../deps.js';

/** App Home: today's quota and the latest requests. */
export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event, client }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_home_opened'>) => {
    if (event.tab !== 'home') return;
    const [quota, all, isApprover] = await Promise.all([
      deps.service.quotaStatus(),
      deps.service.requests.list(),
      deps.approvers.isApprover(event.user),
    ]);
    const recent = all.slice(-10).reverse();
    await client.views.publish({ user_id: event.user, view: buildHome({ quota, recent, isApprover }) as never });
  };
}
