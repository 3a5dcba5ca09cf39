/**
 * devhost's HTTP front door, a plain `node:http` server on loopback. Requests go, in order, to:
 *
 * - `/runtime/webhooks/*` and the public path of each API a part serves (e.g.
 *   `/runtime/webhooks/durabletask/*`, the Durable HTTP API) → that part, with the system key or the
 *   master key (`?code=` or `x-functions-key`), as on Azure; 401 without it, 404 when no part serves
 *   the path. A part's internal path (e.g. `/durabletask/*`, where the app's SDK
 *   calls go) is served on the host's internal listener (`createInternalServer`), not here: this port
 *   answers it 404, as Azure's front end does;
 * - `POST /admin/functions/{name}` → run a non-HTTP function now (body `{"input": ...}`; master key;
 *   202 Accepted, 404 for an unknown function naming the timer functions), as the Functions host's
 *   admin API;
 * - `GET /admin/host/executions` → the host's execution accounting so far (common/execution-stats.ts:
 *   executions, failures and wall durations by function and trigger kind, busy time, mean duration
 *   and overlap, the process's RSS) as JSON; master key. devhost's own: Azure has no such endpoint;
 * - `/{routePrefix}/...` → the HTTP function whose route template matches (templates tried in
 *   precedence order): 401 without the key its authLevel needs, 405 with `Allow` when only the method
 *   is wrong, 404 when nothing matches or the function is disabled (`AzureWebJobs.<name>.Disabled`;
 *   the master key still runs it, as on Azure). A handler that throws answers 500 with no body (the
 *   error is logged), as the host does.
 *
 * Every answer devhost gives of its own is `application/problem+json` (problem.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpRequest } from '@azure/functions';
import { DevhostError } from '../common/errors';
import type { HttpFunction } from '../common/functions';
import type { PartHttpApi } from '../common/host-parts';
import type { ExecutionSnapshot } from '../common/execution-stats';
import { compareRoutes } from './route-template';
import { isAuthorized, presentedKey, type HostKeys } from './auth';
import { sendProblem } from './problem';
import { fromNodeRequest } from './request-converter';
import { toHttpResponse, writeNodeResponse } from './response-converter';

/**
 * Where the Functions host serves its extensions' webhooks: every path below it takes a system key
 * (or the master key), whether or not a part serves it.
 */
export const WEBHOOKS_PATH = '/runtime/webhooks';

export type AdminRunResult =
  | { readonly outcome: 'accepted' }
  /**
   * `detail` says why: no function has the name (and which ones can be run), or what the function
   * is and how it is called instead.
   */
  | { readonly outcome: 'not_found' | 'not_supported'; readonly detail: string };

export interface HttpDispatch {
  readonly routePrefix: string;
  readonly keys: HostKeys;
  readonly functions: readonly HttpFunction[];
  readonly azureFunctions: Pick<typeof import('@azure/functions'), 'HttpRequest' | 'HttpResponse'>;
  /** The app turned HTTP streaming on: query values join the route parameters in `request.params`. */
  readonly httpStream?: boolean;
  invoke(fn: HttpFunction, request: HttpRequest): Promise<unknown>;
  /** Runs a non-HTTP function now; for anything else, says why not. */
  runFunction(name: string, input: unknown): AdminRunResult;
  /** The host's execution accounting so far (GET /admin/host/executions). */
  executions(): ExecutionSnapshot;
  /** The APIs the host's parts serve: their paths are reserved. */
  readonly apis: readonly PartHttpApi[];
  log(line: string): void;
}

export function createHttpServer(dispatch: HttpDispatch): Server {
  const routes = [...dispatch.functions].sort((a, b) => compareRoutes(a.route, b.route));
  return createServer((req, res) => {
    handle(dispatch, routes, req, res).catch((error: unknown) => {
      answerFailure(res, `${req.method ?? ''} ${req.url ?? ''}`, error, dispatch.log);
    });
  });
}

/**
 * The host's internal listener for the internal paths of its parts' APIs, e.g. the SDK's
 * `rpcBaseUrl` (the durable extension's local RPC endpoint, `http://127.0.0.1:17071/durabletask/` on
 * Azure): no key, on its own loopback port, so the public port can require the system key while the
 * app's own calls (`df.getClient(context)`) work unchanged.
 */
export function createInternalServer(apis: readonly PartHttpApi[], log: (line: string) => void): Server {
  const served = apis.filter((api) => api.internalPath !== undefined);
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const serve = async (): Promise<void> => {
      const api = served.find((candidate) => isUnder(path, candidate.internalPath as string));
      if (api !== undefined && (await api.handle(req, res))) return;
      const paths = served.map((candidate) => `${candidate.internalPath as string}/*`).join(', ');
      sendProblem(res, 404, 'route_not_found', `the internal endpoint serves only ${paths}`);
    };
    serve().catch((error: unknown) => {
      answerFailure(res, `internal ${req.method ?? ''} ${req.url ?? ''}`, error, log);
    });
  });
}

/**
 * devhost (or a part's API) failed while answering: logged with its stack, and answered 500
 * problem+json unless the answer had begun, in which case the connection is cut.
 */
