import type { InputBlock, KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { BroadcastDraft } from '../../src/broadcast/types.js';
import { draftFromModal } from '../../src/slack/modal-input.js';
import { ACTIONS, SANDBOX_BANNER } from '../../views/context.js';
import { notificationPreview } from '../../views/notification-preview.js';
import { FORM_SECTIONS, REQUEST_FIELDS, REQUEST_FORM } from '../../views/request-fields.js';
import { PREVIEW_BLOCK_ID, buildRequestModal, prefillFromDraft, type ModalMode } from '../../views/request-modal.js';
import { valuesFromModal } from '../helpers/slack-requests.js';
import { viewProblems } from './block-kit.js';
import { allTexts, quota } from './fixtures.js';

const modal = (o: Partial<Parameters<typeof buildRequestModal>[0]> = {}) => buildRequestModal({ quota: quota(), privateMetadata: '{"mode":"new"}', ...o });
const inputs = (blocks: KnownBlock[]) => blocks.filter((b): b is InputBlock => b.type === 'input');
const input = (blocks: KnownBlock[], id: string) => inputs(blocks).find((b) => b.block_id === id)!;
const text = (blocks: KnownBlock[]) => allTexts(blocks).join('\n');

describe('the form, from the field table', () => {
  it('has the four sections, in order, each with its fields', () => {
    const { blocks } = modal();
    const headers = blocks.filter((b) => b.type === 'header').map((b) => (b as { text: { text: string } }).text.text);
    expect(headers).toEqual(['Message', 'Audience', 'Delivery', 'Notification (optional)']);
    let section = '';
    const seen: Record<string, string[]> = {};
    for (const b of blocks) {
      if (b.type === 'header') section = (b as { text: { text: string } }).text.text;
      if (b.type === 'input') (seen[section] ??= []).push(b.block_id!);
    }
    for (const s of FORM_SECTIONS) expect(seen[s.title]).toEqual(REQUEST_FORM.filter((f) => f.section === s.id).map((f) => f.blockId));
  });

  it('every input: block_id = action_id = the table’s id, a plain label, the Tencent name in the hint', () => {
    const { blocks } = modal();
    expect(inputs(blocks).map((b) => b.block_id)).toEqual(REQUEST_FORM.map((f) => f.blockId));
    for (const f of REQUEST_FORM) {
      const b = input(blocks, f.blockId);
      expect((b.element as { action_id: string }).action_id).toBe(f.blockId);
      expect(b.label.text).toBe(f.label);
      expect(b.label.text.replace('iOS', 'Ios')).not.toMatch(/_|[a-z][A-Z]|Info|MsgLifeTime|From_Account/);
      if (f.tencent) expect(b.hint!.text).toContain(`Tencent field: ${f.tencent}.`);
      expect(b.optional).toBe(!f.required);
      if (f.maxLength) expect((b.element as { max_length: number }).max_length).toBe(f.maxLength);
    }
    expect(REQUEST_FIELDS.lifetime).toBe('lifetime');
  });

  it('offline storage starts at 1 day, must be chosen, and the hint says what a choice means', () => {
    const b = input(modal().blocks, 'lifetime');
    expect((b.element as any).initial_option.value).toBe('86400');
    expect(b.optional).toBe(false);
    expect(b.hint!.text).toContain('“Not stored” reaches only users online at that moment');
    expect((b.element as any).options.map((o: any) => o.value)).toEqual(['0', '3600', '21600', '86400', '259200', '604800']);
  });

  it('tags "all of" and "any of" are the same kind of input', () => {
    const { blocks } = modal();
    const all = input(blocks, 'tags_all');
    const any = input(blocks, 'tags_any');
    expect(all.element).toEqual({ ...any.element, action_id: 'tags_all' });
    expect((all.element as any).multiline).toBe(true);
    expect(all.hint!.text.replace('TagsAnd', 'X')).toBe(any.hint!.text.replace('TagsOr', 'X'));
    expect(all.hint!.text).toContain('commas or new lines');
  });

  it('the attribute names Tencent knows are listed at the attribute fields', () => {
    expect(input(modal({ attributeNames: ['city', 'level'] }).blocks, 'attrs_all').hint!.text).toContain('Attribute names of this app: city, level.');
  });

  it('the send time hint says the quiet hours', () => {
    expect(input(modal({ quietHours: { startMinute: 22 * 60, endMinute: 8 * 60 } }).blocks, 'send_at').hint!.text).toContain('quiet hours, 22:00–08:00 (Asia/Shanghai)');
  });

  it('quota and sandbox are said before the fields', () => {
    expect(text(modal({ quota: quota({ used: 100 }) }).blocks)).toContain('Today’s quota is used up');
    expect(text(modal({ sandbox: true }).blocks.slice(0, 1))).toContain(SANDBOX_BANNER);
    expect(text(modal().blocks)).not.toContain(SANDBOX_BANNER);
  });

  it.each<ModalMode>(['new', 'edit', 'again'])('%s: within Slack’s limits, even filled to the maximum', (mode) => {
    const max = Object.fromEntries(REQUEST_FORM.filter((f) => f.maxLength).map((f) => [f.key, 'x'.repeat(f.maxLength!)]));
    for (const prefill of [{}, max, { lifetime: '7200', sendAt: '1795827600', badgeMode: '1', audience: 'tags' }]) {
      const v = modal({ mode, prefill, attributeNames: Array.from({ length: 10 }, (_, i) => `name${i}`) });
      expect(viewProblems(v as never)).toEqual([]);
    }
  });

  it('a lifetime the list does not offer (from an earlier request) is kept', () => {
    const el = input(modal({ prefill: { lifetime: '7200' } }).blocks, 'lifetime').element as any;
    expect(el.initial_option).toMatchObject({ value: '7200', text: { text: '2 hours' } });
  });
});

describe('preview under the message', () => {
  const preview = (blocks: KnownBlock[]) => text(blocks.filter((b) => b.block_id === PREVIEW_BLOCK_ID));

  it('sits under the message with an Update preview button (accessible)', () => {
    const { blocks } = modal();
    const i = blocks.findIndex((b) => b.block_id === 'message');
    expect(blocks[i + 1]!.block_id).toBe(PREVIEW_BLOCK_ID);
    const button = (blocks[i + 2] as any).elements[0];
    expect(button.action_id).toBe(ACTIONS.preview);
    expect(button.accessibility_label).toBeTruthy();
    expect(preview(blocks)).toContain('press “Update preview”');
  });

  it('shows title and text on iPhone and Android; Desc replaces the text', () => {
    const t = preview(modal({ prefill: { message: 'Hello *all*', pushTitle: 'News' } }).blocks);
    expect(t).toContain('iPhone: News — Hello *all*');
    expect(t).toContain('Android: News — Hello *all*');
    const d = preview(modal({ prefill: { message: 'Hello', pushDesc: 'Open the app' } }).blocks);
    expect(d).toContain('iPhone: (app name) — Open the app');
    expect(d).toContain('not the message');
  });

  it('warns where the lock screen cuts', () => {
    const t = preview(modal({ prefill: { message: 'a'.repeat(200) } }).blocks);
    expect(t).toContain(`iPhone: (app name) — ${'a'.repeat(150)}…`);
    expect(t).toContain('cuts the text after about 150 characters (of 200); Android shows it all');
  });

  it('a custom-only message gives no offline notification; the preview says so', () => {
    const p = notificationPreview({ elements: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: '{}' } }] });
    expect(p.looks).toEqual([]);
    expect(p.warnings.join(' ')).toContain('no notification at all');
    const withDesc = notificationPreview({ elements: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: '{}', Desc: 'You have a gift' } }] });
    expect(withDesc.looks[0]).toBe('iPhone: (app name) — You have a gift');
    expect(notificationPreview({ elements: [{ MsgType: 'TIMImageElem', MsgContent: {} }] }).looks[0]).toBe('iPhone: (app name) — [Image]');
    expect(notificationPreview({ elements: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } }], pushFlag: 1 }).warnings.join(' ')).toContain('turned off');
    expect(notificationPreview({ elements: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } }], title: 'T'.repeat(60) }).warnings.join(' ')).toContain('title is cut after about 50 characters');
  });
});

