/** devhost's Durable HTTP API: the client binding data and the HTTP handler that serves it. */
export { clientBindingData, DEFAULT_CONNECTION_NAME } from './client-binding-data';
export type { ClientBindingData, ClientBindingDataOptions } from './client-binding-data';
export { createDurableHttpApi } from './durable-http-api';
export type { DurableHttpApiOptions, DurableHttpHandler } from './durable-http-api';
export { RPC_PATH, WEBHOOK_PATH } from './management-urls';
