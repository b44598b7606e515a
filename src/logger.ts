// A small structured logger that can never print a secret: every line passes through
// `redact`, which replaces each configured secret (and anything that looks like a
// UserSig, a usersig= parameter or a Slack token) before it is written.

import { redactUserSigs } from './tim/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const TOKEN_PATTERN = /\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)/g;

export function makeRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const known = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 6);
  return (text: string) => {
    let out = text;
    for (const secret of known) out = out.split(secret).join('[redacted]');
    return redactUserSigs(out.replace(TOKEN_PATTERN, '[redacted-token]'));
  };
}

function describe(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...(value.cause ? { cause: describe(value.cause) } : {}) };
  return value;
}

export function createLogger(o: {
  level?: LogLevel;
  secrets?: readonly (string | undefined)[];
  write?: (line: string) => void;
  /** Dynamic secrets, e.g. the current UserSig, read at each line. */
  extraSecrets?: () => readonly string[];
}): Logger {
  const min = ORDER[o.level ?? 'info'];
  const staticRedact = makeRedactor(o.secrets ?? []);
  const write = o.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
    for (const [k, v] of Object.entries(fields ?? {})) entry[k] = describe(v);
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ time: entry.time, level, msg: message, note: 'fields not serialisable' });
    }
    line = staticRedact(line);
    for (const secret of o.extraSecrets?.() ?? []) if (secret) line = line.split(secret).join('[redacted]');
    write(line);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
