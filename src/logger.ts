// The app's logger: pino, one JSON line per event (or human-readable lines with LOG_FORMAT=pretty),
// written synchronously so that a line logged just before a crash is not lost. Every line carries
// the instance id and passes through `redact` on its final text, which replaces each configured
// secret (and anything that looks like a UserSig, a usersig= parameter or a Slack token).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pino, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import { redactUserSigs } from './tim/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries `bindings` (e.g. { requestId }). */
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Values that must never appear in a line (tokens, keys); shorter than 6 characters are ignored. */
  secrets?: readonly (string | undefined)[];
  /** Receives each finished line without its newline (tests); default: stdout, synchronously. */
  write?: (line: string) => void;
  /** Dynamic secrets, e.g. the current UserSig, read at each line. */
  extraSecrets?: () => readonly string[];
  /** The `instance` field of every line; default hostname-pid-random. */
  instanceId?: string;
  /** json (default) or pretty (pino-pretty, for people reading a terminal). */
  format?: LogFormat;
}

const TOKEN_PATTERN = /\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)/g;

/** The forms a secret can take in a JSON line: as is, and JSON-escaped (pretty output unescapes it). */
function spellings(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return escaped === secret ? [secret] : [secret, escaped];
}

export function makeRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const known = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 6).flatMap(spellings);
  return (text: string) => {
    let out = text;
    for (const secret of known) out = out.split(secret).join('[redacted]');
    return redactUserSigs(out.replace(TOKEN_PATTERN, '[redacted-token]'));
  };
}

/**
 * Errors anywhere in the fields become plain objects (JSON.stringify would print {} for them);
 * cycles and depth are bounded. Written here because pino's serializers only look at top-level keys.
 */
function describe(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 6) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return {
      name: e.name,
      message: e.message,
      ...(e.code !== undefined ? { code: e.code } : {}),
      ...(e.cause !== undefined ? { cause: describe(e.cause, depth + 1, seen) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => describe(v, depth + 1, seen));
  if (value instanceof Date || value instanceof URL) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = describe(v, depth + 1, seen);
  return out;
}

function adapt(p: pino.Logger): Logger {
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (fields === undefined) p[level](message);
    else p[level](describe(fields) as Record<string, unknown>, message);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (bindings) => adapt(p.child(describe(bindings) as Record<string, unknown>)),
  };
}

/** Where finished lines go: the caller's `write`, or stdout with a synchronous write (no buffering). */
function destination(o: LoggerOptions): DestinationStream {
  const sink: DestinationStream = o.write
    ? { write: (line: string) => o.write!(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : pino.destination({ dest: 1, sync: true });
  if (o.format !== 'pretty') return sink;
  // pino-pretty's formatter, called inline: its stream form goes through Node streams, which may defer the write.
  // Loaded only for LOG_FORMAT=pretty (development); JSON needs none of it.
  const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const prettify = pinoPretty.prettyFactory({
    colorize: o.write ? false : pinoPretty.isColorSupported && process.stdout.isTTY === true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return { write: (line: string) => sink.write(prettify(line)) };
}

/** What loggers made without an instance id carry: one name per process, so their lines agree. */
let processInstance: string | undefined;

export function createLogger(o: LoggerOptions = {}): Logger {
  const staticRedact = makeRedactor(o.secrets ?? []);
  const redact = (line: string) => {
    let out = staticRedact(line);
    for (const secret of o.extraSecrets?.() ?? []) {
      if (secret) for (const s of spellings(secret)) out = out.split(s).join('[redacted]');
    }
    return out;
  };
  const p = pino(
    {
      level: o.level ?? 'info',
      base: { instance: o.instanceId ?? (processInstance ??= defaultInstanceId()) },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" rather than pino's numbers: the lines are read by people and grep.
      formatters: { level: (label) => ({ level: label }) },
      // Applied to the finished line, so a secret is removed wherever it sits: message, nested field, error.
      hooks: { streamWrite: redact },
    },
    destination(o),
  );
  return adapt(p);
}

/**
 * A name for an app instance when INSTANCE_ID is not set: hostname-pid-random, fresh at each call
 * (two app instances in one process, as in tests, must not share leases) and readable in logs.
 * Here rather than in config.ts because a logger made without settings needs one too.
 */
export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
const nothing = () => {};
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing, child: () => silentLogger };

/** The logger options that come from settings (level, format, instance id, the secrets to redact). */
export function loggerSettings(config: {
  LOG_LEVEL: LogLevel;
  LOG_FORMAT: LogFormat;
  INSTANCE_ID: string;
  SLACK_BOT_TOKEN: string;
  SLACK_SIGNING_SECRET?: string | undefined;
  SLACK_APP_TOKEN?: string | undefined;
  TIM_SECRET_KEY: string;
}): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    instanceId: config.INSTANCE_ID,
    secrets: [config.SLACK_BOT_TOKEN, config.SLACK_SIGNING_SECRET, config.SLACK_APP_TOKEN, config.TIM_SECRET_KEY],
  };
}
