import { describe, expect, it } from 'vitest';
import { createLogger, makeRedactor } from '../src/logger.js';

describe('logger', () => {
  it('redacts configured secrets, tokens and usersig parameters in every field', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', secrets: ['super-secret-key'], write: (l) => lines.push(l) });
    log.debug('calling https://x/v4?usersig=eJyrVgrxCdYrSy1S&identifier=admin', {
      error: new Error('bad key super-secret-key'),
      token: 'xoxb-123-456-abc',
      app: 'xapp-1-A1-xyz',
    });
    const out = lines.join('\n');
    expect(out).not.toContain('super-secret-key');
    expect(out).not.toContain('eJyrVgrxCdYrSy1S');
    expect(out).not.toContain('xoxb-123-456-abc');
    expect(out).not.toContain('xapp-1-A1-xyz');
    expect(out).toContain('identifier=admin');
    expect(JSON.parse(lines[0]!).level).toBe('debug');
  });

  it('drops lines below the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('loud');
  });

  it('redacts dynamic secrets read at each line', () => {
    const lines: string[] = [];
    let current = 'sig-one-123456';
    const log = createLogger({ write: (l) => lines.push(l), extraSecrets: () => [current] });
    log.info(`a ${current}`);
    current = 'sig-two-654321';
    log.info('b sig-two-654321');
    expect(lines.join('')).not.toMatch(/sig-(one|two)/);
  });

  it('ignores secrets too short to redact safely', () => {
    expect(makeRedactor(['ab'])('ab abc')).toBe('ab abc');
  });
});
