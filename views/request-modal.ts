// The /broadcast request form, built from the field table (views/request-fields.ts) in four
// sections: Message, Audience, Delivery, Notification (optional). Pure: prefill + quota in,
// Block Kit view out. Every input block's block_id equals its element's action_id, so errors
// (response_action: 'errors', keyed by block_id) and state lookups use one name per field.

import type { InputBlock, KnownBlock, ModalView as SlackModalView, PlainTextElement, PlainTextOption } from '@slack/types';
import { formatQuietHours, type QuietHours } from '../src/broadcast/time.js';
import type { BroadcastDraft, QuotaStatus } from '../src/broadcast/types.js';
import { button, context, sandboxBlock, section } from './blocks.js';
import { ACTIONS } from './context.js';
import { escapeMrkdwn, formatLifetime, formatQuota, quotaExhausted, truncate } from './format.js';
import { notificationPreview, previewContext } from './notification-preview.js';
import { FORM_SECTIONS, REQUEST_FIELDS, REQUEST_FORM, hintOf, type FormField, type FormKey } from './request-fields.js';

export { LIFETIME_CHOICES, REQUEST_FIELDS, REQUEST_FORM } from './request-fields.js';

/** Slack's modal view with blocks narrowed to KnownBlock (assignable to `View` for views.open/update). */
export type ModalView = Omit<SlackModalView, 'blocks'> & { blocks: KnownBlock[] };

export const REQUEST_MODAL_CALLBACK_ID = 'broadcast_request';
export const PREVIEW_BLOCK_ID = 'preview';

/** What the form shows in each field, as text (choices by value; the send time in epoch seconds). */
export type ModalPrefill = Record<FormKey, string>;

export type RequestFieldId = (typeof REQUEST_FIELDS)[FormKey];

/** Which form this is: a new request, an edit of a pending one, or asking again from an old one. */
export type ModalMode = 'new' | 'edit' | 'again';

const MODE_TEXT: Record<ModalMode, { title: string; submit: string }> = {
  new: { title: 'Request a broadcast', submit: 'Request approval' },
  edit: { title: 'Edit broadcast', submit: 'Save changes' },
  again: { title: 'Request again', submit: 'Request approval' },
};

const pt = (text: string): PlainTextElement => ({ type: 'plain_text', text, emoji: false });
const opt = (text: string, value: string): PlainTextOption => ({ text: pt(truncate(text, 75)), value });

/** The form filled in from a request's draft (edit, request again). */
export function prefillFromDraft(d: BroadcastDraft): Partial<ModalPrefill> {
  const a = d.audience;
  const pairs = (r: Record<string, string>) => Object.entries(r).map(([k, v]) => `${k}=${v}`).join('\n');
  const p = d.offlinePush ?? {};
  return {
    message: d.message,
    audience: a.kind,
    ...(a.kind === 'tags' ? { tagsAll: a.all.join('\n'), tagsAny: a.any.join('\n') } : {}),
    ...(a.kind === 'attributes' ? { attrsAll: pairs(a.all), attrsAny: pairs(a.any) } : {}),
    lifetime: String(d.lifetimeSeconds),
    ...(d.sender ? { sender: d.sender } : {}),
    ...(p.title ? { pushTitle: p.title } : {}),
    ...(p.desc ? { pushDesc: p.desc } : {}),
    ...(p.ext ? { pushExt: p.ext } : {}),
    ...(p.apnsBadgeMode === 1 ? { badgeMode: '1' } : {}),
    ...(p.apnsSound ? { apnsSound: p.apnsSound } : {}),
    ...(p.androidSound ? { androidSound: p.androidSound } : {}),
    ...(p.apnsImage ? { apnsImage: p.apnsImage } : {}),
    ...(d.note ? { note: d.note } : {}),
    ...(d.sendAt ? { sendAt: String(Math.floor(Date.parse(d.sendAt) / 1000)) } : {}),
  };
}

/** The notification preview of what the form holds, as a context block under the message. */
function previewBlock(p: Partial<ModalPrefill>): KnownBlock {
  const message = p.message ?? '';
  if (!message.trim() && !p.pushDesc?.trim()) {
    return { ...context('*Notification preview:* write the message, then press “Update preview” to see how phones will show it.'), block_id: PREVIEW_BLOCK_ID };
  }
  const lifetime = p.lifetime !== undefined && /^\d+$/.test(p.lifetime) ? Number(p.lifetime) : undefined;
  const preview = notificationPreview({
    elements: [{ MsgType: 'TIMTextElem', MsgContent: { Text: message } }],
    title: p.pushTitle?.trim() || undefined,
    desc: p.pushDesc?.trim() || undefined,
    lifetimeSeconds: lifetime,
  });
  return previewContext(preview, PREVIEW_BLOCK_ID);
}

