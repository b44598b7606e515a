/**
 * End-to-end harness in Socket Mode: the real app (buildApp with SLACK_APP_TOKEN, real Bolt SocketModeReceiver,
 * real @slack/socket-mode client) against the fake Slack Web API, the fake Socket Mode server and the Tencent
 * push emulator. Requests arrive as envelopes on the WebSocket; the HTTP port only serves /healthz.
 * The HTTP-mode harness is ./harness.ts; payloads are built by the same helpers.
 */
import { buildApp, type BuildOptions, type RunningApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { PushEmulator } from '../../src/tim/emulator.js';
import { FAKE_SLACK_DEFAULTS, FakeSlack } from '../fakes/fake-slack.js';
import { FakeSocketMode, formFields, interactionPayload, type SocketModeAck } from '../fakes/fake-socket-mode.js';
import { APPROVER_GROUP, GROUP_MEMBER, REQUESTER, SDKAPPID, TIM_SECRET_KEY, baseEnv, clickBody, submissionBody } from './harness.js';
import { slashCommandBody } from './slack-requests.js';

export interface SocketHarnessOptions {
  env?: Record<string, string>;
  build?: BuildOptions;
  /** Reuse servers (a restart). */
  fake?: FakeSlack;
  socket?: FakeSocketMode;
  pushEmulator?: PushEmulator;
  /** Don't start the app (tests of start() itself). */
  noStart?: boolean;
}

export interface SocketHarness {
  fake: FakeSlack;
  socket: FakeSocketMode;
  emulator: PushEmulator;
  app: RunningApp;
  config: Config;
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
  /** `http://127.0.0.1:<port>/healthz` once started. */
  healthUrl: string;
  start(): Promise<void>;
  settle(): Promise<void>;
  /** `/broadcast <text>` as a slash_commands envelope; resolves with the app's ack once its work settled. */
  command(o?: { userId?: string; text?: string }): Promise<SocketModeAck>;
  /** `/broadcast` and the request modal it opened. */
  openModal(o?: { userId?: string; text?: string }): Promise<any>;
  /** Submit a modal the app opened, as an interactive envelope; resolves with the ack (response_action…). */
  submit(view: any, fields: Record<string, string | null>, userId?: string): Promise<SocketModeAck>;
  click(action: 'approve' | 'reject', requestId: string, userId: string): Promise<SocketModeAck>;
  health(): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

/** Short Socket Mode timings so that reconnect tests take well under a second per retry. */
export const FAST_SOCKET_MODE = { clientPingTimeoutMs: 2000, minDelayMs: 20, maxDelayMs: 100, requestTimeoutMs: 3000 } as const;

export async function startSocketHarness(o: SocketHarnessOptions = {}): Promise<SocketHarness> {
  const fake = o.fake ?? (await FakeSlack.start());
  const socket = o.socket ?? (await FakeSocketMode.start({ slack: fake }));
  fake.serveSocketMode(socket);
  fake.usergroups.set(APPROVER_GROUP, [GROUP_MEMBER]);
  const emulator = o.pushEmulator ?? (await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000 }));
  const { SLACK_SIGNING_SECRET: _httpOnly, ...env } = baseEnv({ slackApiUrl: fake.apiUrl, timBaseUrl: emulator.url, storeUrl: 'memory://' });
  const config = loadConfig({ ...env, SLACK_APP_TOKEN: FAKE_SLACK_DEFAULTS.appToken, ...o.env });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: config.LOG_LEVEL,
    secrets: [config.SLACK_BOT_TOKEN, config.SLACK_APP_TOKEN, config.TIM_SECRET_KEY],
    write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  const app = await buildApp(config, {
    logger,
    outboxIntervalMs: 200,
    pushRetry: { baseDelayMs: 20, maxDelayMs: 100, rateLimitWaitMs: 1100 },
    ...o.build,
    receiver: { ...o.build?.receiver, socketMode: { ...FAST_SOCKET_MODE, ...o.build?.receiver?.socketMode } },
  });
  const owned = { fake: !o.fake, socket: !o.socket, emulator: !o.pushEmulator };

  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    await app.idle();
  };
  const acked = async (envelopeId: Promise<string>) => {
    const ack = await socket.waitForAck(await envelopeId);
    await settle();
    return ack;
  };

  const h: SocketHarness = {
    fake,
    socket,
    emulator,
    app,
    config,
    logs,
    healthUrl: '',
    async start() {
      const { port } = await app.start();
      h.healthUrl = `http://127.0.0.1:${String(port)}/healthz`;
    },
    settle,
    command({ userId = REQUESTER, text = '' } = {}) {
      return acked(socket.slashCommand(formFields(slashCommandBody({ userId, text, responseUrl: fake.responseUrl(`sm-cmd-${Date.now()}`) }))));
    },
    async openModal(opts = {}) {
      const before = fake.views.length;
      await h.command(opts);
      const opened = await fake.waitFor(() => fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'the request modal' });
      return opened.view;
    },
    submit(view, fields, userId = REQUESTER) {
      return acked(socket.interactive(interactionPayload(submissionBody(view, fields, userId))));
    },
    click(action, requestId, userId) {
      return acked(socket.interactive(interactionPayload(clickBody(fake, action, requestId, userId))));
    },
    async health() {
      const res = await fetch(h.healthUrl);
      return { status: res.status, json: await res.json() };
    },
    async stop() {
      await app.stop();
      if (owned.socket) await socket.close();
      if (owned.fake) await fake.close();
      if (owned.emulator) await emulator.close();
    },
  };
  if (!o.noStart) await h.start();
  return h;
}

/** The reasons the app logged for failed attempts to open the Socket Mode link, in order. */
export function linkFailures(h: SocketHarness): string[] {
  return h.logs.filter((l) => l['msg'] === 'could not open the Socket Mode link; trying again').map((l) => String(l['reason']));
}
