/**
 * The Durable Functions HTTP API over any DurableClientApi, as a Node http handler. It serves what
 * `df.getClient(context)` calls through `rpcBaseUrl` (`/durabletask/...`) and the documented webhook
 * API (`/runtime/webhooks/durabletask/...`); both prefixes carry the same routes.
 *
 *   POST   orchestrators/{name}[/{id}]        202 check-status payload (+Location, Retry-After: 10);
 *                                            ?version=v: the orchestration version (default: host.json
 *                                            defaultVersion); with ?timeout=s[&pollingInterval=s]: 200 output when it
 *                                            completes in time; 400 bad id/JSON or unknown orchestrator;
 *                                            409 instance exists and is not finished
 *   GET    instances/{id}                     200 finished / 202 in progress (+Location, Retry-After: 5) /
 *                                            404; Failed is 200, or 500 with returnInternalServerErrorOnFailure
 *   GET    instances                          200 array; x-ms-continuation-token in and out
 *   DELETE instances/{id}                     200 {instancesDeleted} / 404
 *   DELETE instances?createdTimeFrom=...      200 {instancesDeleted} / 404 when none / 400 without createdTimeFrom
 *   POST   instances/{id}/raiseEvent/{event}  202 / 404 / 410 finished / 400 non-JSON
 *   POST   instances/{id}/terminate|suspend|resume?reason=   202 / 404 / 410 (finished; or suspending
 *                                            what is not running, resuming what is not suspended)
 *   rewind, restart, entities/...              501
 *
 * The handler resolves true when the path is its own (it has answered), false otherwise. Client
 * mistakes are 4xx problem documents; only a failing backend gives a 500.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DurableClientApi, InstanceOperationResult, InstanceStatus } from '../durable-api';
import { DEFAULT_CONNECTION_NAME } from './client-binding-data';
import {
  InstanceGoneError,
  InstanceNotFoundError,
  InstanceStateError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotSupportedError,
  RouteNotFoundError,
  toErrorResponse,
} from './errors';
import { checkStatusPayload, originOf, type HubAddress } from './management-urls';
import {
  booleanParam,
  dateParam,
  positiveIntegerParam,
  runtimeStatusParam,
  secondsParam,
} from './query-params';
import { readJsonBody } from './read-body';
import { matchRoute, type Route } from './routes';
import { isInProgress, statusCodeFor, toStatusPayload } from './status-payload';

export type DurableHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface DurableHttpApiOptions {
  readonly taskHub: string;
  /** The host's origin; its protocol is used for links, the request's Host header for their authority. */
  readonly baseUrl: string;
  /** `connection=` in links; default `Storage`. */
  readonly connectionName?: string;
  /** The system key the links carry as `code` (the webhook API needs it). */
  readonly systemKey?: string;
  /** Largest accepted request body; default 16 MiB. */
  readonly maxBodyBytes?: number;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface ApiRequest {
  readonly req: IncomingMessage;
  readonly url: URL;
  /** Origin for links and Location headers, as the client reached us. */
  readonly origin: string;
}