function inputOf(f: FormField, p: Partial<ModalPrefill>, o: { attributeNames: string[]; quietHint?: string }): InputBlock {
  const given = p[f.key];
  let extra: string | undefined;
  let element: InputBlock['element'];
  switch (f.input) {
    case 'text':
    case 'multiline': {
      const max = f.maxLength ?? 3000;
      element = {
        type: 'plain_text_input',
        action_id: f.blockId,
        max_length: max,
        ...(f.input === 'multiline' ? { multiline: true } : {}),
        ...(f.placeholder ? { placeholder: pt(truncate(f.placeholder, 150)) } : {}),
        // Slack refuses an initial_value longer than max_length; the request it came from passed the same limit.
        ...(given ? { initial_value: given.slice(0, max) } : {}),
      };
      if ((f.key === 'attrsAll' || f.key === 'attrsAny') && o.attributeNames.length) {
        extra = `Attribute names of this app: ${truncate(o.attributeNames.join(', '), 1200)}.`;
      }
      break;
    }
    case 'radio':
    case 'select': {
      const options = (f.choices ?? []).map((c) => opt(c.label, c.value));
      const chosen = given?.trim() || f.initial;
      let initial = options.find((x) => x.value === chosen);
      if (!initial && f.key === 'lifetime' && chosen && /^\d+$/.test(chosen) && Number(chosen) <= 604800) {
        // An earlier request used a value the list does not offer: keep it, so "request again" changes nothing.
        initial = opt(formatLifetime(Number(chosen)), String(Number(chosen)));
        options.push(initial);
      }
      element = f.input === 'radio'
        ? { type: 'radio_buttons', action_id: f.blockId, options, ...(initial ? { initial_option: initial } : {}) }
        : { type: 'static_select', action_id: f.blockId, options, ...(initial ? { initial_option: initial } : {}) };
      break;
    }
    case 'checkbox': {
      const options = (f.choices ?? []).map((c) => opt(c.label, c.value));
      const chosen = new Set((given ?? '').split(',').filter(Boolean));
      const initial = options.filter((x) => x.value !== undefined && chosen.has(x.value));
      element = { type: 'checkboxes', action_id: f.blockId, options, ...(initial.length ? { initial_options: initial } : {}) };
      break;
    }
    case 'datetime':
      element = { type: 'datetimepicker', action_id: f.blockId, ...(given && /^\d+$/.test(given) ? { initial_date_time: Number(given) } : {}) } as InputBlock['element'];
      if (f.key === 'sendAt') extra = o.quietHint;
      break;
  }
  return { type: 'input', block_id: f.blockId, label: pt(f.label), hint: pt(truncate(hintOf(f, extra), 2000)), element, optional: !f.required };
}

export function buildRequestModal(o: {
  prefill?: Partial<ModalPrefill>;
  quota: QuotaStatus;
  attributeNames?: string[];
  privateMetadata: string;
  mode?: ModalMode;
  sandbox?: boolean;
  /** QUIET_HOURS, said in the send time's hint. */
  quietHours?: QuietHours;
}): ModalView {
  const p = o.prefill ?? {};
  if (o.privateMetadata.length > 3000) throw new RangeError(`private_metadata is ${o.privateMetadata.length} characters; Slack allows 3000`);
  const attributeNames = (o.attributeNames ?? []).filter((n) => n.length > 0);
  const quietHint = o.quietHours ? `No push goes out in the quiet hours, ${formatQuietHours(o.quietHours)} (${o.quota.timezone}).` : undefined;

  const blocks: KnownBlock[] = [];
  if (o.sandbox) blocks.push(sandboxBlock());
  blocks.push({ ...section('⚠️ *A push reaches people’s phones and cannot be recalled.* The approvers see exactly what you enter here.'), block_id: 'warning' });
  blocks.push({
    ...context(quotaExhausted(o.quota) ? `🚫 *Today’s quota is used up:* ${formatQuota(o.quota)}. You can still ask; it can be pushed after the reset.` : `Quota: ${formatQuota(o.quota)}.`),
    block_id: 'quota',
  });

  for (const s of FORM_SECTIONS) {
    blocks.push({ type: 'header', block_id: `section_${s.id}`, text: pt(s.title) });
    if (s.intro) blocks.push(context(escapeMrkdwn(s.intro)));
    for (const f of REQUEST_FORM.filter((x) => x.section === s.id)) {
      blocks.push(inputOf(f, p, { attributeNames, ...(quietHint ? { quietHint } : {}) }));
      if (f.key === 'message') {
        blocks.push(previewBlock(p));
        blocks.push({
          type: 'actions',
          block_id: 'preview_actions',
          elements: [button({ actionId: ACTIONS.preview, text: 'Update preview', value: 'preview', label: 'Update the notification preview from what is typed' })],
        });
      }
    }
  }

  const mode = MODE_TEXT[o.mode ?? 'new'];
  return {
    type: 'modal',
    callback_id: REQUEST_MODAL_CALLBACK_ID,
    private_metadata: o.privateMetadata,
    title: pt(mode.title),
    submit: pt(mode.submit),
    close: pt('Cancel'),
    blocks,
  };
}
