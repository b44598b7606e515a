// Domain types of a broadcast request. Pure data: no Slack, no HTTP.
// Views read these types; the store persists them as JSON.

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
}

export const REQUEST_STATES = [
  'pending',
  'approved',
  'sending',
  'sent',
  'failed',
  'rejected',
  'expired',
  'cancelled',
  'unknown',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export interface Approval {
  userId: string;
  at: string;
  /** Approval is bound to the exact payload it was given for. */
  payloadHash: string;
}

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
  | {
      kind: 'failed';
      code: number | null;
      info: string;
      explanation: Explanation;
      attempts: number;
      at: string;
    }
  | { kind: 'unknown'; reason: string; explanation: Explanation; attempts: number; at: string };

export interface HistoryEntry {
  at: string;
  from: RequestState | null;
  to: RequestState;
  by?: string;
  note?: string;
}

/** Where the approval card lives (its thread holds the audit record). */
export interface CardRef {
  channel: string;
  ts: string;
}

/** Where people hear about a change: the approval card, its thread, the requester. */
export type NotifyTarget = 'card' | 'thread' | 'requester';

/**
 * A notification still owed to people, stored in the request itself so that it is written
 * in the same atomic step as the state change it announces (a transactional outbox).
 */
export interface PendingNotification {
  /** The state being announced. */
  event: RequestState;
  targets: NotifyTarget[];
  attempts: number;
  /** Earliest ISO time of the next delivery attempt. */
  nextAt: string;
  lastError?: string;
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
  body: import('../tim/push-body.js').ImPushBody;
  /** sha256 of the canonical body: what an approval is bound to. */
  payloadHash: string;
  card?: CardRef;
  approvals: Approval[];
  decision?: Decision;
  /** Quota day (YYYY-MM-DD in the quota time zone) the send was counted against. */
  quotaDay?: string;
  sendingAt?: string;
  result?: PushResultRecord;
  history: HistoryEntry[];
  /** Notifications not yet delivered, oldest first. */
  outbox: PendingNotification[];
  /** Which instance is delivering the outbox, until when. */
  outboxLease?: { owner: string; until: string };
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
