import type { InputBlock, KnownBlock, View } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { REQUEST_MODAL_CALLBACK_ID, buildRequestModal, type ModalPrefill } from '../../views/request-modal.js';
import { allTexts, quota } from './fixtures.js';

const EXPECTED_ORDER = [
  'message',
  'audience',
  'tags_all',
  'tags_any',
  'attrs_all',
  'attrs_any',
  'lifetime',
  'sender',
  'push_title',
  'push_desc',
  'push_ext',
  'badge_mode',
  'apns_sound',
  'android_sound',
  'apns_image',
  'note',
];

function inputs(blocks: KnownBlock[]): InputBlock[] {
  return blocks.filter((b): b is InputBlock => b.type === 'input');
}

function input(blocks: KnownBlock[], id: string): InputBlock {
  const b = inputs(blocks).find((x) => x.block_id === id);
  if (!b) throw new Error(`no input ${id}`);
  return b;
}

function el(blocks: KnownBlock[], id: string): Record<string, unknown> {
  return input(blocks, id).element as unknown as Record<string, unknown>;
}

const base = () => buildRequestModal({ quota: quota(), privateMetadata: '{"channel":"C1"}' });

describe('buildRequestModal', () => {
  it('every input block_id equals its action_id, in the agreed order', () => {
    const ins = inputs(base().blocks);
    expect(ins.map((b) => b.block_id)).toEqual(EXPECTED_ORDER);
    for (const b of ins) expect((b.element as { action_id?: string }).action_id).toBe(b.block_id);
  });

  it('message, audience and lifetime are required; everything else optional', () => {
    const required = inputs(base().blocks)
      .filter((b) => b.optional !== true)
      .map((b) => b.block_id);
    expect(required).toEqual(['message', 'audience', 'lifetime']);
  });

  it('has the modal chrome within Slack limits', () => {
    const v = base();
    expect(v.type).toBe('modal');
    expect(v.callback_id).toBe(REQUEST_MODAL_CALLBACK_ID);
    expect(v.callback_id).toBe('broadcast_request');
    expect(v.title.text).toBe('Request a broadcast');
    expect(v.submit?.text).toBe('Request approval');
    expect(v.close?.text).toBe('Cancel');
    for (const t of [v.title.text, v.submit?.text ?? '', v.close?.text ?? '']) expect(t.length).toBeLessThanOrEqual(24);
    expect(v.private_metadata).toBe('{"channel":"C1"}');
    expect(v.blocks.length).toBeLessThanOrEqual(100);
  });

  it('the message is a required multiline input of at most 3000 with the agreed hint', () => {
    const e = el(base().blocks, 'message');
    expect(e.type).toBe('plain_text_input');
    expect(e.multiline).toBe(true);
    expect(e.max_length).toBe(3000);
    expect(input(base().blocks, 'message').hint?.text).toBe(
      'Sent as the text of the push (TIMTextElem). Every recipient sees exactly this.',
    );
  });

  it('the audience has no default: everyone is never pre-selected', () => {
    const e = el(base().blocks, 'audience');
    expect(e.type).toBe('radio_buttons');
    expect(e.initial_option).toBeUndefined();
    expect((e.options as { value: string }[]).map((o) => o.value)).toEqual(['all', 'tags', 'attributes']);
    expect(allTexts(e)).toContain('Everyone — every user of the app');
  });

  it('offline storage offers the agreed choices and defaults to 0', () => {
    const e = el(base().blocks, 'lifetime');
    expect(e.type).toBe('static_select');
    expect((e.options as { value: string }[]).map((o) => o.value)).toEqual([
      '0',
      '3600',
      '21600',
      '86400',
      '259200',
      '604800',
    ]);
    expect((e.initial_option as { value: string }).value).toBe('0');
  });

  it('shows the quota line and the cannot-be-recalled warning before the inputs', () => {
    const v = base();
    const firstInput = v.blocks.findIndex((b) => b.type === 'input');
    const before = allTexts(v.blocks.slice(0, firstInput)).join('\n');
    expect(before).toContain('12 of 100 pushes used today (2026-11-27)');
    expect(before).toContain("A push reaches users' phones and cannot be recalled.");
    expect(before).toContain('Approvers see exactly what you enter.');
  });

  it('warns in the modal when the quota is used up', () => {
    const v = buildRequestModal({ quota: quota({ used: 100 }), privateMetadata: '' });
    expect(allTexts(v.blocks).join('\n')).toMatch(/quota is used up/);
  });

  it('lists the app attribute names in the attribute hint when given', () => {
    const v = buildRequestModal({ quota: quota(), attributeNames: ['city', 'level'], privateMetadata: '' });
    expect(input(v.blocks, 'attrs_all').hint?.text).toBe(
      'One name=value a line. Attribute names defined in your app: city, level.',
    );
    expect(input(base().blocks, 'attrs_all').hint?.text).toBe('One name=value a line.');
  });

  it('has the agreed hints for tags, sender and extra data', () => {
    const b = base().blocks;
    expect(input(b, 'tags_all').hint?.text).toContain('At most 10 tags, each at most 50 bytes');
    expect(input(b, 'sender').hint?.text).toBe('Leave empty to send as the app admin. Must be an existing account.');
    expect(input(b, 'push_ext').hint?.text).toBe('Must be valid JSON, e.g. {"url":"app://news/1"}. At most 1 KB.');
    expect(el(b, 'tags_any').multiline).toBe(true);
    expect(el(b, 'tags_all').multiline).toBeUndefined();
    expect(el(b, 'badge_mode').type).toBe('checkboxes');
  });

  it('fills every field from the prefill', () => {
    const prefill: ModalPrefill = {
      message: 'Hello',
      audience: 'tags',
      tagsAll: 'vip, beta',
      tagsAny: '股票A',
      attrsAll: 'city=深圳',
      attrsAny: 'sex=男',
      lifetime: '86400',
      sender: 'ops_bot',
      pushTitle: 'Title',
      pushDesc: 'Desc',
      pushExt: '{"url":"app://x"}',
      badgeMode: '1',
      apnsSound: 'a.caf',
      androidSound: 'a',
      apnsImage: 'https://example.com/i.png',
      note: 'Please approve',
    };
    const b = buildRequestModal({ quota: quota(), prefill, privateMetadata: '' }).blocks;
    const textFields: Array<[string, string]> = [
      ['message', prefill.message],
      ['tags_all', prefill.tagsAll],
      ['tags_any', prefill.tagsAny],
      ['attrs_all', prefill.attrsAll],
      ['attrs_any', prefill.attrsAny],
      ['sender', prefill.sender],
      ['push_title', prefill.pushTitle],
      ['push_desc', prefill.pushDesc],
      ['push_ext', prefill.pushExt],
      ['apns_sound', prefill.apnsSound],
      ['android_sound', prefill.androidSound],
      ['apns_image', prefill.apnsImage],
      ['note', prefill.note],
    ];
    for (const [id, value] of textFields) expect(el(b, id).initial_value, id).toBe(value);
    expect((el(b, 'audience').initial_option as { value: string }).value).toBe('tags');
    expect((el(b, 'lifetime').initial_option as { value: string }).value).toBe('86400');
    expect((el(b, 'badge_mode').initial_options as { value: string }[]).map((o) => o.value)).toEqual(['1']);
  });

  it('a prefilled "everyone" is kept (the user chose it before), and initial options are among the options', () => {
    const b = buildRequestModal({ quota: quota(), prefill: { audience: 'all' }, privateMetadata: '' }).blocks;
    const e = el(b, 'audience');
    expect((e.initial_option as { value: string }).value).toBe('all');
    expect(e.options).toContainEqual(e.initial_option);
  });

  it('keeps a custom prefilled lifetime selectable', () => {
    const e = el(buildRequestModal({ quota: quota(), prefill: { lifetime: '7200' }, privateMetadata: '' }).blocks, 'lifetime');
    expect((e.initial_option as { value: string }).value).toBe('7200');
    expect(e.options).toContainEqual(e.initial_option);
    expect(allTexts(e.initial_option)).toContain('2 hours');
  });

  it('does not set initial values without a prefill, and cuts an over-long prefill to max_length', () => {
    expect(el(base().blocks, 'message').initial_value).toBeUndefined();
    expect(el(base().blocks, 'badge_mode').initial_options).toBeUndefined();
    const long = 'x'.repeat(3500);
    const e = el(buildRequestModal({ quota: quota(), prefill: { message: long }, privateMetadata: '' }).blocks, 'message');
    expect((e.initial_value as string).length).toBe(3000);
  });

  it('keeps every option value ≤ 150 and label ≤ 2000', () => {
    for (const b of inputs(base().blocks)) {
      expect(b.label.text.length).toBeLessThanOrEqual(2000);
      const opts = ((b.element as { options?: { value: string }[] }).options ?? []);
      for (const o of opts) expect(o.value.length).toBeLessThanOrEqual(150);
    }
  });

  it('is accepted where Slack expects a View (typechecked) and is plain JSON', () => {
    const v: View = buildRequestModal({ quota: quota(), privateMetadata: '' });
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  it('rejects private_metadata longer than Slack allows', () => {
    expect(() => buildRequestModal({ quota: quota(), privateMetadata: 'x'.repeat(3001) })).toThrow(RangeError);
  });
});
