/**
 * The one place devhost's durable parts are put together, as a part the host plugs in
 * (common/host-parts.ts): the engine (on a store) runs the app's orchestrator and activity functions,
 * the Durable HTTP API is served over it (publicly at `/runtime/webhooks/durabletask/*` with the
 * system key; at `/durabletask/*` on the host's internal listener for the SDK's own calls), and
 * `durableClient` inputs receive the client binding data. Activities are invoked through the host (as
 * HTTP, timer and Service Bus functions are), so they receive every extra input they declare, as on
 * Azure (e.g. a durable client to raise an event on another instance); orchestrator episodes keep the
 * engine's own context.
 *
 * The host's address is known only once it listens, so it is read through `hostUrl()` each time it is
 * needed (the host sets WEBSITE_HOSTNAME as soon as it listens, before any request can arrive); the
 * host then tells the part its internal listener and system key (`listening`), which the client
 * binding data and the webhook links carry.
 */
import { requireHubName, type HostConfig } from '../common/host-config';
import type { HostPart, PartHttpHandler } from '../common/host-parts';
import type { DurableEngine } from './durable-api';
import { createDurableEngine, type DurableStore, type EngineLogLevel } from './engine';
import {
  clientBindingData,
  createDurableHttpApi,
  RPC_PATH,
  WEBHOOK_PATH,
  type DurableHttpHandler,
} from './http-api';

export interface DurableSupportOptions {
  readonly config: HostConfig;
  readonly store: DurableStore;
  /** The host's base URL, e.g. `http://127.0.0.1:7071`. */
  readonly hostUrl: () => string;
  readonly log?: (level: EngineLogLevel, message: string) => void;
}

/** Durable support as a host part, with its engine (for callers that drive or inspect it). */
export interface DurableSupport extends HostPart {
  readonly engine: DurableEngine;
}

/** Where the SDK's calls go and the key the webhook links carry, once the host listens. */
interface DurableAccess {
  /** `http://127.0.0.1:<internal port>/durabletask/` */
  readonly rpcBaseUrl: string;
  /** The `durabletask_extension` system key. */
  readonly systemKey: string;
}

export function createDurableSupport(options: DurableSupportOptions): DurableSupport {
  const { config } = options;
  const taskHub = config.durableTask.hubName;
  const engine = createDurableEngine({
    store: options.store,
    maxConcurrentActivityFunctions: config.durableTask.maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions: config.durableTask.maxConcurrentOrchestratorFunctions,
    versioning: config.durableTask,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  let api: DurableHttpHandler | undefined;
  let access: DurableAccess | undefined;
  const handle: PartHttpHandler = (req, res) => {
    api ??= createDurableHttpApi(engine, {
      taskHub,
      baseUrl: options.hostUrl(),
      ...(access === undefined ? {} : { systemKey: access.systemKey }),
    });
    return api(req, res);
  };
  return {
    name: 'durable support',
    kinds: ['orchestration', 'activity'],
    engine,
    inputs: {
      durableClient: () =>
        clientBindingData({
          baseUrl: options.hostUrl(),
          taskHub,
          ...(access === undefined ? {} : { rpcBaseUrl: access.rpcBaseUrl, systemKey: access.systemKey }),
        }),
    },
    httpApi: {
      title: 'the Durable Functions HTTP API',
      keyName: 'durabletask_extension',
      publicPath: WEBHOOK_PATH,
      internalPath: RPC_PATH,
      handle,
    },
    register: ({ functions, config: hostConfig, invoke }) => {
      requireHubName(hostConfig);
      for (const fn of functions) {
        if (fn.kind === 'orchestration')
          engine.registerOrchestrator(fn.name, (input, ctx) => fn.handler(input, ctx));
        // An activity is invoked as the host invokes its other triggers: its own context, with the
        // extra inputs it declares (e.g. its durable client), its logs and the app's hooks.
        else if (fn.kind === 'activity') engine.registerActivity(fn.name, (input) => invoke(fn, input));
      }
    },
    listening: (host) => {
      access = { rpcBaseUrl: `${host.internalUrl ?? host.baseUrl}${RPC_PATH}/`, systemKey: host.systemKey };
      api = undefined;
    },
    banner: (host) => [
      `  e.g. curl -s '${host.baseUrl}${WEBHOOK_PATH}/instances?code=${encodeURIComponent(host.systemKey)}'`,
    ],
    start: () => engine.run(),
    stop: () => engine.stop(),
  };
}
