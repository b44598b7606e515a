/**
 * End-to-end harness: the real app (buildApp, HTTP mode, real Bolt receiver) talking to the fake
 * Slack Web API and the Tencent push emulator over loopback, driven by signed requests.
 */
import { buildApp, type BuildOptions, type RunningApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { createLogger } from '../../src/logger.js';
import { PushEmulator, type EmulatorOptions } from '../../src/tim/emulator.js';
import { FakeSlack, type StoredMessage } from '../fakes/fake-slack.js';
import { blockActionBody, postSigned, slashCommandBody, valuesFromModal, viewSubmissionBody } from './slack-requests.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const TIM_SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
export const SDKAPPID = 1400000000;
export const APPROVAL_CHANNEL = 'C0APPROVALS';
export const REQUESTER = 'U0REQUESTER';
export const APPROVER = 'U0APPROVER1';
export const APPROVER_2 = 'U0APPROVER2';
export const GROUP_MEMBER = 'U0GROUPMEMBER';
export const APPROVER_GROUP = 'S0APPROVERS';
export const OUTSIDER = 'U0OUTSIDER';

export interface HarnessOptions {
  storeUrl?: string;
  env?: Record<string, string>;
  emulator?: Partial<EmulatorOptions>;
  /** Reuse servers (several app instances, or a restart). */
  fake?: FakeSlack;
  pushEmulator?: PushEmulator;
  build?: BuildOptions;
  /** Collect log lines (for secret-leak checks). */
  logLines?: string[];
}

export interface Harness {
  fake: FakeSlack;
  emulator: PushEmulator;
  app: RunningApp;
  config: Config;
  url: string;
  /** Wait for all work started after acks to finish. */
  settle(): Promise<void>;
  command(o: { userId?: string; text?: string }): Promise<{ status: number; json: unknown }>;
  /** Open the modal with /broadcast and submit it with these fields (block_id → value). */
  submit(fields: Record<string, string | null>, o?: { userId?: string; text?: string }): Promise<{ status: number; json: any; request?: BroadcastRequest }>;
  card(requestId: string): StoredMessage | undefined;
  click(action: string, requestId: string, userId: string, value?: string): Promise<{ status: number }>;
  rejectWithReason(requestId: string, userId: string, reason: string): Promise<{ status: number; json: any }>;
  request(id: string): Promise<BroadcastRequest | undefined>;
  stop(): Promise<void>;
}

export function baseEnv(o: { slackApiUrl: string; timBaseUrl: string; storeUrl: string }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-fake-bot-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: o.slackApiUrl,
    PORT: '0',
    APPROVAL_CHANNEL_ID: APPROVAL_CHANNEL,
    APPROVERS: `${APPROVER},${APPROVER_2},${APPROVER_GROUP}`,
    TIM_SDKAPPID: String(SDKAPPID),
    TIM_SECRET_KEY,
    TIM_ADMIN: 'administrator',
    TIM_BASE_URL: o.timBaseUrl,
    TIM_TIMEOUT_MS: '3500',
    STORE_URL: o.storeUrl,
    DAILY_QUOTA: '100',
    QUOTA_TIMEZONE: 'Asia/Shanghai',
    LOG_LEVEL: 'info',
  };
}

// ------------------------------------------------------------------ requests as Slack sends them
// Used by the harness methods below and by tests that drive an app in another process.

/**
 * The approval card of a request, as the fake Slack holds it now: the card whose metadata names it
 * (another card may mention the id too, e.g. one asked again as this request), else one showing the id.
 */
export function cardOf(fake: FakeSlack, requestId: string): StoredMessage | undefined {
  const cards = fake.messages(APPROVAL_CHANNEL).filter((m) => !m.thread_ts);
  return (
    cards.find((m) => (m.metadata as { event_payload?: { request_id?: unknown } } | undefined)?.event_payload?.request_id === requestId) ??
    cards.find((m) => JSON.stringify(m.blocks ?? []).includes(requestId))
  );
}

/** Replies in the thread of a request's approval card. */
export function threadOf(fake: FakeSlack, requestId: string): StoredMessage[] {
  const card = cardOf(fake, requestId);
  return card ? fake.threadReplies(APPROVAL_CHANNEL, card.ts) : [];
}

/** im_push requests that reached the emulator (accepted or not), whatever their answer. */
export function pushRequests(emulator: PushEmulator) {
  return emulator.requests.filter((r) => r.path.endsWith('/im_push'));
}

let clickCounter = 0;

/** What `userId` was told privately: ephemeral messages and answers to the response_urls of their clicks. */
export function toldPrivately(fake: FakeSlack, userId: string): string[] {
  const viaUrl = fake.responseUrls()
    .filter((id) => id.startsWith(`click-${userId}-`))
    .flatMap((id) => fake.responses(id).map((r) => String((r as { text?: unknown }).text ?? JSON.stringify(r))));
  return [...fake.ephemerals(userId).map((m) => m.text ?? ''), ...viaUrl];
}

/** The value of the button `action` on the request's card as it stands (what Slack would send), else the bare id. */
export function buttonValueOn(fake: FakeSlack, action: string, requestId: string): string {
  const card = cardOf(fake, requestId);
  for (const b of (card?.blocks ?? []) as any[]) {
    for (const e of b?.type === 'actions' ? (b.elements ?? []) : []) if (e?.action_id === action && typeof e.value === 'string') return e.value;
  }
  return requestId;
}

