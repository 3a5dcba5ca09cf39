/**
 * Instance status as the extension writes it (StatusResponsePayload) and the HTTP status it answers
 * `GET instances/{id}` with. The SDK's DurableOrchestrationStatus refuses a body without `input` or
 * `output`, so absent values are written as null, never left out. History goes in `historyEvents`
 * (as the extension names it; durable-js reads `history`, so `status.history` stays undefined in Azure
 * too: Azure/azure-functions-durable-js#620).
 */
import type { InstanceStatus, RuntimeStatus } from '../durable-api';

export interface StatusPayload {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents?: readonly Record<string, unknown>[];
}

export function toStatusPayload(status: InstanceStatus): StatusPayload {
  return {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: status.input ?? null,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
    ...(status.historyEvents === undefined ? {} : { historyEvents: status.historyEvents }),
  };
}

/** True while the instance can still make progress (202 + Location + Retry-After). */
export function isInProgress(runtimeStatus: RuntimeStatus): boolean {
  switch (runtimeStatus) {
    case 'Pending':
    case 'Running':
    case 'ContinuedAsNew':
    case 'Suspended':
      return true;
    case 'Completed':
    case 'Failed':
    case 'Canceled':
    case 'Terminated':
      return false;
    default: {
      const unexpected: never = runtimeStatus;
      throw new Error(`unknown runtime status ${String(unexpected)}`);
    }
  }
}

/** 202 in progress; 200 finished; a Failed instance is 200 unless `returnInternalServerErrorOnFailure`. */
export function statusCodeFor(
  runtimeStatus: RuntimeStatus,
  returnInternalServerErrorOnFailure: boolean,
): number {
  if (isInProgress(runtimeStatus)) return 202;
  if (runtimeStatus === 'Failed' && returnInternalServerErrorOnFailure) return 500;
  return 200;
}
