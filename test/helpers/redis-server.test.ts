import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';
import { redisAvailable, startRedis } from './redis-server.js';
import type { RedisHandle } from './redis-server.js';

/** Send raw RESP inline commands; resolve with what came back, or the socket error code. */
function talk(port: number, commands: string[]): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(commands.map((c) => `${c}\r\n`).join('')));
    socket.on('data', (d: string) => {
      buf += d;
      if (buf.split('\r\n').length > commands.length) {
        socket.destroy();
        resolve(buf);
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`error:${err.code ?? err.message}`));
  });
}

describe('freePort', () => {
  it('returns a port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });
});

describe('startRedis', () => {
  const handles: RedisHandle[] = [];
  afterAll(async () => {
    for (const h of handles) await h.stop();
  });

  it('finds redis-server on PATH', () => {
    expect(redisAvailable()).toBe(true);
  });

  it('starts a server that answers PING, keeps data, and refuses connections after stop()', async () => {
    const redis = await startRedis();
    handles.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await talk(redis.port, ['PING'])).toBe('+PONG\r\n');
    expect(await talk(redis.port, ['SET k v', 'GET k'])).toBe('+OK\r\n$1\r\nv\r\n');
    await redis.stop();
    expect(await talk(redis.port, ['PING'])).toBe('error:ECONNREFUSED');
    await redis.stop(); // idempotent
  });

  it('kill() takes it down and restart() brings it back on the same port, empty', async () => {
    const redis = await startRedis();
    handles.push(redis);
    expect(await talk(redis.port, ['SET k v'])).toBe('+OK\r\n');
    await redis.kill();
    expect(await talk(redis.port, ['PING'])).toBe('error:ECONNREFUSED');
    await redis.restart();
    expect(await talk(redis.port, ['PING', 'GET k'])).toBe('+PONG\r\n$-1\r\n');
  });

  it('gives two servers distinct ports', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    handles.push(a, b);
    expect(a.port).not.toBe(b.port);
    expect(await talk(a.port, ['SET only-a 1'])).toBe('+OK\r\n');
    expect(await talk(b.port, ['EXISTS only-a'])).toBe(':0\r\n');
  });
});
