// Domain types of a broadcast request. Pure data: no Slack, no HTTP.
// Views read these types; the store persists a request as one JSON document plus its index columns.
import type { ImPushBody } from '../tim/push-body.js';

/** Who receives the push. An empty Condition means EVERY user, so "all" must be chosen explicitly. */
export type Audience =
  | { kind: 'all' }
  | { kind: 'tags'; all: string[]; any: string[] }
  | { kind: 'attributes'; all: Record<string, string>; any: Record<string, string> };

/** Notification-bar (APNs / Android vendor) settings chosen by the requester. */
export interface OfflinePushDraft {
  title?: string;
  desc?: string;
  /** Must be a JSON string (Android vendors drop the push otherwise). */
  ext?: string;
  /** 1 = do not increment the iOS badge. */
  apnsBadgeMode?: 0 | 1;
  apnsSound?: string;
  apnsSubtitle?: string;
  apnsImage?: string;
  androidSound?: string;
}

/** What the requester asked for, in the requester's own terms. */
export interface BroadcastDraft {
  message: string;
  audience: Audience;
  /** Offline storage in seconds, 0..604800. 0 = online users only. */
  lifetimeSeconds: number;
  /** From_Account; absent = the app admin. */
  sender?: string;
  offlinePush?: OfflinePushDraft;
  /** For the approvers only; never sent. */
  note?: string;
  /** ISO time the push should go out; absent = as soon as it is approved. */
  sendAt?: string;
}

