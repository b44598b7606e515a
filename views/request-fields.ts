// The request form in one table: every field's block id (= its element's action_id), section,
// label, hint, limits, where its value goes in the draft and where it ends up in the im_push body.
// The modal is built from it (views/request-modal.ts), the submission is read and its errors are
// placed with it (src/slack/modal-input.ts), and the card lists what the push carries with it.

import type { DraftField } from '../src/broadcast/draft.js';
import { PUSH_LIMITS } from '../src/tim/push-body.js';

/** A field of the form: the draft's own fields, plus the note that is never sent. */
export type FormKey = DraftField | 'note';

export type FormSection = 'message' | 'audience' | 'delivery' | 'notification';

export const FORM_SECTIONS: ReadonlyArray<{ id: FormSection; title: string; intro?: string }> = [
  { id: 'message', title: 'Message' },
  { id: 'audience', title: 'Audience' },
  { id: 'delivery', title: 'Delivery' },
  {
    id: 'notification',
    title: 'Notification (optional)',
    intro: 'How the push shows in the notification bar of phones where the app is closed. Leave it all empty to show the message itself.',
  },
];

export interface FormChoice {
  value: string;
  label: string;
}

export interface FormField {
  key: FormKey;
  blockId: string;
  section: FormSection;
  input: 'text' | 'multiline' | 'radio' | 'select' | 'checkbox' | 'datetime';
  /** Plain words; the Tencent field name goes in the hint. */
  label: string;
  hint: string;
  /** The im_push field the value becomes, shown at the end of the hint. */
  tencent?: string;
  required: boolean;
  /** Characters the input accepts (Slack's max_length). */
  maxLength?: number;
  placeholder?: string;
  choices?: readonly FormChoice[];
  /** The choice selected in a new form. */
  initial?: string;
  /** Where the value goes in the BroadcastDraft. */
  draft?: string;
  /** Where the value ends up in the im_push body (absent: it never leaves the app). */
  body?: readonly string[];
}

/** The offline-storage choices (seconds). A new form starts at 1 day, so nobody offline is dropped by default. */
export const LIFETIME_CHOICES: readonly FormChoice[] = [
  { value: '0', label: 'Not stored: only users online right now' },
  { value: '3600', label: '1 hour' },
  { value: '21600', label: '6 hours' },
  { value: '86400', label: '1 day' },
  { value: '259200', label: '3 days' },
  { value: String(PUSH_LIMITS.maxLifeTimeSeconds), label: '7 days (the most Tencent keeps)' },
];
export const DEFAULT_LIFETIME = '86400';

const TAG_RULE = `Separate tags with commas or new lines. At most ${PUSH_LIMITS.maxTags} tags, each at most ${PUSH_LIMITS.maxTagBytes} bytes (about 16 Chinese characters).`;
const ATTR_RULE = 'One name=value a line, e.g. city=Shenzhen.';

