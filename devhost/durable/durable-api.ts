/**
 * The seams of devhost's durable support, shared by its three parts:
 *
 *  - the engine (devhost/durable/engine/): runs orchestrations and activities by replaying the real
 *    durable-functions SDK handlers over persisted histories; implements DurableEngine;
 *  - the Durable HTTP API (devhost/durable/http-api/): the endpoints `df.getClient(context)` calls
 *    (start, status, query, raise event, terminate, suspend, resume, purge), served over any
 *    DurableClientApi, and the client binding data a durableClient input receives;
 *  - durable support (durable-support.ts): the part the host plugs in (common/host-parts.ts); it
 *    hands the app's orchestrator and activity functions to the engine, serves the HTTP API through
 *    the host, and fills durableClient inputs. The host itself knows none of this module.
 *
 * Shapes follow the Durable Functions HTTP API (instance status JSON, runtime status names).
 */

export const RUNTIME_STATUSES = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
] as const;
export type RuntimeStatus = (typeof RUNTIME_STATUSES)[number];

/** As the Durable HTTP API returns it from `GET instances/{id}` and query. */
export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly customStatus?: unknown;
  /** ISO 8601. */
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  /** Only with `showHistory`; entries shaped as the extension shows them (EventType as a name, Timestamp, ...). */
  readonly historyEvents?: readonly Record<string, unknown>[];
}

export interface StatusOptions {
  readonly showHistory?: boolean;
  readonly showHistoryOutput?: boolean;
  /** Default true, as in the HTTP API. */
  readonly showInput?: boolean;
}

export interface InstanceQuery {
  readonly runtimeStatus?: readonly RuntimeStatus[];
  readonly createdTimeFrom?: Date;
  readonly createdTimeTo?: Date;
  readonly instanceIdPrefix?: string;
  readonly pageSize?: number;
  readonly continuationToken?: string;
  readonly showInput?: boolean;
}

export interface InstancePage {
  readonly instances: readonly InstanceStatus[];
  readonly continuationToken?: string;
}

/** What an operation on an instance found. */
export type InstanceOperationResult = 'accepted' | 'not_found' | 'not_applicable';

/** The client-side operations (what the Durable HTTP API exposes). */
export interface DurableClientApi {
  /**
   * Starts an orchestration. An existing instance id in a running state (Pending, Running, Suspended)
   * is refused with InstanceExistsError; a finished one is replaced (the extension's default).
   * Throws UnknownOrchestratorError for a name nobody registered. `version` is the orchestration
   * version the client asks for (`?version=`, durable-functions' `startNew(name, { version })`).
   */
  start(
    name: string,
    options: { readonly instanceId?: string; readonly input?: unknown; readonly version?: string },
  ): Promise<{ readonly instanceId: string }>;
  status(instanceId: string, options?: StatusOptions): Promise<InstanceStatus | undefined>;
  query(query: InstanceQuery): Promise<InstancePage>;
  /** Events for unknown instances are discarded ('not_found'); for finished ones 'not_applicable'. */
  raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<InstanceOperationResult>;
  terminate(instanceId: string, reason?: string): Promise<InstanceOperationResult>;
  suspend(instanceId: string, reason?: string): Promise<InstanceOperationResult>;
  resume(instanceId: string, reason?: string): Promise<InstanceOperationResult>;
  /** Purges a finished instance's state and history; returns how many instances were deleted. */
  purge(instanceId: string): Promise<number>;
  purgeMany(
    query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo'>,
  ): Promise<number>;
}

/** The handler a `df.app.orchestration` or `df.app.activity` registration passes to `registerFunction`. */
export type DurableTriggerHandler = (
  triggerInput: unknown,
  context: import('@azure/functions').InvocationContext,
) => unknown;

export interface DurableEngine extends DurableClientApi {
  registerOrchestrator(name: string, handler: DurableTriggerHandler): void;
  registerActivity(name: string, handler: DurableTriggerHandler): void;
  /** Begins processing (and resumes every in-flight instance from the store). */
  run(): Promise<void>;
  /** Stops taking work and waits for running invocations to settle. */
  stop(): Promise<void>;
}

export class InstanceExistsError extends Error {
  readonly code = 'instance_exists';
  constructor(
    readonly instanceId: string,
    readonly runtimeStatus: RuntimeStatus,
  ) {
    super(`an orchestration with instance id ${instanceId} already exists and is ${runtimeStatus}`);
  }
}

export class UnknownOrchestratorError extends Error {
  readonly code = 'unknown_orchestrator';
  constructor(readonly orchestratorName: string) {
    super(`no orchestrator function named ${orchestratorName} is registered`);
  }
}
