/** Serves a Durable HTTP API handler (built once the port is known) on a free loopback port; paths it declines get 418 so tests can tell. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableHttpHandler } from '../../../../devhost/durable/http-api';

export interface Served {
  readonly origin: string;
  readonly host: string;
  close(): Promise<void>;
}

export async function serve(handlerFor: (origin: string) => DurableHttpHandler): Promise<Served> {
  const ready: { handler?: DurableHttpHandler } = {};
  const server: Server = createServer((req, res) => {
    if (ready.handler === undefined) throw new Error('the server is not ready');
    ready.handler(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(418).end('not a durable path');
      },
      (error: unknown) => res.writeHead(599).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  ready.handler = handlerFor(`http://127.0.0.1:${port}`);
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
