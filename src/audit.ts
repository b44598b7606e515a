// The audit export: npm run audit -- --since 2026-01-01 [--until 2026-02-01] [--format csv|json] [--out file]
// Every request created in the range goes to stdout (or --out); messages about the run go to stderr.
// It opens the store read-only (openStoreReader), so it runs while the app is running, SQLite included.
import { createWriteStream, existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseAuditArgs, USAGE } from './audit/args.js';
import { writeAudit } from './audit/export.js';
import { recordRedactor } from './audit/records.js';
import { openStoreReader } from './broadcast/store/open.js';
import type { BroadcastRequest } from './broadcast/types.js';

/** The app's default (src/config.ts). */
const DEFAULT_STORE_URL = 'sqlite://data/tim-broadcast.sqlite';

/** Settings that are secrets: removed from anything the export writes, as a second line of defence. */
const SECRET_SETTINGS = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'TIM_SECRET_KEY'] as const;

/** The store URL without its password, for messages. */
function shownUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1***@');
}

function fail(message: string, code: number): void {
  process.stderr.write(`audit: ${message}\n`);
  process.exitCode = code;
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const parsed = parseAuditArgs(process.argv.slice(2), Date.now());
  if (!parsed.ok) return fail(`${parsed.problem}\n\n${USAGE}`, 2);
  if ('help' in parsed) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { sinceMs, untilMs, format, out } = parsed.args;
  const storeUrl = process.env['STORE_URL'] || DEFAULT_STORE_URL;
  const redisPassword = /^rediss?:\/\/[^:@/]*:([^@/]+)@/i.exec(storeUrl)?.[1];
  const redact = recordRedactor([...SECRET_SETTINGS.map((name) => process.env[name]), redisPassword]);
  const clean = (text: string) => (redisPassword ? text.split(redisPassword).join('***') : text);

  let reader: Awaited<ReturnType<typeof openStoreReader>>;
  try {
    reader = await openStoreReader(storeUrl);
  } catch (error) {
    return fail(clean(`cannot read the store ${shownUrl(storeUrl)}: ${(error as Error)?.message ?? String(error)}`), 1);
  }
  let written = 0;
  // Small pages: a page's records live until the last is written, and what lives across a few
  // scavenges is promoted, so big pages would grow the heap with a year of history.
  const scanned = reader.scan(sinceMs, untilMs, 50);
  const requests = async function* (): AsyncIterable<BroadcastRequest> {
    for await (const { rev, data } of scanned) {
      written++;
      yield redact({ ...data, rev });
    }
  };
  let sink: Writable = process.stdout;
  if (out) {
    const file = createWriteStream(out, { flags: 'w' });
    const opened = await new Promise<Error | undefined>((resolve) => file.once('open', () => resolve(undefined)).once('error', resolve));
    if (opened) {
      await reader.close().catch(() => undefined);
      return fail(`cannot write ${out}: ${opened.message}`, 1);
    }
    sink = file;
  }
  try {
    await writeAudit(requests(), format, sink);
    if (sink !== process.stdout) await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
    process.stderr.write(`audit: ${written} request(s)${out ? ` written to ${out},` : ''} created from ${new Date(sinceMs).toISOString()} until ${new Date(untilMs).toISOString()} (not included)\n`);
  } catch (error) {
    // The reader of stdout went away (e.g. `| head`): it has what it wanted.
    if ((error as NodeJS.ErrnoException)?.code === 'EPIPE') return;
    const why = (error as Error)?.message ?? String(error);
    const hint = /no such table/i.test(why) ? ' (has the app ever run with this STORE_URL?)' : '';
    fail(clean(`reading the store ${shownUrl(storeUrl)} failed after ${written} request(s): ${why}${hint}; the output is incomplete`), 1);
  } finally {
    await reader.close().catch(() => undefined);
  }
}

main().catch((error: unknown) => fail(`failed: ${(error as Error)?.message ?? String(error)}`, 1));
