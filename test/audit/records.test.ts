/**
 * The audit export's pieces in-process: argument parsing, one request as a CSV row, the secret
 * guard, and the streamed CSV/JSON output (read back with a real CSV parser).
 */
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseAuditArgs, parseTime } from '../../src/audit/args.js';
import { writeAudit } from '../../src/audit/export.js';
import { CSV_HEADER, audienceInWords, csvRow, decidedAt, recordRedactor } from '../../src/audit/records.js';
import type { BroadcastRequest, HistoryEntry } from '../../src/broadcast/types.js';
import { explainError } from '../../src/tim/errors.js';
import type { ImPushBody } from '../../src/tim/push-body.js';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');

describe('arguments', () => {
  it('takes a UTC day or a zoned ISO time; until is optional (now) and exclusive; csv by default', () => {
    expect(parseAuditArgs(['--since', '2026-01-01', '--until', '2026-02-01', '--format', 'json'], NOW)).toEqual({
      ok: true,
      args: { sinceMs: Date.parse('2026-01-01T00:00:00Z'), untilMs: Date.parse('2026-02-01T00:00:00Z'), format: 'json' },
    });
    expect(parseAuditArgs(['--since', '2026-01-01T08:00:00+08:00'], NOW)).toEqual({
      ok: true,
      args: { sinceMs: Date.parse('2026-01-01T00:00:00Z'), untilMs: NOW, format: 'csv' },
    });
    expect(parseAuditArgs(['--since=2026-03-01T10:15Z', '--format=CSV'], NOW)).toMatchObject({ ok: true, args: { sinceMs: Date.parse('2026-03-01T10:15:00Z'), format: 'csv' } });
    expect(parseAuditArgs(['--help'], NOW)).toEqual({ ok: true, help: true });
  });

  it.each([
    [[], /--since is required/],
    [['--since', 'yesterday'], /--since must be a date/],
    [['--since', '2026-02-30'], /--since must be a date/],
    [['--since', '2026-13-01'], /--since must be a date/],
    [['--since', '2026-01-01T10:00:00'], /--since must be a date .* with a zone/],
    [['--since', '2026-01-01', '--until', '2026-1-5'], /--until must be a date/],
    [['--since', '2026-02-01', '--until', '2026-01-01'], /--until \(2026-01-01T00:00:00.000Z\) must be after --since/],
    [['--since', '2026-01-01', '--until', '2026-01-01'], /must be after/],
    [['--since', '2026-01-01', '--format', 'xml'], /--format must be csv or json, not "xml"/],
    [['--since', '2026-01-01', '--limit', '5'], /Unknown option '--limit'/],
    [['--since', '2026-01-01', 'extra'], /positional argument/],
  ])('refuses %j with a message saying what is wrong', (argv, problem) => {
    const parsed = parseAuditArgs(argv as string[], NOW);
    expect(parsed.ok).toBe(false);
    expect((parsed as { problem: string }).problem).toMatch(problem);
  });

  it('parseTime knows leap days', () => {
    expect(parseTime('2028-02-29')).toBe(Date.parse('2028-02-29T00:00:00Z'));
    expect(parseTime('2026-02-29')).toBeUndefined();
    expect(parseTime('2026-02-29T00:00Z')).toBeUndefined();
  });
});

// ------------------------------------------------------------------ one request

const at = (s: string) => `2026-01-10T${s}.000Z`;
function request(o: Partial<BroadcastRequest> = {}): BroadcastRequest {
  return {
    id: 'br-aaaa',
    rev: 3,
    state: 'pending',
    requesterId: 'U0REQ',
    createdAt: at('08:00:00'),
    updatedAt: at('08:00:00'),
    draft: { message: 'Hello', audience: { kind: 'tags', all: ['vip', 'beta'], any: ['city-sz'] }, lifetimeSeconds: 0 },
    body: { MsgRandom: 1, MsgLifeTime: 0, MsgBody: [], Condition: { TagsAnd: ['vip', 'beta'], TagsOr: ['city-sz'] } } as unknown as ImPushBody,
    payloadHash: 'h',
    version: 'v1',
    requiredApprovals: 1,
    approvals: [],
    expiresAt: at('23:00:00'),
    history: [{ kind: 'submitted', at: at('08:00:00'), from: null, to: 'pending', by: 'U0REQ' }],
    outbox: { thread: { cursor: 0 }, dm: { cursor: 0 } },
    dedupKey: 'd',
    ...o,
  };
}
const entry = (kind: HistoryEntry['kind'], time: string, to: HistoryEntry['to'], by?: string): HistoryEntry => ({ kind, at: at(time), from: 'pending', to, ...(by ? { by } : {}) });

