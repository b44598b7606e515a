// Preloaded into a process by test/ops/sandbox.e2e.test.ts (NODE_OPTIONS=--import): every TCP/TLS
// connection and every DNS lookup of the process is recorded (one JSON line in $NET_GUARD_LOG),
// and anything not on the loopback interface is refused before it leaves: the sandbox must
// never reach Tencent, and this shows it did not even try.
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const LOG = process.env.NET_GUARD_LOG;
const record = (entry) => LOG && appendFileSync(LOG, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);
const isLoopback = (host) =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  // net.connect() hands over [options, callback] already normalised; socket.connect() takes (options | port, host).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  if (options.path) {
    record({ kind: 'connect', path: String(options.path), allowed: true });
    return connect.apply(this, args);
  }
  const host = options.host ?? 'localhost';
  const allowed = isLoopback(host);
  record({ kind: 'connect', host, port: Number(options.port), allowed });
  if (allowed) return connect.apply(this, args);
  process.nextTick(() => this.destroy(new Error(`net guard: refused a connection to ${host}:${options.port}`)));
  return this;
};

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, ...rest) {
  const allowed = isLoopback(hostname);
  record({ kind: 'lookup', host: hostname, allowed });
  if (allowed) return lookup.call(this, hostname, ...rest);
  const callback = rest.at(-1);
  const error = Object.assign(new Error(`net guard: refused to look up ${hostname}`), { code: 'ENOTFOUND' });
  process.nextTick(() => callback(error));
  return undefined;
};
const lookupAsync = dns.promises.lookup;
dns.promises.lookup = async function guardedPromiseLookup(hostname, ...rest) {
  const allowed = isLoopback(hostname);
  record({ kind: 'lookup', host: hostname, allowed });
  if (!allowed) throw Object.assign(new Error(`net guard: refused to look up ${hostname}`), { code: 'ENOTFOUND' });
  return lookupAsync.call(this, hostname, ...rest);
};
