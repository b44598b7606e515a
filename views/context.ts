// What every view needs to know besides the request: the moment, the quota, who approves, links.
// Built by the notifier and the listeners; views stay pure functions of it.
import type { QuietHours } from '../src/broadcast/time.js';
import type { BroadcastRequest, QuotaStatus } from '../src/broadcast/types.js';

export interface ViewContext {
  now: Date;
  /** TIM_REGION=sandbox: every surface says nothing reaches real users. */
  sandbox: boolean;
  approvalChannel: string;
  /** APPROVERS as configured: user ids and user-group ids. */
  approvers: { users: string[]; groups: string[] };
  quota: QuotaStatus;
  quietHours?: QuietHours;
  /** Registered users of the app (Tencent getappinfo), shown for pushes to everyone. */
  audienceSize?: { count: number; date: string } | 'unknown';
  /** Card permalinks of requests this one links to (asked again from/as, duplicate of), by request id. */
  links?: Record<string, string | undefined>;
}

/** Block Kit action ids of the card, the modals and the Home tab. */
export const ACTIONS = {
  approve: 'approve',
  approveNow: 'approve_now',
  reject: 'reject',
  cancel: 'cancel',
  edit: 'edit',
  requestAgain: 'request_again',
  markSent: 'mark_sent',
  markNotSent: 'mark_not_sent',
  homeNew: 'home_new_broadcast',
  /** In the request form: show the notification preview of what is typed so far. */
  preview: 'request_preview',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** The value every card button carries: the request and the exact payload version on that card. */
export function buttonValue(r: Pick<BroadcastRequest, 'id' | 'version'>): string {
  return `${r.id}:${r.version}`;
}

/** The request id and payload version a button click names (a bare id from an old card has no version). */
export function parseButtonValue(value: string | undefined): { requestId: string; version: string } {
  const v = String(value ?? '');
  const i = v.indexOf(':');
  return i < 0 ? { requestId: v, version: '' } : { requestId: v.slice(0, i), version: v.slice(i + 1) };
}

export const SANDBOX_BANNER = 'SANDBOX — nothing reaches real users';
