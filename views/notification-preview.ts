// How the push will look in the notification bar of iOS and Android phones, worked out from what
// the push carries (reference §1.4 and §3): which title and text are used, where the lock screen
// cuts them, and the cases where no offline notification appears at all.

import type { ContextBlock } from '@slack/types';
import type { ImPushBody } from '../src/tim/push-body.js';
import { charCount } from './format.js';

/**
 * About how many characters a lock screen shows before it cuts (typical phones; devices and font
 * sizes differ). iOS: one line of title, about four lines of text; Android: the collapsed view.
 */
export const LOCK_SCREEN = { iosTitle: 50, iosText: 150, androidTitle: 65, androidText: 240 } as const;

/** The parts of a push that decide its notification. */
export interface NotificationSource {
  elements: ReadonlyArray<{ MsgType: string; MsgContent: Record<string, unknown> }>;
  title?: string | undefined;
  iosTitle?: string | undefined;
  iosSubtitle?: string | undefined;
  desc?: string | undefined;
  /** 1: no offline notification. */
  pushFlag?: number | undefined;
  /** MsgLifeTime; 0 = only users online at that moment receive it. */
  lifetimeSeconds?: number | undefined;
}

export function sourceOfBody(body: Pick<ImPushBody, 'MsgBody' | 'OfflinePushInfo' | 'MsgLifeTime'>): NotificationSource {
  const p = body.OfflinePushInfo;
  return {
    elements: body.MsgBody as NotificationSource['elements'],
    title: p?.Title,
    iosTitle: p?.ApnsInfo?.Title,
    iosSubtitle: p?.ApnsInfo?.SubTitle,
    desc: p?.Desc,
    pushFlag: p?.PushFlag,
    lifetimeSeconds: body.MsgLifeTime,
  };
}

// Tencent's default notification text per element type (reference §3).
const DEFAULT_TEXT: Record<string, string> = {
  TIMLocationElem: '[Location]',
  TIMFaceElem: '[Sticker]',
  TIMSoundElem: '[Voice]',
  TIMImageElem: '[Image]',
  TIMFileElem: '[File]',
  TIMVideoFileElem: '[Video]',
};

/** The text the notification shows, or undefined when there is none (custom-only without Desc). */
function notificationText(s: NotificationSource): { text: string; from: 'desc' | 'message' } | undefined {
  if (s.desc) return { text: s.desc, from: 'desc' };
  const parts: string[] = [];
  for (const e of s.elements) {
    if (e.MsgType === 'TIMTextElem') parts.push(String(e.MsgContent['Text'] ?? ''));
    else if (e.MsgType === 'TIMCustomElem') {
      const d = e.MsgContent['Desc'];
      if (typeof d === 'string' && d) parts.push(d);
    } else parts.push(DEFAULT_TEXT[e.MsgType] ?? '');
  }
  const text = parts.join('').trim();
  return text ? { text, from: 'message' } : undefined;
}

function firstChars(text: string, n: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length <= n ? chars.join('') : `${chars.slice(0, n).join('').trimEnd()}…`;
}

export interface NotificationPreview {
  /** Plain lines: how each platform shows it (the excerpts are what a lock screen shows). */
  looks: string[];
  /** mrkdwn lines (app text only): where the notification differs from the message, or does not appear. */
  warnings: string[];
}

/** The preview as a context block: the looks in plain text (as phones show them), the warnings after. */
export function previewContext(p: NotificationPreview, blockId?: string): ContextBlock {
  const elements: ContextBlock['elements'] = [{ type: 'mrkdwn', text: '*Notification preview*' }];
  if (p.looks.length) elements.push({ type: 'plain_text', text: p.looks.join('\n'), emoji: false });
  if (p.warnings.length) elements.push({ type: 'mrkdwn', text: p.warnings.map((w) => `⚠️ ${w}`).join('\n') });
  return { type: 'context', elements, ...(blockId ? { block_id: blockId } : {}) };
}

/** The preview of a notification. */
export function notificationPreview(s: NotificationSource): NotificationPreview {
  const warnings: string[] = [];
  const looks: string[] = [];
  if (s.lifetimeSeconds === 0) warnings.push('Not stored for offline users: only people online at that moment receive it; nobody else gets it or a notification.');
  if (s.pushFlag === 1) {
    warnings.push('Offline notifications are turned off for this push: people whose app is closed see nothing until they open it.');
    return { looks, warnings };
  }
  const text = notificationText(s);
  if (!text) {
    warnings.push('This message has only a custom part and no notification text, so phones with the app closed get *no notification at all*. Fill in “Notification text” to give it one.');
    return { looks, warnings };
  }
  const iosTitle = s.iosTitle || s.title;
  const show = (title: string | undefined, titleMax: number, textMax: number) =>
    `${title ? firstChars(title, titleMax) : '(app name)'} — ${firstChars(text.text, textMax)}`;
  looks.push(`iPhone: ${show(iosTitle, LOCK_SCREEN.iosTitle, LOCK_SCREEN.iosText)}${s.iosSubtitle ? ` (subtitle: ${firstChars(s.iosSubtitle, LOCK_SCREEN.iosTitle)})` : ''}`);
  looks.push(`Android: ${show(s.title, LOCK_SCREEN.androidTitle, LOCK_SCREEN.androidText)}`);
  if (text.from === 'desc') warnings.push('The notification shows the *notification text*, not the message; people read the message itself when they open the app.');
  const n = charCount(text.text.replace(/\s+/g, ' ').trim());
  if (n > LOCK_SCREEN.iosText) {
    warnings.push(
      n > LOCK_SCREEN.androidText
        ? `The lock screen cuts the text: about ${LOCK_SCREEN.iosText} characters show on iPhones and ${LOCK_SCREEN.androidText} on Android, of ${n}. Put what matters first.`
        : `The lock screen of iPhones cuts the text after about ${LOCK_SCREEN.iosText} characters (of ${n}); Android shows it all. Put what matters first.`,
    );
  }
  const titleLen = iosTitle ? charCount(iosTitle) : 0;
  if (titleLen > LOCK_SCREEN.iosTitle) warnings.push(`The title is cut after about ${LOCK_SCREEN.iosTitle} characters on iPhones (of ${titleLen}).`);
  return { looks, warnings };
}