describe('a request as a CSV row', () => {
  it('audience in words: everyone, tags, attributes; the body decides "everyone"', () => {
    expect(audienceInWords(request())).toBe('tags all: vip, beta; any: city-sz');
    expect(audienceInWords(request({ draft: { ...request().draft, audience: { kind: 'tags', all: [], any: ['a', 'b'] } } }))).toBe('tags any: a, b');
    expect(
      audienceInWords(request({ draft: { ...request().draft, audience: { kind: 'attributes', all: { city: 'Shenzhen', level: 'gold' }, any: {} } } })),
    ).toBe('attributes all: city=Shenzhen, level=gold');
    const everyone = request({ body: { MsgRandom: 1, MsgLifeTime: 0, MsgBody: [] } as unknown as ImPushBody });
    expect(audienceInWords({ ...everyone, draft: { ...everyone.draft, audience: { kind: 'all' } } })).toBe('everyone');
    // A form with no tags at all pushes to everyone (no Condition): the column must say so.
    expect(audienceInWords({ ...everyone, draft: { ...everyone.draft, audience: { kind: 'tags', all: [], any: [] } } })).toBe('everyone');
  });

  it('sent: distinct approvers, decided at the last approval, the TaskId', () => {
    const r = request({
      state: 'sent',
      approvals: [
        { userId: 'U0A1', at: at('08:10:00'), version: 'v1' },
        { userId: 'U0A2', at: at('08:20:00'), version: 'v1' },
        { userId: 'U0A1', at: at('08:21:00'), version: 'v1' },
      ],
      history: [
        entry('submitted', '08:00:00', 'pending', 'U0REQ'),
        entry('approval', '08:10:00', 'pending', 'U0A1'),
        entry('approved', '08:20:00', 'approved', 'U0A2'),
        entry('sending', '08:20:01', 'sending'),
        entry('sent', '08:20:02', 'sent'),
      ],
      result: { kind: 'sent', taskId: 'TASK-9', attempts: 1, at: at('08:20:02') },
    });
    expect(Object.fromEntries(CSV_HEADER.map((h, i) => [h, csvRow(r)[i]]))).toEqual({
      id: 'br-aaaa',
      created: at('08:00:00'),
      requester: 'U0REQ',
      audience: 'tags all: vip, beta; any: city-sz',
      message: 'Hello',
      state: 'sent',
      approvers: 'U0A1 U0A2',
      'decided at': at('08:20:00'),
      TaskId: 'TASK-9',
      'error code': '',
      reason: '',
    });
  });

  it('failed carries the error code; rejected the reason; unknown the reason and, once settled, when', () => {
    const failed = csvRow(
      request({
        state: 'failed',
        history: [entry('approved', '09:00:00', 'approved', 'U0A1'), entry('failed', '09:00:01', 'failed')],
        result: { kind: 'failed', code: 90022, info: 'tag in both', explanation: explainError(90022), attempts: 1, at: at('09:00:01') },
      }),
    );
    expect([failed[7], failed[8], failed[9], failed[10]]).toEqual([at('09:00:00'), '', 90022, '']);

    const rejected = csvRow(request({ state: 'rejected', decision: { by: 'U0A1', at: at('10:00:00'), reason: 'wrong audience' } }));
    expect([rejected[6], rejected[7], rejected[9], rejected[10]]).toEqual(['', at('10:00:00'), '', 'wrong audience']);

    const settled = csvRow(
      request({
        state: 'sent',
        result: { kind: 'unknown', reason: 'the connection dropped', explanation: explainError(70001), attempts: 1, at: at('11:00:00') },
        resolution: { kind: 'sent', by: 'U0A2', at: at('12:00:00'), taskId: 'TASK-CONSOLE' },
      }),
    );
    expect([settled[7], settled[8], settled[10]]).toEqual([at('12:00:00'), 'TASK-CONSOLE', 'the connection dropped']);
  });

  it('decided at: nothing while pending, and an approval before an edit no longer counts', () => {
    expect(decidedAt(request())).toBeUndefined();
    expect(decidedAt(request({ history: [entry('scheduled', '08:10:00', 'scheduled', 'U0A1'), entry('edited', '08:30:00', 'pending', 'U0REQ')] }))).toBeUndefined();
    expect(decidedAt(request({ state: 'scheduled', history: [entry('scheduled', '08:10:00', 'scheduled', 'U0A1')] }))).toBe(at('08:10:00'));
    expect(decidedAt(request({ state: 'cancelled', decision: { by: 'U0REQ', at: at('09:30:00') } }))).toBe(at('09:30:00'));
  });
});

