// The /broadcast request modal. Pure: prefill + quota in, Block Kit view out.
// Every input block's block_id equals its element's action_id, so validation errors
// (response_action: 'errors', keyed by block_id) and state lookups use one name per field.

import type {
  Checkboxes,
  InputBlock,
  KnownBlock,
  ModalView as SlackModalView,
  PlainTextElement,
  PlainTextInput,
  PlainTextOption,
  RadioButtons,
  StaticSelect,
} from '@slack/types';
import type { BroadcastDraft, QuotaStatus } from '../src/broadcast/types.js';
import { formatLifetime, formatQuota, quotaExhausted, truncate } from './format.js';

/** Slack's modal view with blocks narrowed to KnownBlock (assignable to `View` for views.open/update). */
export type ModalView = Omit<SlackModalView, 'blocks'> & { blocks: KnownBlock[] };

export const REQUEST_MODAL_CALLBACK_ID = 'broadcast_request';

export interface ModalPrefill {
  message: string;
  audience: 'all' | 'tags' | 'attributes';
  tagsAll: string;
  tagsAny: string;
  attrsAll: string;
  attrsAny: string;
  lifetime: string;
  sender: string;
  pushTitle: string;
  pushDesc: string;
  pushExt: string;
  badgeMode: '0' | '1';
  apnsSound: string;
  androidSound: string;
  apnsImage: string;
  note: string;
  /** Epoch seconds of the requested send time. */
  sendAt: string;
}

/** block_id (= action_id) of every input, in document order. */
export const REQUEST_FIELDS = {
  message: 'message',
  audience: 'audience',
  tagsAll: 'tags_all',
  tagsAny: 'tags_any',
  attrsAll: 'attrs_all',
  attrsAny: 'attrs_any',
  lifetime: 'lifetime',
  sender: 'sender',
  pushTitle: 'push_title',
  pushDesc: 'push_desc',
  pushExt: 'push_ext',
  badgeMode: 'badge_mode',
  apnsSound: 'apns_sound',
  androidSound: 'android_sound',
  apnsImage: 'apns_image',
  note: 'note',
  sendAt: 'send_at',
} as const satisfies Record<keyof ModalPrefill, string>;

export type RequestFieldId = (typeof REQUEST_FIELDS)[keyof typeof REQUEST_FIELDS];

/** max_length of each text input (Slack allows up to 3000). */
export const REQUEST_MAX_LENGTH = {
  message: 3000,
  tags_all: 1000,
  tags_any: 1000,
  attrs_all: 2000,
  attrs_any: 2000,
  sender: 200,
  push_title: 200,
  push_desc: 1000,
  push_ext: 1024,
  apns_sound: 200,
  android_sound: 200,
  apns_image: 1000,
  note: 1000,
} as const;

type TextFieldId = keyof typeof REQUEST_MAX_LENGTH;

/** Offline storage choices: value = seconds (MsgLifeTime). */
export const LIFETIME_CHOICES: ReadonlyArray<{ seconds: number; label: string }> = [
  { seconds: 0, label: "Don't store — online users only" },
  { seconds: 3600, label: '1 hour' },
  { seconds: 21600, label: '6 hours' },
  { seconds: 86400, label: '1 day' },
  { seconds: 259200, label: '3 days' },
  { seconds: 604800, label: '7 days (maximum)' },
];

const MAX_LIFETIME = 604800;

const AUDIENCE_LABELS: Record<ModalPrefill['audience'], string> = {
  all: 'Everyone — every user of the app',
  tags: 'Users with tags',
  attributes: 'Users with attributes',
};

const pt = (text: string): PlainTextElement => ({ type: 'plain_text', text, emoji: true });

function opt(text: string, value: string): PlainTextOption {
  return { text: pt(truncate(text, 75)), value };
}

function textInput(
  id: TextFieldId,
  label: string,
  o: { multiline?: boolean; optional?: boolean; hint?: string; placeholder?: string; initial?: string | undefined },
): InputBlock {
  const max = REQUEST_MAX_LENGTH[id];
  const element: PlainTextInput = {
    type: 'plain_text_input',
    action_id: id,
    max_length: max,
  };
  if (o.multiline) element.multiline = true;
  if (o.placeholder) element.placeholder = pt(truncate(o.placeholder, 150));
  // Slack rejects an initial_value longer than max_length, so cut it (the requester sees and can fix it).
  if (o.initial) element.initial_value = o.initial.slice(0, max);
  const block: InputBlock = { type: 'input', block_id: id, label: pt(label), element, optional: o.optional ?? true };
  if (o.hint) block.hint = pt(truncate(o.hint, 2000));
  return block;
}

