/**
 * A durable-functions DurableClient for a process outside Functions (the `lucius` CLI), which has
 * no durable client input binding: the client data the binding would carry is built from the
 * Durable Functions HTTP API base (`{origin}/runtime/webhooks/durabletask`, LUCIUS_DURABLE_API_URL)
 * and the system key (LUCIUS_DURABLE_API_KEY), passed as `code` on every URL, as the extension
 * builds its own management links. No `rpcBaseUrl`: that endpoint only listens inside the host.
 */
import type { DurableClient } from 'durable-functions';

/** The client class; the package exports only its type (instances come from `df.getClient`). */
const durableClientModule: unknown =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('durable-functions/lib/src/durableClient/DurableClient');
const { DurableClient: DurableClientClass } = durableClientModule as {
  DurableClient: new (clientData: unknown) => DurableClient;
};

export interface DurableHttpApi {
  /** e.g. `http://127.0.0.1:7071/runtime/webhooks/durabletask` (no trailing slash). */
  readonly url: string;
  /** The `durabletask_extension` system key; none on a local host. */
  readonly key?: string;
}

const INSTANCE_ID = 'INSTANCEID';

/** The client data a `durableClient` binding of `taskHub` would receive, for the public HTTP API. */
export function webhookClientData(api: DurableHttpApi, taskHub: string): Record<string, unknown> {
  const base = api.url.replace(/\/+$/, '');
  const code = api.key === undefined ? '' : `code=${encodeURIComponent(api.key)}`;
  const hub = `taskHub=${encodeURIComponent(taskHub)}&connection=Storage${code === '' ? '' : `&${code}`}`;
  const creation = `${base}/orchestrators/{functionName}[/{instanceId}]`;
  const instance = `${base}/instances/${INSTANCE_ID}`;
  return {
    taskHubName: taskHub,
    creationUrls: {
      createNewInstancePostUri: `${creation}?${hub}`,
      createAndWaitOnNewInstancePostUri: `${creation}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${hub}`,
    },
    managementUrls: {
      id: INSTANCE_ID,
      statusQueryGetUri: `${instance}?${hub}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${hub}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${hub}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${hub}`,
      purgeHistoryDeleteUri: `${instance}?${hub}`,
      restartPostUri: `${instance}/restart?${hub}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${hub}`,
      resumePostUri: `${instance}/resume?reason={text}&${hub}`,
    },
    baseUrl: base,
    requiredQueryStringParameters: code,
  };
}

export function durableHttpClient(api: DurableHttpApi, taskHub: string): DurableClient {
  return new DurableClientClass(webhookClientData(api, taskHub));
}
