// The audit export's command line: npm run audit -- --since <date> [--until <date>] [--format csv|json]
import { parseArgs } from 'node:util';
import type { AuditFormat } from './export.js';

export const USAGE = `Usage: npm run audit -- --since <date> [--until <date>] [--format csv|json] [--out <file>]

Writes every broadcast request created in [--since, --until) to stdout, oldest first.
  --since   first day or time included (required)
  --until   first day or time NOT included (default: now)
  --format  csv (a header line and one row per request) or json (an array of full records); default csv
  --out     write to this file instead of stdout (npm prints its own "> tim-broadcast audit" line on
            stdout; use --out, or npm run --silent audit, when the output goes to another program)
A date is YYYY-MM-DD (a UTC day) or an ISO time with its zone, e.g. 2026-01-01T08:00:00+08:00.
Reads STORE_URL (and ./.env when present), like the app; it may run while the app is running.`;

export interface AuditArgs {
  sinceMs: number;
  untilMs: number;
  format: AuditFormat;
  /** A file to write instead of stdout. */
  out?: string;
}

export type ParsedArgs = { ok: true; args: AuditArgs } | { ok: true; help: true } | { ok: false; problem: string };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of a YYYY-MM-DD (UTC midnight) or a zoned ISO time; undefined when it is neither or no such day exists. */
export function parseTime(text: string): number | undefined {
  const day = DAY.exec(text) ?? TIME.exec(text);
  if (!day) return undefined;
  const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
  // Date.parse rolls 2026-02-30 over to March; a day that does not exist is a typo, not a date.
  const midnight = new Date(Date.UTC(y, m - 1, d));
  if (midnight.getUTCFullYear() !== y || midnight.getUTCMonth() !== m - 1 || midnight.getUTCDate() !== d) return undefined;
  if (DAY.test(text)) return midnight.getTime();
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

export function parseAuditArgs(argv: string[], nowMs: number): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        format: { type: 'string', default: 'csv' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  if (values.help) return { ok: true, help: true };
  if (values.since === undefined) return { ok: false, problem: '--since is required' };
  const format = values.format.toLowerCase();
  if (format !== 'csv' && format !== 'json') return { ok: false, problem: `--format must be csv or json, not "${values.format}"` };
  const sinceMs = parseTime(values.since);
  if (sinceMs === undefined) return { ok: false, problem: `--since must be a date (YYYY-MM-DD) or an ISO time with a zone, not "${values.since}"` };
  const untilMs = values.until === undefined ? nowMs : parseTime(values.until);
  if (untilMs === undefined) return { ok: false, problem: `--until must be a date (YYYY-MM-DD) or an ISO time with a zone, not "${values.until}"` };
  if (untilMs <= sinceMs) {
    return { ok: false, problem: `--until (${new Date(untilMs).toISOString()}) must be after --since (${new Date(sinceMs).toISOString()})` };
  }
  if (values.out !== undefined && values.out.trim() === '') return { ok: false, problem: '--out needs a file name' };
  return { ok: true, args: { sinceMs, untilMs, format, ...(values.out !== undefined ? { out: values.out } : {}) } };
}
