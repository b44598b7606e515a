import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, defaultInstanceId, makeRedactor, silentLogger, type LoggerOptions } from '../src/logger.js';
import { genUserSig } from '../src/tim/usersig.js';
import { TSX_LOADER } from './robustness/support.js';

const SECRETS = {
  botToken: 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx',
  appToken: 'xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef',
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timKey: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
};
const USERSIG = genUserSig({ sdkAppId: 1400000000, secretKey: SECRETS.timKey, identifier: 'administrator', expireSeconds: 86400 });
const ALL = [...Object.values(SECRETS), USERSIG];

function capture(o: Omit<LoggerOptions, 'write'> = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', ...o, write: (l) => lines.push(l) });
  return { log, lines };
}

/** Log every secret everywhere a line can carry one: message, nested fields, arrays, errors, causes, child bindings. */
function logEverywhere(log: ReturnType<typeof createLogger>): void {
  for (const s of ALL) {
    log.debug(`calling with ${s}`, {
      nested: { deeper: { value: s, list: ['x', s] } },
      url: `https://console.tim.qq.com/v4/all_member_push/im_push?usersig=${USERSIG}&identifier=administrator`,
      error: new Error(`bad credential ${s}`, { cause: new Error(`because ${s}`) }),
      wrapped: { errors: [new TypeError(`inner ${s}`)] },
    });
    log.child({ requestId: 'br-1', token: s }).error(`child line ${s}`);
  }
}