/** Which form this is: a new request, an edit of a pending one, or asking again from an old one. */
export type ModalMode = 'new' | 'edit' | 'again';

const MODE_TEXT: Record<ModalMode, { title: string; submit: string }> = {
  new: { title: 'Request a broadcast', submit: 'Request approval' },
  edit: { title: 'Edit broadcast', submit: 'Save changes' },
  again: { title: 'Request again', submit: 'Request approval' },
};

/** The form filled in from a request's draft (edit, request again). */
export function prefillFromDraft(d: BroadcastDraft): Partial<ModalPrefill> {
  const a = d.audience;
  const pairs = (r: Record<string, string>) => Object.entries(r).map(([k, v]) => `${k}=${v}`).join('\n');
  const p = d.offlinePush ?? {};
  return {
    message: d.message,
    audience: a.kind,
    ...(a.kind === 'tags' ? { tagsAll: a.all.join(', '), tagsAny: a.any.join(', ') } : {}),
    ...(a.kind === 'attributes' ? { attrsAll: pairs(a.all), attrsAny: pairs(a.any) } : {}),
    lifetime: String(d.lifetimeSeconds),
    ...(d.sender ? { sender: d.sender } : {}),
    ...(p.title ? { pushTitle: p.title } : {}),
    ...(p.desc ? { pushDesc: p.desc } : {}),
    ...(p.ext ? { pushExt: p.ext } : {}),
    ...(p.apnsBadgeMode === 1 ? { badgeMode: '1' as const } : {}),
    ...(p.apnsSound ? { apnsSound: p.apnsSound } : {}),
    ...(p.androidSound ? { androidSound: p.androidSound } : {}),
    ...(p.apnsImage ? { apnsImage: p.apnsImage } : {}),
    ...(d.note ? { note: d.note } : {}),
    ...(d.sendAt ? { sendAt: String(Math.floor(Date.parse(d.sendAt) / 1000)) } : {}),
  };
}

