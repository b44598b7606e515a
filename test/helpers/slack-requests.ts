/**
 * Signed requests to a Bolt app in HTTP mode, shaped like the ones Slack sends
 * (see /work/shared/reference/slack-bolt-notes.md §1.3).
 *
 * Content-type pitfall: Bolt parses the body as a form only when the content-type is EXACTLY
 * 'application/x-www-form-urlencoded' (no charset). postSigned() sets it explicitly and sends a string body.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_SLACK_DEFAULTS } from '../fakes/fake-slack.js';

export const REQUEST_DEFAULTS = {
  teamId: FAKE_SLACK_DEFAULTS.teamId,
  teamDomain: FAKE_SLACK_DEFAULTS.teamDomain,
  appId: FAKE_SLACK_DEFAULTS.appId,
  /** legacy verification token Slack still includes in payloads; Bolt ignores it */
  verificationToken: 'fake-verification-token',
  userId: 'U0REQUESTER',
  channelId: 'C0REQUESTS',
  command: '/broadcast',
} as const;

export function signBody(
  secret: string,
  body: string,
  nowMs: number = Date.now(),
): { 'x-slack-request-timestamp': string; 'x-slack-signature': string } {
  const ts = String(Math.floor(nowMs / 1000));
  const sig = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${sig}` };
}

export async function postSigned(
  url: string,
  secret: string,
  body: string,
  o: { contentType?: string; nowMs?: number; headers?: Record<string, string>; signature?: string } = {},
): Promise<{ status: number; text: string; json: unknown }> {
  const signed = signBody(secret, body, o.nowMs);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': o.contentType ?? 'application/x-www-form-urlencoded',
      ...signed,
      ...(o.signature !== undefined ? { 'x-slack-signature': o.signature } : {}),
      ...o.headers,
    },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** A trigger_id shaped like Slack's (`<digits>.<digits>.<hex>`), unique per call. */
export function fakeTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e11)}.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.${String((now % 1000) * 1000).padStart(6, '0')}`;
}

function userObject(userId: string, teamId: string): Record<string, unknown> {
  const name = userId.toLowerCase();
  return { id: userId, username: name, name, team_id: teamId };
}

export function slashCommandBody(o: {
  text?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  teamId?: string;
  triggerId?: string;
  responseUrl: string;
  command?: string;
}): string {
  const userId = o.userId ?? REQUEST_DEFAULTS.userId;
  return new URLSearchParams({
    token: REQUEST_DEFAULTS.verificationToken,
    team_id: o.teamId ?? REQUEST_DEFAULTS.teamId,
    team_domain: REQUEST_DEFAULTS.teamDomain,
    channel_id: o.channelId ?? REQUEST_DEFAULTS.channelId,
    channel_name: 'requests',
    user_id: userId,
    user_name: o.userName ?? userId.toLowerCase(),
    command: o.command ?? REQUEST_DEFAULTS.command,
    text: o.text ?? '',
    api_app_id: REQUEST_DEFAULTS.appId,
    is_enterprise_install: 'false',
    response_url: o.responseUrl,
    trigger_id: o.triggerId ?? fakeTriggerId(),
  }).toString();
}

/** block_id of the block holding an element with this action_id (section accessory or actions/input element). */
function findBlockIdForAction(message: unknown, actionId: string): string | undefined {
  const blocks = (message as { blocks?: unknown } | undefined)?.blocks;
  if (!Array.isArray(blocks)) return undefined;
  for (const b of blocks as Record<string, unknown>[]) {
    const candidates = [b?.['accessory'], b?.['element'], ...(Array.isArray(b?.['elements']) ? (b['elements'] as unknown[]) : [])];
    if (candidates.some((e) => (e as { action_id?: unknown } | undefined)?.action_id === actionId)) {
      return typeof b['block_id'] === 'string' ? b['block_id'] : undefined;
    }
  }
  return undefined;
}