function answerFailure(
  res: ServerResponse,
  request: string,
  error: unknown,
  log: (line: string) => void,
): void {
  log(`[devhost] request ${request} failed: ${describe(error)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(
    res,
    500,
    'internal_error',
    `devhost failed while answering ${request}: ${error instanceof Error ? error.message : String(error)} (its log has the stack)`,
  );
}

/** `path` is below `prefix` (`/runtime/webhooks/durabletask/...`), case-insensitively. */
function isUnder(path: string, prefix: string): boolean {
  return path.toLowerCase().startsWith(`${prefix.toLowerCase()}/`);
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
  const key = presentedKey(url.searchParams, req.headers);

  const api = dispatch.apis.find((candidate) => isUnder(path, candidate.publicPath));
  if (api !== undefined || isUnder(path, WEBHOOKS_PATH)) {
    if (!isAuthorized('system', dispatch.keys, key)) {
      const who = api === undefined ? `${WEBHOOKS_PATH}/* needs a` : `${api.title} needs the ${api.keyName}`;
      sendProblem(
        res,
        401,
        'unauthorized',
        `${who} system key or the master key, as ?code= or the x-functions-key header (devhost prints both at start-up)`,
      );
      return;
    }
    if (api !== undefined && (await api.handle(req, res))) return;
    sendProblem(
      res,
      404,
      'route_not_found',
      api === undefined
        ? `nothing wired into this devhost serves ${path}`
        : `${api.title} has no endpoint ${path}`,
    );
    return;
  }
  const internal = dispatch.apis.find(
    (candidate) => candidate.internalPath !== undefined && isUnder(path, candidate.internalPath),
  );
  if (internal !== undefined) {
    sendProblem(
      res,
      404,
      'route_not_found',
      `${path} is an internal endpoint of ${internal.title}; call ${internal.publicPath}/... with the system key instead`,
    );
    return;
  }

  if (/^\/admin\/host\/executions\/?$/i.test(path)) {
    handleAdminExecutions(dispatch, method, res, key);
    return;
  }
  const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(path);
  if (admin !== null) {
    await handleAdminRun(dispatch, req, res, key, decodeURIComponent(admin[1] as string));
    return;
  }

  const prefix = dispatch.routePrefix === '' ? '' : `/${dispatch.routePrefix.toLowerCase()}`;
  const lower = path.toLowerCase();
  if (prefix !== '' && lower !== prefix && !lower.startsWith(`${prefix}/`)) {
    if (path === '/' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('devhost is running\n');
    } else sendProblem(res, 404, 'route_not_found', `no function answers ${path}`);
    return;
  }
  const routePath = path.slice(prefix.length);

  const masterKey = isAuthorized('admin', dispatch.keys, key);
  const matches: { fn: HttpFunction; params: Record<string, string> }[] = [];
  for (const fn of routes) {
    // A disabled function is not there, unless the master key asks for it (Azure's rule).
    if (fn.disabled && !masterKey) continue;
    const params = fn.route.match(routePath);
    if (params !== undefined) matches.push({ fn, params });
  }
  if (matches.length === 0) {
    sendProblem(res, 404, 'route_not_found', `no function answers ${path}`);
    return;
  }
  const chosen = matches.find(({ fn }) => fn.methods === undefined || fn.methods.includes(method));
  if (chosen === undefined) {
    const allow = [...new Set(matches.flatMap(({ fn }) => fn.methods ?? []))].join(', ');
    sendProblem(res, 405, 'method_not_allowed', `${method} is not allowed on ${path}; use ${allow}`, {
      allow,
    });
    return;
  }
  if (!isAuthorized(chosen.fn.authLevel, dispatch.keys, key)) {
    sendProblem(
      res,
      401,
      'unauthorized',
      `${chosen.fn.name} has authLevel ${chosen.fn.authLevel}: pass ${chosen.fn.authLevel === 'admin' ? 'the master key' : 'the function key'} as ?code= or the x-functions-key header`,
    );
    return;
  }

  const request = fromNodeRequest(dispatch.azureFunctions.HttpRequest, req, url, chosen.params, {
    streamParams: dispatch.httpStream === true,
  });
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
  key: string | undefined,
  name: string,
): Promise<void> {
  if ((req.method ?? '').toUpperCase() !== 'POST') {
    sendProblem(res, 405, 'method_not_allowed', 'the admin API runs a function with POST', { allow: 'POST' });
    return;
  }
  if (withoutMasterKey(dispatch, res, key)) return;
  const text = await readText(req);
  let input: unknown;
  if (text.trim() !== '') {
    try {
      input = (JSON.parse(text) as { input?: unknown }).input;
    } catch {
      sendProblem(res, 400, 'invalid_request', 'the body must be JSON: {"input": ...}');
      return;
    }
  }
  const result = dispatch.runFunction(name, input);
  if (result.outcome === 'not_found') sendProblem(res, 404, 'route_not_found', result.detail);
  else if (result.outcome === 'not_supported') sendProblem(res, 400, 'not_supported', result.detail);
  else res.writeHead(202).end();
}

/** Answers 401 and says so when `key` is not the master key (the admin API needs it). */
function withoutMasterKey(dispatch: HttpDispatch, res: ServerResponse, key: string | undefined): boolean {
  if (isAuthorized('admin', dispatch.keys, key)) return false;
  sendProblem(
    res,
    401,
    'unauthorized',
    'the admin API needs the master key, as ?code= or the x-functions-key header',
  );
  return true;
}

function handleAdminExecutions(
  dispatch: HttpDispatch,
  method: string,
  res: ServerResponse,
  key: string | undefined,
): void {
  if (method !== 'GET') {
    sendProblem(res, 405, 'method_not_allowed', 'the execution accounting is read with GET', {
      allow: 'GET',
    });
    return;
  }
  if (withoutMasterKey(dispatch, res, key)) return;
  res
    .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    .end(JSON.stringify(dispatch.executions()));
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

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