describe('logger', () => {
  it('JSON lines with level, time, message, fields and the instance id', () => {
    const { log, lines } = capture({ instanceId: 'web-1' });
    log.info('hello', { requestId: 'br-1', n: 3 });
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', msg: 'hello', requestId: 'br-1', n: 3, instance: 'web-1' });
    expect(new Date(line.time).toISOString()).toBe(line.time);
    expect(lines[0]).not.toMatch(/\n$/);
  });

  it('puts the instance id on every line, child lines included, and has a per-process default', () => {
    const { log, lines } = capture({ instanceId: 'worker-7' });
    log.debug('a');
    log.warn('b', { x: 1 });
    log.child({ requestId: 'br-2' }).error('c');
    log.child({ a: 1 }).child({ b: 2 }).info('d');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(JSON.parse(l).instance).toBe('worker-7');
    expect(JSON.parse(lines[2]!).requestId).toBe('br-2');
    expect(JSON.parse(lines[3]!)).toMatchObject({ a: 1, b: 2 });

    const [one, two] = [capture(), capture()];
    one.log.info('e');
    two.log.info('f');
    const unnamed = JSON.parse(one.lines[0]!).instance;
    expect(unnamed).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(JSON.parse(two.lines[0]!).instance, 'one name per process').toBe(unnamed);
    expect(defaultInstanceId(), 'a fresh name for each app instance').not.toBe(defaultInstanceId());
  });

  it('describes errors, with their code and cause, wherever they sit in the fields', () => {
    const { log, lines } = capture();
    const failure = Object.assign(new Error('outer', { cause: new RangeError('inner') }), { code: 'E_TEST' });
    log.error('failed', { error: failure, context: { list: [new TypeError('deep')] } });
    const line = JSON.parse(lines[0]!);
    expect(line.error).toEqual({ name: 'Error', message: 'outer', code: 'E_TEST', cause: { name: 'RangeError', message: 'inner' } });
    expect(line.context.list[0]).toEqual({ name: 'TypeError', message: 'deep' });
  });

  it('survives cyclic fields', () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    log.info('cyclic', { cyclic });
    expect(JSON.parse(lines[0]!).cyclic.a).toBe(1);
  });

  it('never prints a secret at debug level: tokens, signing secret, TIM key, a real UserSig, anywhere in the line', () => {
    const { log, lines } = capture({
      secrets: [SECRETS.botToken, SECRETS.appToken, SECRETS.signingSecret, SECRETS.timKey],
      extraSecrets: () => [USERSIG],
    });
    logEverywhere(log);
    expect(lines).toHaveLength(ALL.length * 2);
    const out = lines.join('\n');
    for (const s of ALL) expect(out, `no ${s.slice(0, 8)}…`).not.toContain(s);
    expect(out).not.toMatch(/usersig=(?!\[redacted\])/);
    expect(out).toContain('identifier=administrator'); // only the secrets go
    for (const l of lines) JSON.parse(l); // still valid JSON after redaction
  });

  it('redacts tokens and UserSigs by their shape even when nobody listed them', () => {
    const { log, lines } = capture();
    log.debug(`shape ${SECRETS.botToken} ${SECRETS.appToken}`, { sig: USERSIG, error: new Error(USERSIG) });
    const out = lines.join('\n');
    for (const s of [SECRETS.botToken, SECRETS.appToken, USERSIG]) expect(out).not.toContain(s);
  });

  it('redacts dynamic secrets read at each line', () => {
    const { log, lines } = capture();
    let current = 'sig-one-123456';
    const withDynamic = createLogger({ write: (l) => lines.push(l), extraSecrets: () => [current] });
    withDynamic.info(`a ${current}`);
    current = 'sig-two-654321';
    withDynamic.info('b sig-two-654321');
    log.info('unrelated');
    expect(lines.join('')).not.toMatch(/sig-(one|two)/);
  });

  it('pretty format prints readable lines, with the instance id and fields, and still no secret', () => {
    const { log, lines } = capture({ format: 'pretty', instanceId: 'web-1', secrets: ALL, extraSecrets: () => [USERSIG] });
    log.info('approval card posted', { requestId: 'br-9' });
    log.child({ requestId: 'br-10' }).warn('slow Slack');
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO: approval card posted /);
    expect(lines[0]).toContain('"requestId":"br-9"');
    expect(lines[0]).toContain('"instance":"web-1"');
    expect(lines[1]).toMatch(/WARN: slow Slack .*"requestId":"br-10"/);
    expect(() => JSON.parse(lines[0]!)).toThrow();

    lines.length = 0;
    logEverywhere(log);
    const out = lines.join('\n');
    for (const s of ALL) expect(out).not.toContain(s);
  });

  it('pretty format cannot unescape a secret that JSON had escaped', () => {
    const quoted = 'pa"ss\\word-123';
    const { log, lines } = capture({ format: 'pretty', secrets: [quoted] });
    log.info(`value ${quoted}`, { field: quoted });
    expect(lines.join('\n')).not.toContain(quoted);
    expect(lines.join('\n')).not.toContain(JSON.stringify(quoted).slice(1, -1));
  });

  it('drops lines below the level', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.info('quiet');
    log.child({ a: 1 }).debug('quieter');
    log.warn('loud');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('loud');
  });

  it('ignores secrets too short to redact safely', () => {
    expect(makeRedactor(['ab'])('ab abc')).toBe('ab abc');
  });

  it('silentLogger and its children print nothing', () => {
    expect(() => silentLogger.child({ a: 1 }).error('nothing')).not.toThrow();
  });

  // SIGKILL (an OOM kill, a native crash) runs no exit hook, so only a line already handed to the OS survives.
  it.each(['json', 'pretty'] as const)('writes synchronously (%s): a line logged just before the process is killed reaches stdout', (format) => {
    const logger = pathToFileURL(resolve(import.meta.dirname, '../src/logger.ts')).href;
    const script = [
      `const { createLogger } = await import(${JSON.stringify(logger)});`,
      `const log = createLogger({ format: ${JSON.stringify(format)}, instanceId: 'dying' });`,
      `for (let i = 0; i < 200; i++) log.info('filler ' + i + ' ' + 'x'.repeat(500));`,
      `log.error('last words before the crash');`,
      `process.kill(process.pid, 'SIGKILL');`,
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(201);
    expect(lines.at(-1)).toContain('last words before the crash');
  });
});