describe('the secret guard', () => {
  it('removes configured secrets everywhere and token shapes outside what was pushed', () => {
    const secret = 'super-secret-signing-value';
    const redact = recordRedactor([secret, undefined, 'short']);
    const r = request({
      state: 'rejected',
      decision: { by: 'U0A1', at: at('10:00:00'), reason: `token xoxb-1111-2222-abcdef and ${secret}` },
      outbox: { thread: { cursor: 0, retry: { attempts: 1, nextAt: at('10:00:00'), lastError: `bad ${secret}` } }, dm: { cursor: 0 } },
      draft: { ...request().draft, message: `our bot token looks like xoxb-1234-5678-xyz, the key ${secret}` },
    });
    const out = redact(r);
    expect(out.decision!.reason).toBe('token [redacted-token] and [redacted]');
    expect(out.outbox.thread.retry!.lastError).toBe('bad [redacted]');
    // What was pushed stays verbatim, except a configured secret.
    expect(out.draft.message).toBe('our bot token looks like xoxb-1234-5678-xyz, the key [redacted]');
    expect(Object.keys(out)).toEqual(Object.keys(r));
    expect(JSON.stringify(out)).not.toContain(secret);
    expect(r.decision!.reason).toContain(secret); // the input is not changed
  });
});

// ------------------------------------------------------------------ streamed output

async function render(requests: BroadcastRequest[], format: 'csv' | 'json'): Promise<{ text: string; count: number }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const count = await writeAudit(
    (async function* () {
      yield* requests;
    })(),
    format,
    out,
  );
  return { text: Buffer.concat(chunks).toString('utf8'), count };
}

describe('streamed output', () => {
  const tricky = request({
    id: 'br-tricky',
    state: 'rejected',
    draft: { ...request().draft, message: 'Sale, today only: "50%"\nline two\r\nline three' },
    decision: { by: 'U0A1', at: at('10:00:00'), reason: '=HYPERLINK("http://evil.example","click")' },
  });
  const formulas = ['+1 555', '-5% off', '@channel hi', '\tindent', '＝fullwidth'].map((message, i) =>
    request({ id: `br-f${i}`, draft: { ...request().draft, message } }),
  );

  it('CSV: RFC 4180 quoting (CRLF records; commas, quotes and line breaks quoted; quotes doubled), read back intact', async () => {
    const { text, count } = await render([tricky], 'csv');
    expect(count).toBe(1);
    expect(text.startsWith(`${CSV_HEADER.join(',')}\r\n`)).toBe(true);
    expect(text).toContain('"Sale, today only: ""50%""\nline two\r\nline three"');
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.message).toBe('Sale, today only: "50%"\nline two\r\nline three');
  });

  it('CSV: a cell a spreadsheet would run as a formula starts with a quote mark', async () => {
    const { text } = await render([tricky, ...formulas], 'csv');
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows[0]!.reason).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(rows.slice(1).map((r) => r.message)).toEqual(["'+1 555", "'-5% off", "'@channel hi", "'\tindent", "'＝fullwidth"]);
    expect(rows[0]!.message!.startsWith('Sale')).toBe(true); // ordinary text is untouched
  });

  it('JSON: an array of the full records, also when empty', async () => {
    const { text, count } = await render([tricky, ...formulas], 'json');
    expect(count).toBe(6);
    expect(JSON.parse(text)).toEqual([tricky, ...formulas]);
    expect((await render([], 'json')).text).toBe('[]\n');
    expect(JSON.parse((await render([], 'json')).text)).toEqual([]);
    expect((await render([], 'csv')).text).toBe(`${CSV_HEADER.join(',')}\r\n`);
  });

  it('pulls the next request only when the output has room (backpressure), and never ends the output', async () => {
    let produced = 0;
    const many = (async function* () {
      for (let i = 0; i < 5_000; i++) {
        produced++;
        yield request({ id: `br-${i}` });
      }
    })();
    let release: () => void = () => undefined;
    let written = 0;
    // A slow consumer: takes one chunk, then waits until the test lets it go on.
    const slow = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done) {
        written++;
        if (written === 1) release = done;
        else done();
      },
    });
    const finished = writeAudit(many, 'json', slow);
    await new Promise((r) => setTimeout(r, 200));
    // Stuck on the first chunk: only a bounded number of requests was read from the source.
    expect(produced).toBeLessThan(100);
    release();
    expect(await finished).toBe(5_000);
    expect(produced).toBe(5_000);
    expect(slow.writableEnded).toBe(false);
  });
});
