import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (listen on 0, read the port, close).
 * There is an unavoidable race between closing and the caller binding it; callers that start
 * external processes (see redis-server.ts) retry on "address in use".
 */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
