/**
 * The value a `durableClient` input binding receives: the JSON the Durable extension serialises
 * (BindingHelper.DurableOrchestrationClientToString, HTTP flavour) and `df.getClient(context)` accepts
 * (OrchestrationClientInputData: taskHubName, creationUrls and managementUrls are required).
 *
 * The SDK sends every operation to `rpcBaseUrl` when it is present, as relative URLs
 * (`orchestrators/{name}[/{id}]`, `instances/[{id}]`, `instances/{id}/raiseEvent/{event}`,
 * `instances/{id}/terminate?reason=`...), so it must end with a slash. The creation and management URL
 * templates serve `createCheckStatusResponse` / `createHttpManagementPayload` and the SDK's fallback.
 *
 * NOTE for the host: `df.getClient` rewrites the origin of every creation/management URL to
 * http://localhost:7071 unless `process.env.WEBSITE_HOSTNAME` is set (and does not contain 0.0.0.0).
 * The host must therefore set WEBSITE_HOSTNAME to its own `host:port` before invoking functions, as
 * Core Tools does; `rpcBaseUrl` is never rewritten.
 */
import {
  creationUrls,
  INSTANCE_ID_PLACEHOLDER,
  managementUrls,
  originOf,
  requiredQueryStringParameters,
  RPC_PATH,
  WEBHOOK_PATH,
  type HttpCreationUrls,
  type HttpManagementUrls,
} from './management-urls';

/** The extension's default connection name for the Azure Storage provider. */
export const DEFAULT_CONNECTION_NAME = 'Storage';

export interface ClientBindingDataOptions {
  /** The host's origin, e.g. `http://127.0.0.1:7071` (a path, if any, is ignored). */
  readonly baseUrl: string;
  readonly taskHub: string;
  /** Appears as `connection=` in management URLs; default `Storage`. */
  readonly connectionName?: string;
  /**
   * Where the SDK sends its calls; default `{origin}/durabletask/`. devhost serves it on the host's
   * internal listener, which needs no key (the extension's local RPC endpoint).
   */
  readonly rpcBaseUrl?: string;
  /**
   * The `durabletask_extension` system key: `requiredQueryStringParameters` is `code=<key>` and every
   * creation and management URL carries it, as the extension builds them.
   */
  readonly systemKey?: string;
}

export interface ClientBindingData {
  readonly taskHubName: string;
  readonly creationUrls: HttpCreationUrls;
  readonly managementUrls: HttpManagementUrls;
  readonly baseUrl: string;
  readonly requiredQueryStringParameters: string;
  readonly rpcBaseUrl: string;
}

export function clientBindingData(options: ClientBindingDataOptions): ClientBindingData {
  const origin = originOf(options.baseUrl);
  const hub = {
    taskHub: options.taskHub,
    connectionName: options.connectionName ?? DEFAULT_CONNECTION_NAME,
    ...(options.systemKey === undefined ? {} : { systemKey: options.systemKey }),
  };
  return {
    taskHubName: options.taskHub,
    creationUrls: creationUrls(origin, options.systemKey),
    managementUrls: managementUrls(origin, INSTANCE_ID_PLACEHOLDER, hub),
    baseUrl: `${origin}${WEBHOOK_PATH}`,
    requiredQueryStringParameters: requiredQueryStringParameters(options.systemKey),
    rpcBaseUrl: options.rpcBaseUrl ?? `${origin}${RPC_PATH}/`,
  };
}