/** A signed-ready click of a card button, as Slack would send it (the button's value as the card shows it). */
export function clickBody(fake: FakeSlack, action: string, requestId: string, userId: string, value = buttonValueOn(fake, action, requestId)): string {
  const card = cardOf(fake, requestId);
  return blockActionBody({
    userId,
    actionId: action,
    value,
    // Slack puts a response_url on every click on a message; the app answers refusals through it.
    responseUrl: fake.responseUrl(`click-${userId}-${++clickCounter}`),
    channelId: APPROVAL_CHANNEL,
    messageTs: card?.ts ?? '1700000000.000001',
    ...(card ? { message: { type: 'message', ts: card.ts, text: card.text, blocks: card.blocks } } : {}),
  });
}

/** Send /broadcast to the app at `url` and return the modal it opened. */
export async function openRequestModal(fake: FakeSlack, url: string, secret: string, userId = REQUESTER, text = '') {
  const before = fake.views.length;
  await postSigned(url, secret, slashCommandBody({ userId, text, responseUrl: fake.responseUrl(`cmd-${Date.now()}`) }));
  const opened = await fake.waitFor(() => fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'the request modal' });
  return opened.view;
}

/** The view_submission of a modal the app opened, filled with `fields` (block_id → value). */
export function submissionBody(view: any, fields: Record<string, string | null>, userId = REQUESTER): string {
  return viewSubmissionBody({
    userId,
    callbackId: view.callback_id,
    values: valuesFromModal(view, fields),
    privateMetadata: view.private_metadata,
    view,
  });
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const fake = o.fake ?? (await FakeSlack.start());
  fake.usergroups.set(APPROVER_GROUP, [GROUP_MEMBER]);
  const emulator =
    o.pushEmulator ?? (await PushEmulator.start({ sdkAppId: SDKAPPID, secretKey: TIM_SECRET_KEY, minIntervalMs: 1000, ...o.emulator }));
  const config = loadConfig({
    ...baseEnv({ slackApiUrl: fake.apiUrl, timBaseUrl: emulator.url, storeUrl: o.storeUrl ?? 'memory://' }),
    ...o.env,
  });
  const lines = o.logLines;
  const logger = createLogger({
    level: config.LOG_LEVEL,
    secrets: [config.SLACK_BOT_TOKEN, config.SLACK_SIGNING_SECRET, config.TIM_SECRET_KEY],
    write: (line) => lines?.push(line),
  });
  const app = await buildApp(config, {
    logger,
    outboxIntervalMs: 200,
    pushRetry: { baseDelayMs: 20, maxDelayMs: 100, rateLimitWaitMs: 1100 },
    ...o.build,
  });
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}/slack/events`;
  const owned = { fake: !o.fake, emulator: !o.pushEmulator };

  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    await app.idle();
  };
  const post = (body: string) => postSigned(url, config.SLACK_SIGNING_SECRET!, body);

  const h: Harness = {
    fake,
    emulator,
    app,
    config,
    url,
    settle,
    async command({ userId = REQUESTER, text = '' }) {
      const res = await post(slashCommandBody({ userId, text, responseUrl: fake.responseUrl(`cmd-${Date.now()}`) }));
      await settle();
      return res;
    },
    async submit(fields, { userId = REQUESTER, text = '' } = {}) {
      const view = await openRequestModal(fake, url, config.SLACK_SIGNING_SECRET!, userId, text);
      await settle();
      const known = new Set((await app.service.queries.recent(10_000)).map((r) => r.id));
      const res = await post(submissionBody(view, fields, userId));
      await settle();
      const request = (await app.service.queries.recent(10_000)).find((r) => !known.has(r.id));
      return { status: res.status, json: res.json, ...(request ? { request } : {}) };
    },
    card: (requestId) => cardOf(fake, requestId),
    async click(action, requestId, userId, value) {
      const res = await post(clickBody(fake, action, requestId, userId, value));
      await settle();
      return res;
    },
    async rejectWithReason(requestId, userId, reason) {
      const before = fake.views.length;
      await h.click('reject', requestId, userId);
      const opened = await fake.waitFor(() => fake.views.slice(before).find((v) => v.method === 'views.open'), { what: 'the reject modal' });
      const res = await post(submissionBody(opened.view, { reason }, userId));
      await settle();
      return { status: res.status, json: res.json };
    },
    request: (id) => app.service.get(id),
    async stop() {
      await app.stop();
      if (owned.fake) await fake.close();
      if (owned.emulator) await emulator.close();
    },
  };
  return h;
}

/** A complete valid form for each audience kind. */
export const FORMS = {
  all: { message: 'Server maintenance tonight at 23:00.', audience: 'all', lifetime: '3600' },
  tagsAll: { message: '新功能上线', audience: 'tags', tags_all: 'vip, beta', lifetime: '0' },
  tagsAny: { message: 'Sale!', audience: 'tags', tags_any: 'city-sz\ncity-gz', lifetime: '86400' },
  attrsAll: { message: 'Hello Shenzhen', audience: 'attributes', attrs_all: 'city=Shenzhen\nlevel=gold', lifetime: '604800' },
  attrsAny: { message: 'Hi', audience: 'attributes', attrs_any: 'sex=male\ncity=深圳', lifetime: '0' },
} satisfies Record<string, Record<string, string>>;
