/**
 * Helpers of the lifecycle and schedule end-to-end tests (lifecycle.e2e.test.ts, schedule.e2e.test.ts):
 * slash commands with a response_url of their own, modals opened by buttons, card metadata, and the
 * texts people should see, computed with the same view functions the app uses (the views are being
 * reworded in parallel; the tests must follow whatever wording they produce).
 * Not a test file: vitest only collects *.test.ts.
 */
import type { BroadcastRequest, EventKind } from '../../src/broadcast/types.js';
import type { ViewContext } from '../../views/context.js';
import { requesterMessage } from '../../views/replies.js';
import { threadEntry } from '../../views/thread.js';
import type { FakeSlack, StoredMessage } from '../fakes/fake-slack.js';
import {
  APPROVAL_CHANNEL,
  APPROVER,
  APPROVER_2,
  APPROVER_GROUP,
  REQUESTER,
  cardOf,
  clickBody,
  submissionBody,
  threadOf,
  type Harness,
} from '../helpers/harness.js';
import { postSigned, slashCommandBody } from '../helpers/slack-requests.js';

let commandCounter = 0;

/** Send `/broadcast <text>` as `userId`; returns the HTTP answer (the ack) and the id of the command's response_url. */
export async function slashCommand(h: Pick<Harness, 'fake' | 'url' | 'config' | 'settle'>, userId: string, text: string) {
  const responseId = `cmd-${userId}-${++commandCounter}`;
  const res = await postSigned(h.url, h.config.SLACK_SIGNING_SECRET!, slashCommandBody({ userId, text, responseUrl: h.fake.responseUrl(responseId) }));
  await h.settle();
  return { status: res.status, json: res.json as { response_type?: string; text?: string } | undefined, responseId };
}

/** The first answer the app posted to a response_url. */
export function answerAt(fake: FakeSlack, responseId: string): Promise<{ response_type?: string; text?: string; replace_original?: boolean }> {
  return fake.waitFor(() => fake.responses(responseId)[0] as { response_type?: string; text?: string } | undefined, {
    what: `an answer posted to the response_url ${responseId}`,
  });
}

/** Click a card button as Slack would and return the modal the click opened (views.open). */
export async function clickForModal(h: Harness, action: string, requestId: string, userId: string): Promise<any> {
  const before = h.fake.views.length;
  await h.click(action, requestId, userId);
  const opened = await h.fake.waitFor(() => h.fake.views.slice(before).find((v) => v.method === 'views.open'), {
    what: `the modal opened by ${action}`,
  });
  return opened.view;
}

/** Submit a modal the app opened, with `fields` changed (every other input keeps its initial value, as in Slack). */
export async function submitModal(h: Harness, view: any, fields: Record<string, string | null>, userId = REQUESTER) {
  const res = await postSigned(h.url, h.config.SLACK_SIGNING_SECRET!, submissionBody(view, fields, userId));
  await h.settle();
  return { status: res.status, json: res.json as { response_action?: string; errors?: Record<string, string> } | undefined };
}

/** A click through a given app instance (another harness, or a child process at `url`). */
export function clickVia(target: { url: string; secret: string }, fake: FakeSlack, action: string, requestId: string, userId: string, value?: string) {
  return postSigned(target.url, target.secret, clickBody(fake, action, requestId, userId, value));
}

/** The initial value an input block of a modal shows, in the form a person would type or pick it. */
export function initialOf(view: any, blockId: string): string | null {
  const block = (view.blocks as any[]).find((b) => b.type === 'input' && b.block_id === blockId);
  if (!block) throw new Error(`no input block ${blockId} in the modal`);
  const el = block.element;
  switch (el.type) {
    case 'plain_text_input':
      return el.initial_value ?? null;
    case 'radio_buttons':
    case 'static_select':
      return el.initial_option?.value ?? null;
    case 'checkboxes':
      return (el.initial_options ?? []).map((o: any) => o.value).join(',') || null;
    case 'datetimepicker':
      return el.initial_date_time === undefined ? null : String(el.initial_date_time);
    default:
      throw new Error(`initialOf: element type ${el.type} not handled`);
  }
}

