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
  const hub = { taskHub: options.taskHub, connectionName: options.connectionName ?? DEFAULT_CONNECTION_NAME };
  return {
    taskHubName: options.taskHub,
    creationUrls: creationUrls(origin),
    managementUrls: managementUrls(origin, INSTANCE_ID_PLACEHOLDER, hub),
    baseUrl: `${origin}${WEBHOOK_PATH}`,
    requiredQueryStringParameters: '',
    rpcBaseUrl: `${origin}${RPC_PATH}/`,
  };
}
