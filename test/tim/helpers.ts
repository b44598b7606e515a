// Shared fixtures for the test/tim suites.
import type { ImPushBody } from '../../src/tim/push-body.js';

/** Tencent's demo inputs from the official tls-sig-api-v2 tests. */
export const SDKAPPID = 1400000000;
export const SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
export const ADMIN = 'administrator';

let nextRandom = 1000;
/** A valid body; each call gets a new MsgRandom unless one is given. */
export function textBody(text = 'hi, beauty', msgRandom = nextRandom++): ImPushBody {
  return { MsgRandom: msgRandom, MsgLifeTime: 120, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] };
}

export const noSleep = async (_ms: number): Promise<void> => {};

/** A port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