const CONTINUATION_HEADER = 'x-ms-continuation-token';
const MAX_INSTANCE_ID_LENGTH = 256;
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export function createDurableHttpApi(
  api: DurableClientApi,
  options: DurableHttpApiOptions,
): DurableHttpHandler {
  const hub: HubAddress = {
    taskHub: options.taskHub,
    connectionName: options.connectionName ?? DEFAULT_CONNECTION_NAME,
    ...(options.systemKey === undefined ? {} : { systemKey: options.systemKey }),
  };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const base = new URL(originOf(options.baseUrl));

  const handlers = {
    async start(request: ApiRequest, functionName: string, instanceId: string | undefined): Promise<Reply> {
      if (instanceId !== undefined) assertValidInstanceId(instanceId);
      const input = await readJsonBody(request.req, {
        maxBytes: maxBodyBytes,
        requireJsonContentType: false,
      });
      const timeout = secondsParam(request.url.searchParams, 'timeout');
      const pollingInterval = secondsParam(request.url.searchParams, 'pollingInterval') ?? 1;
      // An empty `version=` is no version asked for (the SDK sends the parameter only with one).
      const version = request.url.searchParams.get('version') || undefined;
      const started = await api.start(functionName, {
        instanceId,
        input,
        ...(version === undefined ? {} : { version }),
      });
      if (timeout === undefined) return checkStatusReply(request.origin, started.instanceId);
      return waitForCompletion(request, started.instanceId, timeout, pollingInterval);
    },

    async status(request: ApiRequest, instanceId: string): Promise<Reply> {
      const params = request.url.searchParams;
      const returnIse = booleanParam(params, 'returnInternalServerErrorOnFailure') ?? false;
      const status = await api.status(instanceId, {
        showHistory: booleanParam(params, 'showHistory') ?? false,
        showHistoryOutput: booleanParam(params, 'showHistoryOutput') ?? false,
        showInput: booleanParam(params, 'showInput') ?? true,
      });
      if (status === undefined) throw new InstanceNotFoundError(instanceId);
      return statusReply(request, status, returnIse);
    },

    async query(request: ApiRequest): Promise<Reply> {
      const params = request.url.searchParams;
      const prefix = params.get('instanceIdPrefix');
      const token = request.req.headers[CONTINUATION_HEADER];
      const page = await api.query({
        runtimeStatus: runtimeStatusParam(params, 'runtimeStatus'),
        createdTimeFrom: dateParam(params, 'createdTimeFrom'),
        createdTimeTo: dateParam(params, 'createdTimeTo'),
        instanceIdPrefix: prefix === null || prefix === '' ? undefined : prefix,
        pageSize: positiveIntegerParam(params, 'top'),
        continuationToken: (Array.isArray(token) ? token[0] : token) || undefined,
        showInput: booleanParam(params, 'showInput'),
      });
      return {
        status: 200,
        body: page.instances.map(toStatusPayload),
        headers: page.continuationToken ? { [CONTINUATION_HEADER]: page.continuationToken } : {},
      };
    },

    async purge(instanceId: string): Promise<Reply> {
      const deleted = await api.purge(instanceId);
      if (deleted === 0 && (await api.status(instanceId, { showInput: false })) === undefined) {
        throw new InstanceNotFoundError(instanceId);
      }
      return { status: 200, body: { instancesDeleted: deleted } };
    },

    async purgeMany(request: ApiRequest): Promise<Reply> {
      const params = request.url.searchParams;
      const createdTimeFrom = dateParam(params, 'createdTimeFrom');
      if (createdTimeFrom === undefined) {
        throw new InvalidRequestError(
          'purging by filter needs the createdTimeFrom query parameter',
          'createdTimeFrom',
        );
      }
      const deleted = await api.purgeMany({
        createdTimeFrom,
        createdTimeTo: dateParam(params, 'createdTimeTo') ?? new Date(),
        runtimeStatus: runtimeStatusParam(params, 'runtimeStatus'),
      });
      if (deleted === 0) return { status: 404, body: { instancesDeleted: 0 } };
      return { status: 200, body: { instancesDeleted: deleted } };
    },

    async raiseEvent(request: ApiRequest, instanceId: string, eventName: string): Promise<Reply> {
      const data = await readJsonBody(request.req, { maxBytes: maxBodyBytes, requireJsonContentType: true });
      const result = await api.raiseEvent(instanceId, eventName, data ?? null);
      return operationReply(result, instanceId, 'raise an event on');
    },

    async operation(
      request: ApiRequest,
      instanceId: string,
      operation: 'terminate' | 'suspend' | 'resume',
    ): Promise<Reply> {
      const reason = request.url.searchParams.get('reason') ?? undefined;
      if (operation !== 'terminate') {
        // The extension's client refuses to suspend what is not running and to resume what is not
        // suspended (InvalidOperationException "Cannot suspend the orchestration instance X because
        // instance is in the Suspended state."); devhost answers that as 410 with the same words.
        const status = await api.status(instanceId, { showInput: false });
        if (status === undefined) throw new InstanceNotFoundError(instanceId);
        const allowed =
          operation === 'suspend'
            ? status.runtimeStatus === 'Running' || status.runtimeStatus === 'Pending'
            : status.runtimeStatus === 'Suspended';
        if (!allowed) throw new InstanceStateError(instanceId, operation, status.runtimeStatus);
      }
      const result = await api[operation](instanceId, reason);
      return operationReply(result, instanceId, operation);
    },
  };

  async function dispatch(route: Route, request: ApiRequest): Promise<Reply> {
    const method = (request.req.method ?? 'GET').toUpperCase();
    switch (route.kind) {
      case 'start':
        allow(method, ['POST']);
        return handlers.start(request, route.functionName, route.instanceId);
      case 'instances':
        allow(method, ['GET', 'DELETE']);
        return method === 'GET' ? handlers.query(request) : handlers.purgeMany(request);
      case 'instance':
        allow(method, ['GET', 'DELETE']);
        return method === 'GET'
          ? handlers.status(request, route.instanceId)
          : handlers.purge(route.instanceId);
      case 'raiseEvent':
        allow(method, ['POST']);
        return handlers.raiseEvent(request, route.instanceId, route.eventName);
      case 'operation':
        allow(method, ['POST']);
        if (route.operation === 'rewind' || route.operation === 'restart') {
          throw new NotSupportedError(`the ${route.operation} operation`);
        }
        return handlers.operation(request, route.instanceId, route.operation);
      case 'entities':
        throw new NotSupportedError('durable entities');
      case 'unknown':
        throw new RouteNotFoundError(request.url.pathname);
      default: {
        const unexpected: never = route;
        throw new Error(`unhandled route ${JSON.stringify(unexpected)}`);
      }
    }
  }

  function checkStatusReply(origin: string, instanceId: string): Reply {
    const payload = checkStatusPayload(origin, instanceId, hub);
    return {
      status: 202,
      body: payload,
      headers: { Location: payload.statusQueryGetUri, 'Retry-After': '10' },
    };
  }

  function statusReply(request: ApiRequest, status: InstanceStatus, returnIse: boolean): Reply {
    const code = statusCodeFor(status.runtimeStatus, returnIse);
    const headers: Record<string, string> =
      code === 202 ? { Location: `${request.origin}${request.req.url ?? ''}`, 'Retry-After': '5' } : {};
    return { status: code, body: toStatusPayload(status), headers };
  }

  async function waitForCompletion(
    request: ApiRequest,
    instanceId: string,
    timeoutSeconds: number,
    pollingIntervalSeconds: number,
  ): Promise<Reply> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const status = await api.status(instanceId);
      if (status !== undefined && !isInProgress(status.runtimeStatus)) {
        if (status.runtimeStatus === 'Completed') return { status: 200, body: status.output ?? null };
        return statusReply(
          request,
          status,
          booleanParam(request.url.searchParams, 'returnInternalServerErrorOnFailure') ?? false,
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return checkStatusReply(request.origin, instanceId);
      await sleep(Math.min(remaining, Math.max(pollingIntervalSeconds * 1000, 10)));
    }
  }

  function checkTaskHub(params: URLSearchParams): void {
    const requested = params.get('taskHub');
    if (requested !== null && requested !== '' && requested.toLowerCase() !== options.taskHub.toLowerCase()) {
      throw new InvalidRequestError(
        `devhost serves only task hub ${options.taskHub}, not ${JSON.stringify(requested)}`,
        'taskHub',
      );
    }
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    let route: Route | undefined;
    try {
      route = matchRoute(url.pathname);
    } catch (error) {
      // matchRoute only throws for a path under one of our prefixes (a malformed segment).
      send(res, problemReply(error));
      return true;
    }
    if (route === undefined) return false;
    const host = req.headers.host;
    const origin = host ? `${base.protocol}//${host}` : base.origin;
    try {
      checkTaskHub(url.searchParams);
      send(res, await dispatch(route, { req, url, origin }));
    } catch (error) {
      send(res, problemReply(error));
    }
    return true;
  };
}