export const REQUEST_FORM: readonly FormField[] = [
  {
    key: 'message',
    blockId: 'message',
    section: 'message',
    input: 'multiline',
    label: 'Message',
    hint: 'What every recipient reads in the app, exactly as typed: plain text, no formatting.',
    tencent: 'MsgBody → TIMTextElem.Text',
    required: true,
    maxLength: 3000,
    draft: 'message',
    body: ['MsgBody', '0', 'MsgContent', 'Text'],
  },
  {
    key: 'note',
    blockId: 'note',
    section: 'message',
    input: 'multiline',
    label: 'Note for the approvers',
    hint: 'Why this push, why now. Only the approvers see it; it is never sent.',
    required: false,
    maxLength: 1000,
    draft: 'note',
  },
  {
    key: 'audience',
    blockId: 'audience',
    section: 'audience',
    input: 'radio',
    label: 'Who receives it',
    hint: 'Fill in the tags or attributes below for those choices. Tags and attributes cannot be combined in one push.',
    tencent: 'Condition (left out for everyone)',
    required: true,
    choices: [
      { value: 'all', label: 'Everyone: every user of the app' },
      { value: 'tags', label: 'Users with tags' },
      { value: 'attributes', label: 'Users with attributes' },
    ],
    draft: 'audience.kind',
  },
  {
    key: 'tagsAll',
    blockId: 'tags_all',
    section: 'audience',
    input: 'multiline',
    label: 'Tags: users with all of these',
    hint: TAG_RULE,
    tencent: 'Condition.TagsAnd',
    required: false,
    maxLength: 1000,
    draft: 'audience.all',
    body: ['Condition', 'TagsAnd'],
  },
  {
    key: 'tagsAny',
    blockId: 'tags_any',
    section: 'audience',
    input: 'multiline',
    label: 'Tags: users with any of these',
    hint: TAG_RULE,
    tencent: 'Condition.TagsOr',
    required: false,
    maxLength: 1000,
    draft: 'audience.any',
    body: ['Condition', 'TagsOr'],
  },
  {
    key: 'attrsAll',
    blockId: 'attrs_all',
    section: 'audience',
    input: 'multiline',
    label: 'Attributes: users matching all of these',
    hint: ATTR_RULE,
    tencent: 'Condition.AttrsAnd',
    required: false,
    maxLength: 1500,
    draft: 'audience.all',
    body: ['Condition', 'AttrsAnd'],
  },
  {
    key: 'attrsAny',
    blockId: 'attrs_any',
    section: 'audience',
    input: 'multiline',
    label: 'Attributes: users matching any of these',
    hint: ATTR_RULE,
    tencent: 'Condition.AttrsOr',
    required: false,
    maxLength: 1500,
    draft: 'audience.any',
    body: ['Condition', 'AttrsOr'],
  },
  {
    key: 'lifetime',
    blockId: 'lifetime',
    section: 'delivery',
    input: 'select',
    label: 'Stored for offline users',
    hint:
      'Users who are offline when it goes out receive it when they come back within this time; later than that, never. ' +
      '“Not stored” reaches only users online at that moment. 7 days is the most Tencent keeps.',
    tencent: 'MsgLifeTime, in seconds',
    required: true,
    choices: LIFETIME_CHOICES,
    initial: DEFAULT_LIFETIME,
    draft: 'lifetimeSeconds',
    body: ['MsgLifeTime'],
  },
  {
    key: 'sendAt',
    blockId: 'send_at',
    section: 'delivery',
    input: 'datetime',
    label: 'Send time',
    hint: 'Empty: sent as soon as it is approved. Otherwise at this time, at most 30 days ahead; the approval covers the time too.',
    required: false,
    draft: 'sendAt',
  },
  {
    key: 'sender',
    blockId: 'sender',
    section: 'delivery',
    input: 'text',
    label: 'Sender account',
    hint: 'The IM account the message comes from. Empty: the app admin. It must be an existing account.',
    tencent: 'From_Account',
    required: false,
    maxLength: 100,
    draft: 'sender',
    body: ['From_Account'],
  },
  {
    key: 'pushTitle',
    blockId: 'push_title',
    section: 'notification',
    input: 'text',
    label: 'Notification title',
    hint: 'The bold first line of the notification. Empty: phones show the app’s name.',
    tencent: 'OfflinePushInfo.Title',
    required: false,
    maxLength: 100,
    draft: 'offlinePush.title',
    body: ['OfflinePushInfo', 'Title'],
  },
  {
    key: 'pushDesc',
    blockId: 'push_desc',
    section: 'notification',
    input: 'multiline',
    label: 'Notification text',
    hint: 'Shown in the notification instead of the message; the message in the app stays as written. Empty: the message is shown.',
    tencent: 'OfflinePushInfo.Desc',
    required: false,
    maxLength: 1000,
    draft: 'offlinePush.desc',
    body: ['OfflinePushInfo', 'Desc'],
  },
  {
    key: 'pushExt',
    blockId: 'push_ext',
    section: 'notification',
    input: 'multiline',
    label: 'Data for the app (JSON)',
    hint: 'Handed to the app when someone opens the notification, e.g. {"url":"app://news/1"}. It must be valid JSON, at most 1 KB.',
    tencent: 'OfflinePushInfo.Ext',
    required: false,
    maxLength: PUSH_LIMITS.maxExtBytes,
    draft: 'offlinePush.ext',
    body: ['OfflinePushInfo', 'Ext'],
  },
  {
    key: 'badgeMode',
    blockId: 'badge_mode',
    section: 'notification',
    input: 'checkbox',
    label: 'iOS badge',
    hint: 'Checked: the number on the app icon stays as it is.',
    tencent: 'OfflinePushInfo.ApnsInfo.BadgeMode',
    required: false,
    choices: [{ value: '1', label: 'Don’t increase the app icon’s badge count' }],
    draft: 'offlinePush.apnsBadgeMode',
    body: ['OfflinePushInfo', 'ApnsInfo', 'BadgeMode'],
  },
  {
    key: 'apnsSound',
    blockId: 'apns_sound',
    section: 'notification',
    input: 'text',
    label: 'iOS sound',
    hint: 'A sound file in the app, with its extension, e.g. alert.caf. Empty: the default sound.',
    tencent: 'OfflinePushInfo.ApnsInfo.Sound',
    required: false,
    maxLength: 200,
    draft: 'offlinePush.apnsSound',
    body: ['OfflinePushInfo', 'ApnsInfo', 'Sound'],
  },
  {
    key: 'androidSound',
    blockId: 'android_sound',
    section: 'notification',
    input: 'text',
    label: 'Android sound',
    hint: 'A sound file in the app, without its extension. Empty: the default sound.',
    tencent: 'OfflinePushInfo.AndroidInfo.Sound',
    required: false,
    maxLength: 200,
    draft: 'offlinePush.androidSound',
    body: ['OfflinePushInfo', 'AndroidInfo', 'Sound'],
  },
  {
    key: 'apnsImage',
    blockId: 'apns_image',
    section: 'notification',
    input: 'text',
    label: 'iOS image',
    hint: 'The web address (https) of an image shown in the notification on iOS.',
    tencent: 'OfflinePushInfo.ApnsInfo.Image',
    required: false,
    maxLength: 1000,
    draft: 'offlinePush.apnsImage',
    body: ['OfflinePushInfo', 'ApnsInfo', 'Image'],
  },
];

const BY_KEY = new Map(REQUEST_FORM.map((f) => [f.key, f]));

/** The form field of `key` (every FormKey has exactly one). */
export function formField(key: FormKey): FormField {
  const f = BY_KEY.get(key);
  if (!f) throw new Error(`no form field ${key}`);
  return f;
}

/** block_id (= action_id) of every field, by key: where each field's value and error live. */
export const REQUEST_FIELDS = Object.fromEntries(REQUEST_FORM.map((f) => [f.key, f.blockId])) as Record<FormKey, string>;

/** The hint as shown: plain words, then the Tencent field name. */
export function hintOf(f: FormField, extra?: string): string {
  return [f.hint, extra, f.tencent ? `Tencent field: ${f.tencent}.` : undefined].filter(Boolean).join(' ');
}