/** The message metadata payload of a request's card. */
export function cardMeta(fake: FakeSlack, requestId: string): Record<string, unknown> {
  return ((cardOf(fake, requestId)?.metadata as { event_payload?: Record<string, unknown> } | undefined)?.event_payload ?? {}) as Record<string, unknown>;
}

/** Wait until the card's metadata says `state`. */
export function waitForCardState(fake: FakeSlack, requestId: string, state: string, timeoutMs = 10_000) {
  return fake.waitFor(() => cardMeta(fake, requestId)['state'] === state && cardOf(fake, requestId), {
    timeoutMs,
    what: `the card of ${requestId} to say ${state}`,
  });
}

/** The action ids of the buttons on a message. */
export function actionIds(m: StoredMessage | undefined): string[] {
  return (m?.blocks ?? [])
    .filter((b: any) => b?.type === 'actions')
    .flatMap((b: any) => (b.elements ?? []).map((e: any) => e.action_id as string));
}

/** The view context the app renders with, as far as these tests' texts depend on it. */
export async function viewContextOf(h: Harness): Promise<ViewContext> {
  return {
    now: new Date(),
    sandbox: false,
    approvalChannel: APPROVAL_CHANNEL,
    approvers: { users: [APPROVER, APPROVER_2], groups: [APPROVER_GROUP] },
    quota: await h.app.service.quotaStatus(),
    ...(h.config.QUIET_HOURS ? { quietHours: h.config.QUIET_HOURS } : {}),
  };
}

/** Indexes of the history entries of `kind`. */
export function entriesOf(r: BroadcastRequest, kind: EventKind): number[] {
  return r.history.flatMap((e, i) => (e.kind === kind ? [i] : []));
}

/** The fallback text the thread entry of the (only) `kind` event of `r` has, as the app's view renders it. */
export function expectedThreadText(r: BroadcastRequest, kind: EventKind, ctx: ViewContext): string {
  const [i] = entriesOf(r, kind);
  if (i === undefined) throw new Error(`${r.id} has no ${kind} event`);
  return threadEntry(r, i, ctx).text;
}

/** The fallback text of the DM about the (only) `kind` event of `r`. */
export function expectedDmText(r: BroadcastRequest, kind: EventKind, ctx: ViewContext): string {
  const [i] = entriesOf(r, kind);
  if (i === undefined) throw new Error(`${r.id} has no ${kind} event`);
  return requesterMessage(r, i, ctx).text;
}

/** Thread replies under the request's card whose fallback text is exactly `text`. */
export function threadRepliesWithText(fake: FakeSlack, requestId: string, text: string): StoredMessage[] {
  return threadOf(fake, requestId).filter((m) => m.text === text);
}

/** The exact body a thread entry shows (its preformatted JSON), as text. */
export function preformattedOf(m: StoredMessage): string | undefined {
  const pre = ((m.blocks ?? []) as any[])
    .flatMap((b) => (b.type === 'rich_text' ? b.elements : []))
    .find((e: any) => e.type === 'rich_text_preformatted');
  return pre ? pre.elements.map((e: any) => e.text).join('') : undefined;
}

/** Quiet hours "HH:MM-HH:MM" around the current wall clock of `timeZone`: from `startOffsetMin` to `endOffsetMin` minutes from now (wrapping midnight). */
export function quietHoursAroundNow(timeZone: string, startOffsetMin: number, endOffsetMin: number, now = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(now);
  const [hh, mm] = parts.split(':').map(Number) as [number, number];
  const minute = hh * 60 + mm;
  const hm = (m: number) => {
    const x = ((m % 1440) + 1440) % 1440;
    return `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
  };
  return `${hm(minute + startOffsetMin)}-${hm(minute + endOffsetMin)}`;
}