function assertValidInstanceId(instanceId: string): void {
  // The extension's rules (DurableClient.StartNewAsync).
  if (instanceId.startsWith('@')) {
    throw new InvalidRequestError('orchestration instance ids must not start with @', 'instanceId');
  }
  // eslint-disable-next-line no-control-regex
  if (/[/\\?#\u0000-\u001f\u007f-\u009f]/.test(instanceId)) {
    throw new InvalidRequestError(
      'orchestration instance ids must not contain /, \\, #, ?, or control characters',
      'instanceId',
    );
  }
  if (instanceId.length > MAX_INSTANCE_ID_LENGTH) {
    throw new InvalidRequestError(
      `instance ids must not exceed ${MAX_INSTANCE_ID_LENGTH} characters`,
      'instanceId',
    );
  }
}

function allow(method: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) throw new MethodNotAllowedError(method, allowed);
}

function operationReply(result: InstanceOperationResult, instanceId: string, operation: string): Reply {
  switch (result) {
    case 'accepted':
      return { status: 202 };
    case 'not_found':
      throw new InstanceNotFoundError(instanceId);
    case 'not_applicable':
      throw new InstanceGoneError(instanceId, operation);
    default: {
      const unexpected: never = result;
      throw new Error(`unknown operation result ${String(unexpected)}`);
    }
  }
}

function problemReply(error: unknown): Reply {
  const problem = toErrorResponse(error);
  return {
    status: problem.status,
    body: {
      type: 'about:blank',
      title: STATUS_CODES[problem.status] ?? 'Error',
      status: problem.status,
      detail: problem.detail,
      code: problem.code,
    },
    headers: { ...problem.headers, 'Content-Type': 'application/problem+json' },
  };
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(body === '' ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    ...reply.headers,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
