/**
 * devhost's HTTP front door, a plain `node:http` server on loopback. Requests go, in order, to:
 *
 * - `/runtime/webhooks/durabletask/*` and `/durabletask/*` (the SDK's `rpcBaseUrl`) → the Durable
 *   HTTP API handler (404 when durable support is not wired);
 * - `POST /admin/functions/{name}` → run a non-HTTP function now (body `{"input": ...}`; master key;
 *   202 Accepted, 404 for an unknown function), as the Functions host's admin API;
 * - `/{routePrefix}/...` → the HTTP function whose route template matches (templates tried in
 *   precedence order): 401 without the key its authLevel needs, 405 with `Allow` when only the method
 *   is wrong, 404 when nothing matches. A handler that throws answers 500 with no body (the error is
 *   logged), as the host does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpRequest } from '@azure/functions';
import { DevhostError } from '../host/errors';
import type { HttpFunction } from '../host/function-table';
import { compareRoutes } from './route-template';
import { isAuthorized, presentedKey, type HostKeys } from './auth';
import { fromNodeRequest } from './request-converter';
import { toHttpResponse, writeNodeResponse } from './response-converter';
import { RPC_PATH, WEBHOOK_PATH } from '../durable/http-api/management-urls';

export const DURABLE_WEBHOOK_PREFIX = `${WEBHOOK_PATH}/`;
/** Where durable-functions' client sends its calls when the binding data has an `rpcBaseUrl`. */
export const DURABLE_RPC_PREFIX = `${RPC_PATH}/`;

export type AdminRunResult = 'accepted' | 'not_found' | 'not_supported';

export interface HttpDispatch {
  readonly routePrefix: string;
  readonly keys: HostKeys;
  readonly functions: readonly HttpFunction[];
  readonly azureFunctions: Pick<typeof import('@azure/functions'), 'HttpRequest' | 'HttpResponse'>;
  invoke(fn: HttpFunction, request: HttpRequest): Promise<unknown>;
  runFunction(name: string, input: unknown): AdminRunResult;
  readonly durableHandler?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  log(line: string): void;
}

export function createHttpServer(dispatch: HttpDispatch): Server {
  const routes = [...dispatch.functions].sort((a, b) => compareRoutes(a.route, b.route));
  return createServer((req, res) => {
    handle(dispatch, routes, req, res).catch((error: unknown) => {
      dispatch.log(`[devhost] request ${req.method ?? ''} ${req.url ?? ''} failed: ${describe(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

async function handle(
  dispatch: HttpDispatch,
  routes: readonly HttpFunction[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  const path = url.pathname;

  if (path.startsWith(DURABLE_WEBHOOK_PREFIX) || path.startsWith(DURABLE_RPC_PREFIX)) {
    if (dispatch.durableHandler !== undefined && (await dispatch.durableHandler(req, res))) return;
    sendJson(res, 404, { error: 'durable support is not wired into this devhost' });
    return;
  }

  const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(path);
  if (admin !== null) {
    await handleAdminRun(dispatch, req, res, url, decodeURIComponent(admin[1] as string));
    return;
  }

  const prefix = dispatch.routePrefix === '' ? '' : `/${dispatch.routePrefix.toLowerCase()}`;
  const lower = path.toLowerCase();
  if (prefix !== '' && lower !== prefix && !lower.startsWith(`${prefix}/`)) {
    if (path === '/' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('devhost is running\n');
    } else res.writeHead(404).end();
    return;
  }
  const routePath = path.slice(prefix.length);

  const matches: { fn: HttpFunction; params: Record<string, string> }[] = [];
  for (const fn of routes) {
    const params = fn.route.match(routePath);
    if (params !== undefined) matches.push({ fn, params });
  }
  if (matches.length === 0) {
    res.writeHead(404).end();
    return;
  }
  const chosen = matches.find(({ fn }) => fn.methods === undefined || fn.methods.includes(method));
  if (chosen === undefined) {
    const allow = [...new Set(matches.flatMap(({ fn }) => fn.methods ?? []))].join(', ');
    res.writeHead(405, { allow }).end();
    return;
  }
  if (!isAuthorized(chosen.fn.authLevel, dispatch.keys, presentedKey(url.searchParams, req.headers))) {
    res.writeHead(401).end();
    return;
  }

  const request = fromNodeRequest(dispatch.azureFunctions.HttpRequest, req, url, chosen.params);
  let response;
  try {
    response = toHttpResponse(
      dispatch.azureFunctions.HttpResponse,
      await dispatch.invoke(chosen.fn, request),
    );
  } catch (error) {
    dispatch.log(`[devhost] Executed '${chosen.fn.name}' (Failed): ${describe(error)}`);
    res.writeHead(500).end();
    return;
  }
  await writeNodeResponse(res, response, method);
}

async function handleAdminRun(
  dispatch: HttpDispatch,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  name: string,
): Promise<void> {
  if ((req.method ?? '').toUpperCase() !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  if (!isAuthorized('admin', dispatch.keys, presentedKey(url.searchParams, req.headers))) {
    res.writeHead(401).end();
    return;
  }
  const text = await readText(req);
  let input: unknown;
  if (text.trim() !== '') {
    try {
      input = (JSON.parse(text) as { input?: unknown }).input;
    } catch {
      sendJson(res, 400, { error: 'the body must be JSON: {"input": ...}' });
      return;
    }
  }
  const outcome = dispatch.runFunction(name, input);
  if (outcome === 'not_found') res.writeHead(404).end();
  else if (outcome === 'not_supported') {
    sendJson(res, 400, {
      error: `function "${name}" cannot be run through the admin API (HTTP functions are called on their route)`,
    });
  } else res.writeHead(202).end();
}

/** Listens on loopback; a port in use is a DevhostError naming it and `--port`. */
export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.removeListener('listening', onListening);
      reject(
        error.code === 'EADDRINUSE'
          ? new DevhostError(
              'port_in_use',
              `port ${port} is already in use on ${host}; choose another with --port`,
              {
                cause: error,
              },
            )
          : error,
      );
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