export const REQUEST_STATES = [
  'pending',
  'approved',
  'scheduled',
  'sending',
  'sent',
  'failed',
  'rejected',
  'expired',
  'cancelled',
  'unknown',
  'not_sent',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export interface Approval {
  userId: string;
  at: string;
  /** The payload version shown on the card the approval was given on. */
  version: string;
}

/** Who rejected or cancelled, when, and why. */
export interface Decision {
  by: string;
  at: string;
  reason?: string;
}

/** A Tencent error explained in plain words (copied from src/tim/errors.ts so views need no tim import). */
export interface Explanation {
  code: number | null;
  title: string;
  what: string;
  action: string;
  retry: 'no' | 'yes' | 'wait';
}

/** Result of the push, as far as we know it. */
export type PushResultRecord =
  | { kind: 'sent'; taskId: string; attempts: number; at: string }
  | { kind: 'failed'; code: number | null; info: string; explanation: Explanation; attempts: number; at: string }
  | { kind: 'unknown'; reason: string; explanation: Explanation; attempts: number; at: string };

/** How a person settled an outcome the app could not know. */
export interface Resolution {
  kind: 'sent' | 'not_sent';
  by: string;
  at: string;
  /** TaskId read from the Tencent console, when given. */
  taskId?: string;
}

/** The kinds of event in a request's history; the lifecycle table (lifecycle.ts) says what each does. */
export type EventKind =
  | 'submitted'
  | 'edited'
  | 'approval'
  | 'approved'
  | 'scheduled'
  | 'claimed'
  | 'handed_back'
  | 'rescheduled'
  | 'sending'
  | 'sent'
  | 'failed'
  | 'unknown'
  | 'marked_sent'
  | 'marked_not_sent'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'late'
  | 'requested_again'
  | 'delivery_ended';

/** One entry of the append-only audit history. */
export interface HistoryEntry {
  kind: EventKind;
  at: string;
  from: RequestState | null;
  to: RequestState;
  by?: string;
  note?: string;
  /** Payload version at this event (submitted, edited, approvals). */
  version?: string;
  /** Approvals counted so far and needed (approval events). */
  count?: number;
  required?: number;
  taskId?: string;
  code?: number | null;
  /** Another request this event links to (requested again). */
  otherId?: string;
  /** Which notification target an ended delivery was for (delivery_ended). */
  target?: NotifyTarget;
}

/** Where the approval card lives (its thread holds the audit record). */
export interface CardRef {
  channel: string;
  ts: string;
  permalink?: string;
}

/** Where people hear about a change: the approval card, its thread, the requester's DM. */
export type NotifyTarget = 'card' | 'thread' | 'dm';

/** Delivery bookkeeping of one target: tried how often, next try when, last error. */
export interface DeliveryState {
  attempts: number;
  /** ISO time of the next attempt. */
  nextAt: string;
  lastError?: string;
}

/**
 * Notifications still owed to people, stored in the request itself so that they are written in the
 * same atomic step as the event they announce (a transactional outbox). Each target is independent:
 * the card shows the latest state (re-rendered while `card` is set), the thread and the DM walk the
 * history with a cursor, posting one entry per event that owes one.
 */
export interface Outbox {
  /** Set while the card must be (re)rendered; `mark` tells a newer render request from the one delivered. */
  card?: DeliveryState & { mark: string };
  thread: { cursor: number; retry?: DeliveryState };
  dm: { cursor: number; retry?: DeliveryState };
  /** Targets that failed for good (the Slack error), no longer tried. */
  ended?: Partial<Record<NotifyTarget, string>>;
  /** The instance delivering right now, so two instances never post the same thread entry. */
  lease?: Lease;
}

/** An instance's claim on a request it is pushing (approved/sending), renewed while it works. */
export interface Lease {
  owner: string;
  until: string;
}

export interface BroadcastRequest {
  id: string;
  /** Monotonic revision used for compare-and-swap in the store. */
  rev: number;
  state: RequestState;
  requesterId: string;
  teamId?: string;
  createdAt: string;
  updatedAt: string;
  draft: BroadcastDraft;
  /** The exact im_push body that approval authorises, including its MsgRandom. */
  body: ImPushBody;
  /** sha256 of the canonical body. */
  payloadHash: string;
  /** What approvals are bound to: the body's hash prefix, plus the send time when there is one. */
  version: string;
  /** Distinct approvers needed (fixed at submission and edit). */
  requiredApprovals: number;
  /** Approvals given for the current version. */
  approvals: Approval[];
  decision?: Decision;
  /** A pending request expires at this time. */
  expiresAt: string;
  /** Approved and waiting: pushed at this time (the requested send time, or the end of quiet hours). */
  scheduledFor?: string;
  holdReason?: 'send_at' | 'quiet_hours';
  lease?: Lease;
  /** Quota day (YYYY-MM-DD in the quota time zone) the push was counted against. */
  quotaDay?: string;
  sendingAt?: string;
  result?: PushResultRecord;
  resolution?: Resolution;
  /** The request this one asks again for, and those that asked this one again. */
  againOf?: string;
  againAs?: string[];
  /** A push of the same message to the same audience in the last 24 hours, when there was one. */
  duplicateOf?: { id: string; sentAt: string; taskId?: string; card?: CardRef };
  card?: CardRef;
  history: HistoryEntry[];
  outbox: Outbox;
  /** Fingerprint of message + audience (duplicate guard). */
  dedupKey: string;
  /** Random stamp of the last write, so an ambiguous store error can be resolved by reading back. */
  writeId?: string;
}

/** Today's quota as shown to people. */
export interface QuotaStatus {
  day: string;
  used: number;
  limit: number;
  /** True when Tencent said 90047 for this day even if our count is lower. */
  exhausted: boolean;
  timezone: string;
  /** ISO time of the next reset. */
  resetsAt: string;
}

/** Why an action by a person changed nothing. */
export type Refusal =
  | 'not_approver'
  | 'is_requester'
  | 'not_requester'
  | 'already_decided'
  | 'already_approved_by_you'
  | 'unknown_request'
  | 'quota_exhausted'
  | 'store_unavailable'
  | 'store_uncertain'
  | 'stale_version'
  | 'expired'
  | 'send_time_passed'
  | 'not_unknown';