export function buildRequestModal(o: {
  prefill?: Partial<ModalPrefill>;
  quota: QuotaStatus;
  attributeNames?: string[];
  privateMetadata: string;
  mode?: ModalMode;
}): ModalView {
  const p = o.prefill ?? {};
  if (o.privateMetadata.length > 3000) {
    throw new RangeError(`private_metadata is ${o.privateMetadata.length} characters; Slack allows 3000`);
  }

  const blocks: KnownBlock[] = [];

  // Quota and warning before the inputs.
  const quotaLine = quotaExhausted(o.quota)
    ? `🚫 *Today's push quota is used up.* ${formatQuota(o.quota)}. You can still ask; it can only be pushed after the reset.`
    : `📊 ${formatQuota(o.quota)}`;
  blocks.push({
    type: 'section',
    block_id: 'warning',
    text: {
      type: 'mrkdwn',
      text: "⚠️ *A push reaches users' phones and cannot be recalled.* Approvers see exactly what you enter.",
    },
  });
  blocks.push({ type: 'context', block_id: 'quota', elements: [{ type: 'mrkdwn', text: quotaLine }] });

  blocks.push(
    textInput('message', 'Message', {
      multiline: true,
      optional: false,
      hint: 'Sent as the text of the push (TIMTextElem). Every recipient sees exactly this.',
      initial: p.message,
    }),
  );

  // Audience: never pre-selected, so "everyone" is always a deliberate choice.
  const audienceOptions = (['all', 'tags', 'attributes'] as const).map((v) => opt(AUDIENCE_LABELS[v], v));
  const radio: RadioButtons = { type: 'radio_buttons', action_id: REQUEST_FIELDS.audience, options: audienceOptions };
  if (p.audience) {
    const initial = audienceOptions.find((x) => x.value === p.audience);
    if (initial) radio.initial_option = initial;
  }
  blocks.push({
    type: 'input',
    block_id: REQUEST_FIELDS.audience,
    label: pt('Who receives it'),
    hint: pt('Fill in the tags or attributes below for the matching choice. Tags and attributes cannot be combined.'),
    element: radio,
    optional: false,
  });

  blocks.push(
    textInput('tags_all', 'Tags — users must have ALL of them', {
      optional: true,
      hint: 'Separate with commas or new lines. At most 10 tags, each at most 50 bytes (about 16 Chinese characters).',
      initial: p.tagsAll,
    }),
    textInput('tags_any', 'Tags — users need ANY of them', {
      multiline: true,
      hint: 'Separate with commas or new lines. At most 10 tags, each at most 50 bytes (about 16 Chinese characters).',
      initial: p.tagsAny,
    }),
  );

  const names = (o.attributeNames ?? []).filter((n) => n.length > 0);
  const attrHint =
    'One name=value a line.' +
    (names.length ? ` Attribute names defined in your app: ${truncate(names.join(', '), 1800)}.` : '');
  blocks.push(
    textInput('attrs_all', 'Attributes — users must match ALL', { multiline: true, hint: attrHint, initial: p.attrsAll }),
    textInput('attrs_any', 'Attributes — users must match ANY', { multiline: true, hint: attrHint, initial: p.attrsAny }),
  );

  // Offline storage.
  const lifetimeOptions = LIFETIME_CHOICES.map((c) => opt(c.label, String(c.seconds)));
  // Default 1 day: "online users only" would silently drop everyone who is offline.
  let initialLifetime = lifetimeOptions.find((x) => x.value === '86400');
  if (p.lifetime !== undefined && p.lifetime.trim() !== '') {
    const v = p.lifetime.trim();
    const found = lifetimeOptions.find((x) => x.value === v);
    if (found) initialLifetime = found;
    else if (/^\d+$/.test(v) && Number(v) <= MAX_LIFETIME) {
      // A previous request used a custom value: offer it so "request again" keeps it.
      const custom = opt(formatLifetime(Number(v)), String(Number(v)));
      lifetimeOptions.push(custom);
      initialLifetime = custom;
    }
  }
  const select: StaticSelect = {
    type: 'static_select',
    action_id: REQUEST_FIELDS.lifetime,
    options: lifetimeOptions,
  };
  if (initialLifetime) select.initial_option = initialLifetime;
  blocks.push({
    type: 'input',
    block_id: REQUEST_FIELDS.lifetime,
    label: pt('Offline storage'),
    hint: pt(
      "How long Tencent keeps the push for users who are offline. Without storage only users online at that moment receive it.",
    ),
    element: select,
    optional: false,
  });

  const sendAt: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.sendAt,
    label: pt('Send time (optional)'),
    hint: pt('Empty: sent as soon as it is approved. Otherwise at this time (at most 30 days ahead); approvers approve the time too.'),
    optional: true,
    element: {
      type: 'datetimepicker',
      action_id: REQUEST_FIELDS.sendAt,
      ...(p.sendAt && /^\d+$/.test(p.sendAt) ? { initial_date_time: Number(p.sendAt) } : {}),
    } as InputBlock['element'],
  };
  blocks.push(sendAt);

  blocks.push(
    textInput('sender', 'Sender account (From_Account)', {
      hint: 'Leave empty to send as the app admin. Must be an existing account.',
      initial: p.sender,
    }),
    textInput('push_title', 'Notification title', { initial: p.pushTitle }),
    textInput('push_desc', 'Notification text', {
      hint: 'Shown in the notification bar. Defaults to the message.',
      initial: p.pushDesc,
    }),
    textInput('push_ext', 'Notification extra data (JSON)', {
      multiline: true,
      hint: 'Must be valid JSON, e.g. {"url":"app://news/1"}. At most 1 KB.',
      initial: p.pushExt,
    }),
  );

  const badgeOption = opt("Don't increase the iOS badge count", '1');
  const checkboxes: Checkboxes = { type: 'checkboxes', action_id: REQUEST_FIELDS.badgeMode, options: [badgeOption] };
  if (p.badgeMode === '1') checkboxes.initial_options = [badgeOption];
  blocks.push({
    type: 'input',
    block_id: REQUEST_FIELDS.badgeMode,
    label: pt('iOS badge'),
    element: checkboxes,
    optional: true,
  });

  blocks.push(
    textInput('apns_sound', 'iOS sound file', { hint: 'File name with its extension, e.g. alert.caf.', initial: p.apnsSound }),
    textInput('android_sound', 'Android sound file', { hint: 'File name without extension.', initial: p.androidSound }),
    textInput('apns_image', 'iOS image URL', { hint: 'Image shown in the iOS notification.', initial: p.apnsImage }),
    textInput('note', 'Note for the approvers (not sent)', {
      multiline: true,
      hint: 'Why this push, why now. Only approvers see it.',
      initial: p.note,
    }),
  );

  return {
    type: 'modal',
    callback_id: REQUEST_MODAL_CALLBACK_ID,
    private_metadata: o.privateMetadata,
    title: pt(MODE_TEXT[o.mode ?? 'new'].title),
    submit: pt(MODE_TEXT[o.mode ?? 'new'].submit),
    close: pt('Cancel'),
    blocks,
  };
}