/**
 * `payload=<json>` form body of a block_actions payload with one button action on a message.
 * If `blockId` is omitted it is looked up in `message.blocks` (by action_id), else 'actions'.
 * `response_url` is only included when `responseUrl` is given (use `fake.responseUrl(id)`).
 */
export function blockActionBody(o: {
  userId: string;
  actionId: string;
  value: string;
  blockId?: string;
  channelId: string;
  messageTs: string;
  triggerId?: string;
  responseUrl?: string;
  teamId?: string;
  message?: unknown;
}): string {
  const teamId = o.teamId ?? REQUEST_DEFAULTS.teamId;
  const message =
    o.message ?? ({ type: 'message', ts: o.messageTs, text: '', user: FAKE_SLACK_DEFAULTS.botUserId, bot_id: FAKE_SLACK_DEFAULTS.botId, blocks: [] } as const);
  const blockId = o.blockId ?? findBlockIdForAction(message, o.actionId) ?? 'actions';
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: userObject(o.userId, teamId),
    api_app_id: REQUEST_DEFAULTS.appId,
    token: REQUEST_DEFAULTS.verificationToken,
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channelId, is_ephemeral: false },
    trigger_id: o.triggerId ?? fakeTriggerId(),
    team: { id: teamId, domain: REQUEST_DEFAULTS.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channelId, name: 'approvals' },
    message,
    state: { values: {} },
    actions: [
      {
        type: 'button',
        action_id: o.actionId,
        block_id: blockId,
        text: { type: 'plain_text', text: o.actionId, emoji: true },
        value: o.value,
        action_ts: actionTs(),
      },
    ],
  };
  if (o.responseUrl !== undefined) payload['response_url'] = o.responseUrl;
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** `payload=<json>` form body of a view_submission with `view.state.values = values`. */
export function viewSubmissionBody(o: {
  userId: string;
  callbackId: string;
  values: Record<string, Record<string, unknown>>;
  privateMetadata?: string;
  teamId?: string;
  viewId?: string;
  /** Extension: the modal as opened (e.g. `fake.views.at(-1).view`), to carry its blocks/title/submit. */
  view?: Record<string, unknown>;
}): string {
  const teamId = o.teamId ?? REQUEST_DEFAULTS.teamId;
  const viewId = o.viewId ?? 'V0SUBMITTED';
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: REQUEST_DEFAULTS.teamDomain },
    user: userObject(o.userId, teamId),
    api_app_id: REQUEST_DEFAULTS.appId,
    token: REQUEST_DEFAULTS.verificationToken,
    trigger_id: fakeTriggerId(),
    view: {
      type: 'modal',
      blocks: [],
      title: { type: 'plain_text', text: 'Modal' },
      close: null,
      submit: { type: 'plain_text', text: 'Submit' },
      clear_on_close: false,
      notify_on_close: false,
      external_id: '',
      ...(o.view ?? {}),
      id: viewId,
      team_id: teamId,
      callback_id: o.callbackId,
      private_metadata: o.privateMetadata ?? '',
      state: { values: o.values },
      hash: '1700000000.submitted',
      previous_view_id: null,
      root_view_id: viewId,
      app_id: REQUEST_DEFAULTS.appId,
      app_installed_team_id: teamId,
      bot_id: FAKE_SLACK_DEFAULTS.botId,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function option(v: string, text?: unknown): Record<string, unknown> {
  return { text: text ?? { type: 'plain_text', text: v, emoji: true }, value: v };
}

/** view.state.values entries for common elements, as Slack sends them. */
export const stateValue = {
  text(v: string | null): unknown {
    return { type: 'plain_text_input', value: v };
  },
  radio(v: string | null): unknown {
    return { type: 'radio_buttons', selected_option: v ? option(v) : null };
  },
  select(v: string | null): unknown {
    return { type: 'static_select', selected_option: v ? option(v) : null };
  },
  checkboxes(vs: string[]): unknown {
    return { type: 'checkboxes', selected_options: vs.map((v) => option(v)) };
  },
};

type Json = Record<string, unknown>;

function elementOptions(el: Json): Json[] {
  const out: Json[] = [];
  if (Array.isArray(el['options'])) out.push(...(el['options'] as Json[]));
  if (Array.isArray(el['option_groups'])) {
    for (const g of el['option_groups'] as Json[]) if (Array.isArray(g['options'])) out.push(...(g['options'] as Json[]));
  }
  return out;
}

function splitList(v: string | null): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Build the `view.state.values` Slack would send for `view` after the user typed/selected `input`
 * (keyed by input block_id; an element action_id is accepted too). Like Slack, every input block is
 * present: blocks not named in `input` keep their initial value (or are empty). Options must exist in
 * the element (a real user cannot pick anything else); checkbox/multi-select values are comma-separated.
 */
export function valuesFromModal(view: any, input: Record<string, string | null>): Record<string, Record<string, unknown>> {
  const blocks: Json[] = Array.isArray(view?.blocks) ? (view.blocks as Json[]) : [];
  const inputs = blocks
    .map((b, i) => ({ b, i }))
    .filter(({ b }) => b?.['type'] === 'input' && b['element'] && typeof b['element'] === 'object');
  const describe = (): string =>
    inputs.map(({ b }) => `${String(b['block_id'])}(${String((b['element'] as Json)['action_id'])}:${String((b['element'] as Json)['type'])})`).join(', ') ||
    'none';

  const keyFor = new Map<string, string>(); // input key -> block id
  for (const key of Object.keys(input)) {
    const hit =
      inputs.find(({ b }) => b['block_id'] === key) ?? inputs.find(({ b }) => (b['element'] as Json)['action_id'] === key);
    if (!hit) throw new Error(`valuesFromModal: "${key}" names no input block in the modal (input blocks: ${describe()})`);
    if (typeof hit.b['block_id'] !== 'string' || typeof (hit.b['element'] as Json)['action_id'] !== 'string') {
      // Slack would generate random ids; the app cannot rely on them, so a test cannot fill such a block either.
      throw new Error(`valuesFromModal: input block #${hit.i} ("${key}") needs both a block_id and an element.action_id to be filled`);
    }
    keyFor.set(key, hit.b['block_id']);
  }
  const given = new Map<string, string | null>();
  for (const [k, v] of Object.entries(input)) given.set(keyFor.get(k)!, v);

  const values: Record<string, Record<string, unknown>> = {};
  for (const { b } of inputs) {
    const el = b['element'] as Json;
    const blockId = typeof b['block_id'] === 'string' ? b['block_id'] : undefined;
    const actionId = typeof el['action_id'] === 'string' ? el['action_id'] : undefined;
    if (!blockId || !actionId) continue; // not addressable (checked above for named keys)
    const has = given.has(blockId);
    const v = has ? given.get(blockId)! : null;
    const type = String(el['type']);
    const pick = (value: string): Json => {
      const opts = elementOptions(el);
      const found = opts.find((o) => o['value'] === value);
      if (!found) {
        throw new Error(
          `valuesFromModal: "${value}" is not an option of ${blockId}/${actionId} (${type}); options: ${opts.map((o) => String(o['value'])).join(', ') || 'none'}`,
        );
      }
      return option(value, found['text']);
    };
    let state: Json;
    switch (type) {
      case 'plain_text_input':
      case 'email_text_input':
      case 'url_text_input':
      case 'number_input':
        state = { type, value: has ? v : typeof el['initial_value'] === 'string' ? el['initial_value'] : null };
        break;
      case 'radio_buttons':
      case 'static_select':
        state = {
          type,
          selected_option: has ? (v ? pick(v) : null) : el['initial_option'] ? pick(String((el['initial_option'] as Json)['value'])) : null,
        };
        break;
      case 'checkboxes':
      case 'multi_static_select':
        state = {
          type,
          selected_options: has
            ? splitList(v).map(pick)
            : Array.isArray(el['initial_options'])
              ? (el['initial_options'] as Json[]).map((o) => pick(String(o['value'])))
              : [],
        };
        break;
      case 'users_select':
        state = { type, selected_user: has ? v : (el['initial_user'] ?? null) };
        break;
      case 'multi_users_select':
        state = { type, selected_users: has ? splitList(v) : (el['initial_users'] ?? []) };
        break;
      case 'conversations_select':
        state = { type, selected_conversation: has ? v : (el['initial_conversation'] ?? null) };
        break;
      case 'channels_select':
        state = { type, selected_channel: has ? v : (el['initial_channel'] ?? null) };
        break;
      case 'datepicker':
        state = { type, selected_date: has ? v : (el['initial_date'] ?? null) };
        break;
      case 'timepicker':
        state = { type, selected_time: has ? v : (el['initial_time'] ?? null) };
        break;
      case 'datetimepicker':
        state = { type, selected_date_time: has ? (v === null ? null : Number(v)) : (el['initial_date_time'] ?? null) };
        break;
      default:
        if (has) throw new Error(`valuesFromModal: element type "${type}" of ${blockId}/${actionId} is not supported`);
        continue;
    }
    values[blockId] = { [actionId]: state };
  }
  return values;
}

/**
 * A JSON `event_callback` body (Events API), as Slack sends it; post it with
 * `postSigned(url, secret, body, { contentType: 'application/json' })`.
 */
export function eventCallbackBody(event: Record<string, unknown> & { type: string }, o: { teamId?: string; eventId?: string } = {}): string {
  const teamId = o.teamId ?? REQUEST_DEFAULTS.teamId;
  const now = Date.now();
  return JSON.stringify({
    token: REQUEST_DEFAULTS.verificationToken,
    team_id: teamId,
    api_app_id: REQUEST_DEFAULTS.appId,
    event: { event_ts: `${Math.floor(now / 1000)}.${String(now % 1000).padStart(3, '0')}100`, ...event },
    type: 'event_callback',
    event_id: o.eventId ?? `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
    event_time: Math.floor(now / 1000),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: FAKE_SLACK_DEFAULTS.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

/** `app_home_opened` for `userId` on the Home tab. */
export function appHomeOpenedBody(userId: string): string {
  return eventCallbackBody({ type: 'app_home_opened', user: userId, channel: `D${userId}`, tab: 'home' });
}

/**
 * `payload=<json>` of a block_actions from a button inside a modal (no channel, no response_url):
 * the view as opened, with the state Slack would send for `values`.
 */
export function viewActionBody(o: {
  userId: string;
  actionId: string;
  blockId: string;
  value?: string;
  view: Record<string, unknown>;
  viewId: string;
  values: Record<string, Record<string, unknown>>;
  hash?: string;
}): string {
  const teamId = REQUEST_DEFAULTS.teamId;
  const payload = {
    type: 'block_actions',
    user: userObject(o.userId, teamId),
    api_app_id: REQUEST_DEFAULTS.appId,
    token: REQUEST_DEFAULTS.verificationToken,
    container: { type: 'view', view_id: o.viewId },
    trigger_id: fakeTriggerId(),
    team: { id: teamId, domain: REQUEST_DEFAULTS.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    view: {
      ...o.view,
      id: o.viewId,
      team_id: teamId,
      state: { values: o.values },
      hash: o.hash ?? '1700000000.viewhash',
      root_view_id: o.viewId,
      previous_view_id: null,
      app_id: REQUEST_DEFAULTS.appId,
      app_installed_team_id: teamId,
      bot_id: FAKE_SLACK_DEFAULTS.botId,
    },
    actions: [
      {
        type: 'button',
        action_id: o.actionId,
        block_id: o.blockId,
        text: { type: 'plain_text', text: o.actionId, emoji: true },
        value: o.value ?? o.actionId,
        action_ts: actionTs(),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