describe('prefill: the form filled in from a request is the same request again', () => {
  const drafts: BroadcastDraft[] = [
    { message: 'Everyone  \n keep spaces ', audience: { kind: 'all' }, lifetimeSeconds: 0 },
    { message: '新功能', audience: { kind: 'tags', all: ['vip', 'beta'], any: ['a,b'.split(',')[0]!] }, lifetimeSeconds: 7200, sender: 'bot1', note: 'why' },
    {
      message: 'Hi',
      audience: { kind: 'attributes', all: { city: 'Shenzhen', level: 'a=b' }, any: {} },
      lifetimeSeconds: 604800,
      offlinePush: { title: 'T', desc: 'D', ext: '{"u":1}', apnsBadgeMode: 1, apnsSound: 's.caf', androidSound: 's', apnsImage: 'https://i.example/x.png' },
      sendAt: '2026-11-28T01:00:00.000Z',
    },
  ];

  it.each(drafts.map((d) => [d.audience.kind, d] as const))('%s', (_kind, draft) => {
    const view = modal({ mode: 'edit', prefill: prefillFromDraft(draft) });
    const parsed = draftFromModal(valuesFromModal(view, {}) as never, { attributeNames: ['city', 'level'] });
    expect(parsed).toEqual({ ok: true, draft });
  });
});
