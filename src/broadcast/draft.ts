import { createHash } from 'node:crypto';
import { canonicalJson, checkPushBody, type ImPushBody, type PushRuleViolation } from '../tim/push-body.js';
import type { BroadcastDraft } from './types.js';

/** The parts of a draft a person fills in; errors point at one of them. */
export type DraftField =
  | 'message'
  | 'audience'
  | 'tagsAll'
  | 'tagsAny'
  | 'attrsAll'
  | 'attrsAny'
  | 'lifetime'
  | 'sender'
  | 'pushTitle'
  | 'pushDesc'
  | 'pushExt'
  | 'apnsSound'
  | 'androidSound'
  | 'apnsImage'
  | 'badgeMode'
  | 'sendAt';

export interface FieldError {
  field: DraftField;
  message: string;
  code?: number;
}

/** Translate a draft into the exact im_push body. An "all" audience has NO Condition at all. */
export function buildPushBody(draft: BroadcastDraft, msgRandom: number): ImPushBody {
  const body: ImPushBody = {
    MsgRandom: msgRandom,
    MsgLifeTime: draft.lifetimeSeconds,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: draft.message } }],
  };
  if (draft.sender) body.From_Account = draft.sender;
  const audience = draft.audience;
  if (audience.kind === 'tags') {
    body.Condition = {
      ...(audience.all.length ? { TagsAnd: audience.all } : {}),
      ...(audience.any.length ? { TagsOr: audience.any } : {}),
    };
  } else if (audience.kind === 'attributes') {
    body.Condition = {
      ...(Object.keys(audience.all).length ? { AttrsAnd: audience.all } : {}),
      ...(Object.keys(audience.any).length ? { AttrsOr: audience.any } : {}),
    };
  }
  const p = draft.offlinePush;
  if (p && Object.values(p).some((v) => v !== undefined && v !== '')) {
    const apns = {
      ...(p.apnsBadgeMode !== undefined ? { BadgeMode: p.apnsBadgeMode } : {}),
      ...(p.apnsSound ? { Sound: p.apnsSound } : {}),
      ...(p.apnsSubtitle ? { SubTitle: p.apnsSubtitle } : {}),
      ...(p.apnsImage ? { Image: p.apnsImage } : {}),
    };
    body.OfflinePushInfo = {
      PushFlag: 0,
      ...(p.title ? { Title: p.title } : {}),
      ...(p.desc ? { Desc: p.desc } : {}),
      ...(p.ext ? { Ext: p.ext } : {}),
      ...(p.androidSound ? { AndroidInfo: { Sound: p.androidSound } } : {}),
      ...(Object.keys(apns).length ? { ApnsInfo: apns } : {}),
    };
  }
  return body;
}

/** sha256 of the canonical body: an approval is bound to exactly this payload. */
export function payloadHash(body: ImPushBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/**
 * The payload version an approval is bound to, as carried by the card's buttons: the first 12 hex
 * digits of the body's sha256, plus the send time (epoch seconds) when the push is scheduled.
 */
export function payloadVersion(hash: string, sendAt?: string): string {
  const v = hash.slice(0, 12);
  return sendAt ? `${v}@${Math.floor(Date.parse(sendAt) / 1000)}` : v;
}

/** Fingerprint of what a push says to whom, for the duplicate guard (message + audience, nothing else). */
export function duplicateKey(draft: BroadcastDraft): string {
  return createHash('sha256').update(canonicalJson({ message: draft.message, audience: draft.audience })).digest('hex').slice(0, 32);
}

/** Which field of the form a rule violation belongs to. */
export function fieldOfViolation(v: PushRuleViolation): DraftField {
  const [top, second] = v.path;
  if (top === 'Condition') {
    if (v.code === 90039) return 'audience';
    if (second === 'TagsAnd') return 'tagsAll';
    if (second === 'TagsOr') return 'tagsAny';
    if (second === 'AttrsAnd') return 'attrsAll';
    if (second === 'AttrsOr') return 'attrsAny';
    return 'audience';
  }
  if (top === 'MsgLifeTime') return 'lifetime';
  if (top === 'From_Account') return 'sender';
  if (top === 'OfflinePushInfo') {
    if (second === 'Title') return 'pushTitle';
    if (second === 'Desc') return 'pushDesc';
    if (second === 'Ext') return 'pushExt';
    if (second === 'AndroidInfo') return 'androidSound';
    if (second === 'ApnsInfo') {
      const third = v.path[2];
      if (third === 'Image') return 'apnsImage';
      if (third === 'BadgeMode') return 'badgeMode';
      return 'apnsSound';
    }
    return 'pushDesc';
  }
  return 'message';
}

/** Check a draft against every rule of the push API; errors are keyed to form fields. */
export function checkDraft(draft: BroadcastDraft, msgRandom: number):
  | { ok: true; body: ImPushBody }
  | { ok: false; errors: FieldError[] } {
  const checked = checkPushBody(buildPushBody(draft, msgRandom));
  if (checked.ok) return { ok: true, body: checked.body };
  return {
    ok: false,
    errors: checked.violations.map((v) => ({ field: fieldOfViolation(v), message: v.message, code: v.code })),
  };
}
