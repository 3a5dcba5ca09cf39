/**
 * The one place devhost's durable parts are put together: the engine (on a store), the Durable HTTP
 * API served over it, and the client binding data `durableClient` inputs receive.
 *
 * The host's address is known only once it listens, so it is read through `hostUrl()` each time it is
 * needed (the host sets WEBSITE_HOSTNAME as soon as it listens, before any request can arrive); the
 * host then attaches its internal RPC address and system key (`attach`), which the client binding
 * data and the webhook links carry.
 */
import type { DurableAccess, DurableSupport } from '../host/host';
import type { HostConfig } from '../host/host-config';
import { createDurableEngine, type DurableStore, type EngineLogLevel } from './engine';
import { clientBindingData, createDurableHttpApi, type DurableHttpHandler } from './http-api';

export interface DurableSupportOptions {
  readonly config: HostConfig;
  readonly store: DurableStore;
  /** The host's base URL, e.g. `http://127.0.0.1:7071`. */
  readonly hostUrl: () => string;
  readonly log?: (level: EngineLogLevel, message: string) => void;
}

export function createDurableSupport(options: DurableSupportOptions): DurableSupport {
  const { config } = options;
  const taskHub = config.durableTask.hubName;
  const engine = createDurableEngine({
    store: options.store,
    maxConcurrentActivityFunctions: config.durableTask.maxConcurrentActivityFunctions,
    maxConcurrentOrchestratorFunctions: config.durableTask.maxConcurrentOrchestratorFunctions,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  let api: DurableHttpHandler | undefined;
  let access: DurableAccess | undefined;
  return {
    engine,
    httpHandler: (req, res) => {
      api ??= createDurableHttpApi(engine, {
        taskHub,
        baseUrl: options.hostUrl(),
        ...(access === undefined ? {} : { systemKey: access.systemKey }),
      });
      return api(req, res);
    },
    clientBindingData: () =>
      clientBindingData({
        baseUrl: options.hostUrl(),
        taskHub,
        ...(access === undefined ? {} : { rpcBaseUrl: access.rpcBaseUrl, systemKey: access.systemKey }),
      }),
    attach: (given) => {
      access = given;
      api = undefined;
    },
  };
}
