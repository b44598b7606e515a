import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { formatQuota } from '../../../views/format.js';
import { helpText, statusAnswer, statusList } from '../../../views/replies.js';
import type { ListenerDeps } from '../deps.js';
import { requestFormView } from '../request-form.js';

const SUBCOMMANDS = new Set(['help', 'quota', 'status']);

/**
 * `/broadcast [text] | help | quota | status [id or TaskId]`. Every answer is private to the asker.
 * The form is opened right after the ack: its trigger_id lives 3 seconds.
 */
export function broadcastCommand(deps: ListenerDeps) {
  return async ({ ack, command, respond }: AllMiddlewareArgs & SlackCommandMiddlewareArgs) => {
    const text = command.text.trim();
    const [first = '', ...rest] = text.split(/\s+/);
    const sub = first.toLowerCase();
    const reply = (t: string) => respond({ response_type: 'ephemeral', text: t });
    // `help`, or one lowercase word that is no subcommand (a mistyped one, like `stats`): show help.
    if (sub === 'help' || (rest.length === 0 && /^[a-z]{2,12}$/.test(first) && !SUBCOMMANDS.has(sub))) {
      await ack({ response_type: 'ephemeral', text: helpText(await deps.viewContext()) });
      return;
    }
    if (sub === 'quota') {
      await ack();
      await reply(formatQuota(await deps.service.quotaStatus()));
      return;
    }
    if (sub === 'status') {
      await ack();
      await deps.track(async () => {
        const key = rest.join(' ').trim();
        if (!key) {
          await reply(statusList(await deps.service.queries.recentOf(command.user_id, 5)));
          return;
        }
        const found = await deps.service.queries.find(key);
        const visible = found && (found.requesterId === command.user_id || (await deps.approvers.isApprover(command.user_id)));
        await reply(visible ? statusAnswer(found, { now: deps.service.clock.now() }) : `No request ${'`'}${key.replace(/[`<>&]/g, '')}${'`'} that you can see. Use the request id shown on its card (br-…) or its TaskId.`);
      });
      return;
    }
    await ack();
    await deps.track(async () => {
      try {
        const view = await requestFormView(deps, { mode: 'new', prefill: text ? { message: text } : {}, privateMetadata: JSON.stringify({ mode: 'new' }) });
        await deps.slack.viewsOpen({ trigger_id: command.trigger_id, view });
      } catch (error) {
        deps.logger.error('cannot open the request form', { error, user: command.user_id });
        await reply(
          '⚠️ The broadcast form could not be opened right now (the request store or Slack did not answer). Nothing was recorded; please try again in a minute.',
        ).catch(() => undefined);
      }
    });
  };
}
