// Streams requests out as JSON or CSV. Nothing is collected: the store yields one page at a time,
// `Readable.from` pulls the next record only when the output has room (pipeline waits for 'drain'
// on the destination), so memory stays flat however many requests match.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { BroadcastRequest } from '../broadcast/types.js';
import { CSV_HEADER, csvRow } from './records.js';

export type AuditFormat = 'csv' | 'json';

/** Write every request of `requests` to `out`; resolves with how many were written. Does not end `out`. */
export async function writeAudit(requests: AsyncIterable<BroadcastRequest>, format: AuditFormat, out: Writable): Promise<number> {
  let count = 0;
  const counted = async function* () {
    for await (const r of requests) {
      count++;
      yield r;
    }
  };
  if (format === 'json') {
    await pipeline(Readable.from(jsonArray(counted())), out, { end: false });
  } else {
    const csv = stringify({
      header: true,
      columns: [...CSV_HEADER],
      // RFC 4180: CRLF between records; fields with a comma, a quote or a line break are quoted, quotes doubled.
      record_delimiter: 'windows',
      // CSV injection: a spreadsheet runs a cell starting with = + - @ (or tab/CR) as a formula, and a
      // message or a reason is anyone's text, so such cells get a leading ' (OWASP's advice).
      escape_formulas: true,
    });
    await pipeline(
      Readable.from((async function* () {
        for await (const r of counted()) yield csvRow(r);
      })()),
      csv,
      out,
      { end: false },
    );
  }
  return count;
}

/** A JSON array, one record per line, produced as the records come. */
async function* jsonArray(records: AsyncIterable<BroadcastRequest>): AsyncIterable<string> {
  let first = true;
  for await (const r of records) {
    yield `${first ? '[\n' : ',\n'}${JSON.stringify(r)}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}
