// The baseline of `npm run bench`: a bare Bolt app in HTTP mode that does the least Slack requires.
// /broadcast acks and opens a small modal; every other handler only acks. It is given its bot
// identity (no auth.test per request) and runs as plain JavaScript, like the compiled app, so cold
// start compares like with like. Plain .mjs on purpose: it must start without any compile step.
import bolt from '@slack/bolt';

const { App, LogLevel } = bolt;
const env = process.env;

const MODAL = {
  type: 'modal',
  callback_id: 'bench_baseline',
  title: { type: 'plain_text', text: 'Broadcast' },
  submit: { type: 'plain_text', text: 'Request' },
  close: { type: 'plain_text', text: 'Cancel' },
  blocks: [
    {
      type: 'input',
      block_id: 'message',
      label: { type: 'plain_text', text: 'Message' },
      element: { type: 'plain_text_input', action_id: 'message', multiline: true },
    },
  ],
};

const app = new App({
  token: env.SLACK_BOT_TOKEN,
  signingSecret: env.SLACK_SIGNING_SECRET,
  botId: env.BENCH_BOT_ID,
  botUserId: env.BENCH_BOT_USER_ID,
  logLevel: LogLevel.INFO,
  clientOptions: { slackApiUrl: env.SLACK_API_URL, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
  customRoutes: [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      },
    },
  ],
});

app.command('/broadcast', async ({ ack, command, client, logger }) => {
  await ack();
  try {
    await client.views.open({ trigger_id: command.trigger_id, view: MODAL });
  } catch (error) {
    logger.error(`views.open failed: ${error.message}`);
  }
});
app.view(/.*/, async ({ ack }) => ack());
app.action(/.*/, async ({ ack }) => ack());
app.event(/.*/, async () => undefined);

const stop = () => app.stop().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await app.start(Number(env.PORT));
