/**
 * The URLs of the Durable HTTP API, built as the extension builds them (HttpApiHandler
 * GetInstanceCreationLinks / GetClientResponseLinks): the public webhook base
 * `{origin}/runtime/webhooks/durabletask`, and the instance links carrying `taskHub`, `connection`
 * and, when the host has one, `code=<durabletask_extension system key>` (the binding's
 * `requiredQueryStringParameters`), so a link works as given.
 */

/** Public prefix of the documented HTTP API. */
export const WEBHOOK_PATH = '/runtime/webhooks/durabletask';
/** Prefix of the internal RPC endpoint the SDK prefers (the extension's LocalHttpListener uses `/durabletask/`). */
export const RPC_PATH = '/durabletask';

/** The placeholder the extension puts in the binding's management URL templates. */
export const INSTANCE_ID_PLACEHOLDER = 'INSTANCEID';

export interface HubAddress {
  readonly taskHub: string;
  readonly connectionName: string;
  /** The system key the links carry as `code`. */
  readonly systemKey?: string;
}

/** `code=<key>`, the extension's `requiredQueryStringParameters`; empty without a key. */
export function requiredQueryStringParameters(systemKey: string | undefined): string {
  return systemKey === undefined ? '' : `code=${encodeURIComponent(systemKey)}`;
}

export interface HttpCreationUrls {
  readonly createNewInstancePostUri: string;
  readonly createAndWaitOnNewInstancePostUri: string;
}

export interface HttpManagementUrls {
  readonly id: string;
  readonly statusQueryGetUri: string;
  readonly sendEventPostUri: string;
  readonly terminatePostUri: string;
  readonly rewindPostUri: string;
  readonly purgeHistoryDeleteUri: string;
  readonly restartPostUri: string;
  readonly suspendPostUri: string;
  readonly resumePostUri: string;
}

/** The body of a 202 check-status response (the extension leaves rewindPostUri out of it). */
export type CheckStatusPayload = Omit<HttpManagementUrls, 'rewindPostUri'>;

/** `http://host:port` without a trailing slash. */
export function originOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

export function creationUrls(origin: string, systemKey?: string): HttpCreationUrls {
  const prefix = `${origin}${WEBHOOK_PATH}/orchestrators/{functionName}[/{instanceId}]`;
  const code = requiredQueryStringParameters(systemKey);
  return {
    createNewInstancePostUri: code === '' ? prefix : `${prefix}?${code}`,
    createAndWaitOnNewInstancePostUri: `${prefix}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}${code === '' ? '' : `&${code}`}`,
  };
}

/**
 * Links for one instance. `instanceId` is URL-encoded as the extension does (WebUtility.UrlEncode), except
 * the template placeholder, which the SDK later replaces textually.
 */
export function managementUrls(origin: string, instanceId: string, hub: HubAddress): HttpManagementUrls {
  const encodedId = instanceId === INSTANCE_ID_PLACEHOLDER ? instanceId : encodeURIComponent(instanceId);
  const instance = `${origin}${WEBHOOK_PATH}/instances/${encodedId}`;
  const code = requiredQueryStringParameters(hub.systemKey);
  const query = `taskHub=${encodeURIComponent(hub.taskHub)}&connection=${encodeURIComponent(hub.connectionName)}${code === '' ? '' : `&${code}`}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}?${query}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
    purgeHistoryDeleteUri: `${instance}?${query}`,
    restartPostUri: `${instance}/restart?${query}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
    resumePostUri: `${instance}/resume?reason={text}&${query}`,
  };
}

export function checkStatusPayload(origin: string, instanceId: string, hub: HubAddress): CheckStatusPayload {
  const { rewindPostUri: _rewind, ...payload } = managementUrls(origin, instanceId, hub);
  return payload;
}
