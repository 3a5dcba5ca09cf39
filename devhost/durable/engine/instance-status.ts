/**
 * Instance records as clients see them: which runtime statuses count as running, the query filter
 * and order of `GET instances`, and the Durable HTTP API's status shape of a record.
 */
import type { InstanceQuery, InstanceStatus, RuntimeStatus } from '../durable-api';
import { parseJsonOr, toDisplayHistory, type StoredEvent } from './history';
import type { InstanceRecord } from './store';

const RUNNING_STATUSES: readonly RuntimeStatus[] = ['Pending', 'Running', 'Suspended'];

export function isRunningStatus(status: RuntimeStatus): boolean {
  return RUNNING_STATUSES.includes(status);
}

/** The records a query selects, oldest first (then by instance id). */
export function filterInstances(
  records: readonly InstanceRecord[],
  query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo' | 'instanceIdPrefix'>,
): InstanceRecord[] {
  return records
    .filter((r) => !query.runtimeStatus?.length || query.runtimeStatus.includes(r.runtimeStatus))
    .filter((r) => !query.createdTimeFrom || new Date(r.createdTime) >= query.createdTimeFrom)
    .filter((r) => !query.createdTimeTo || new Date(r.createdTime) <= query.createdTimeTo)
    .filter((r) => !query.instanceIdPrefix || r.instanceId.startsWith(query.instanceIdPrefix))
    .sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId));
}

export function toInstanceStatus(
  record: InstanceRecord,
  showInput: boolean,
  history: readonly StoredEvent[] | undefined,
  showHistoryOutput: boolean,
): InstanceStatus {
  return {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    ...(showInput && record.input !== undefined ? { input: parseJsonOr(record.input) } : {}),
    ...(record.output !== undefined ? { output: parseJsonOr(record.output) } : {}),
    ...(record.customStatus !== undefined ? { customStatus: parseJsonOr(record.customStatus) } : {}),
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
    ...(history ? { historyEvents: toDisplayHistory(history, { showHistoryOutput }) } : {}),
  };
}
