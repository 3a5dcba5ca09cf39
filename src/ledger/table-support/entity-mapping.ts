/**
 * Domain ⇄ Table entity mapping, shared by both Table Storage backends (only the keys differ).
 *
 * - Scalar domain fields become properties of the same name; timestamps stay ISO-8601 strings
 *   (Edm.DateTime would truncate to 100 ns and come back as a different string).
 * - Objects (payload, result, labels, failure, stepIds) are stored as JSON strings. A string property
 *   holds at most 32K UTF-16 units, so longer JSON is split over `<name>`, `<name>_1`, ... with
 *   `<name>_chunks` giving the count; this keeps large step payloads and results intact.
 * - An entity is at most 1 MiB and a transaction at most 4 MiB: rows that would not fit are refused
 *   with LedgerEntityTooLargeError before anything is written (inline data should be a reference).
 * - Absent optional fields are absent properties (rows are written in Replace mode, so a field the
 *   domain dropped, e.g. a lease deadline on re-dispatch, disappears from storage too).
 * - `revision` counts the writes of a job row; the index row copies it so a slow writer can never
 *   put an older status back into the index.
 * - Counters added after rows were first written (`redrives` on jobs, `attemptBase` on steps) are
 *   read as 0 when a row lacks them.
 */
import type { Repair } from '../../domain/repair';
import type { ActiveJobEntry, FinishedJobEntry, InflightCounter, JobSummary } from '../../ports/job-ledger';
import { toJobSummary } from '../ledger-rules';
import { isJobStatus, type Job, type JobFailure } from '../../domain/job';
import { isStepStatus, STEP_TYPES, type Step, type StepFailure, type StepType } from '../../domain/step';
import { LedgerEntityTooLargeError } from '../errors';
import type { Entity, EntityProps, RowKeys } from './storage-table';

/** Azure: a string property holds up to 64 KiB, i.e. 32K UTF-16 code units. Leave some headroom. */
const MAX_STRING_CHUNK = 32_000;
/** Azure: an entity is at most 1 MiB, measured by the formula in `estimateEntityBytes`. */
export const MAX_ENTITY_BYTES = 1_048_576;
/**
 * Azure: a transaction's request body is at most 4 MiB. The body is JSON inside a multipart
 * envelope, so escaping and headers add to the estimate; keep a margin.
 */
export const MAX_TRANSACTION_BYTES = 3_670_016;

// ---------------------------------------------------------------------------------------------
// Jobs

export function jobToEntity(job: Job, keys: RowKeys, revision: number): Entity {
  const entity: EntityProps = {
    partitionKey: keys.partitionKey,
    rowKey: keys.rowKey,
    revision,
    jobId: job.jobId,
    tenantId: job.tenantId,
    requestType: job.requestType,
    status: job.status,
    inputRef: job.inputRef,
    outputRef: job.outputRef,
    routingKey: job.routingKey,
    routingKeyUsed: job.routingKeyUsed,
    lane: job.lane,
    priority: job.priority,
    idempotencyKey: job.idempotencyKey,
    requestHash: job.requestHash,
    schemaVersion: job.schemaVersion,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    redrives: job.redrives,
    orchestrationRestarts: job.orchestrationRestarts,
  };
  putJson(entity, 'labels', job.labels);
  if (job.repairs.length > 0) putJson(entity, 'repairs', job.repairs);
  putOptional(entity, 'deadlineAt', job.deadlineAt);
  putJson(entity, 'stepIds', job.stepIds);
  putOptional(entity, 'correlationId', job.correlationId);
  putOptional(entity, 'startedAt', job.startedAt);
  putOptional(entity, 'finishedAt', job.finishedAt);
  putOptional(entity, 'cancelReason', job.cancelReason);
  if (job.failure !== undefined) putJson(entity, 'failure', job.failure);
  return checkedEntity(entity as Entity, `job ${job.jobId}`);
}

export function jobFromEntity(entity: EntityProps): Job {
  const read = reader(entity, 'job');
  const status = read.string('status');
  if (!isJobStatus(status)) throw read.corrupt('status', status);
  const routingKeyUsed = read.string('routingKeyUsed');
  if (routingKeyUsed !== 'routing_key' && routingKeyUsed !== 'tenant_id')
    throw read.corrupt('routingKeyUsed', routingKeyUsed);
  const correlationId = read.optionalString('correlationId');
  const startedAt = read.optionalString('startedAt');
  const finishedAt = read.optionalString('finishedAt');
  const cancelReason = read.optionalString('cancelReason');
  const failure = getJson(entity, 'failure') as JobFailure | undefined;
  const deadlineAt = read.optionalString('deadlineAt');
  return {
    jobId: read.string('jobId'),
    tenantId: read.string('tenantId'),
    requestType: read.string('requestType'),
    status,
    inputRef: read.string('inputRef'),
    outputRef: read.string('outputRef'),
    routingKey: read.string('routingKey'),
    routingKeyUsed,
    lane: read.integer('lane'),
    priority: read.integer('priority'),
    labels: (getJson(entity, 'labels') ?? {}) as Record<string, string>,
    ...(correlationId === undefined ? {} : { correlationId }),
    idempotencyKey: read.string('idempotencyKey'),
    requestHash: read.string('requestHash'),
    schemaVersion: read.string('schemaVersion'),
    stepIds: (getJson(entity, 'stepIds') ?? []) as string[],
    createdAt: read.string('createdAt'),
    updatedAt: read.string('updatedAt'),
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(finishedAt === undefined ? {} : { finishedAt }),
    ...(failure === undefined ? {} : { failure }),
    ...(cancelReason === undefined ? {} : { cancelReason }),
    redrives: read.integerOr('redrives', 0),
    ...(deadlineAt === undefined ? {} : { deadlineAt }),
    orchestrationRestarts: read.integerOr('orchestrationRestarts', 0),
    repairs: (getJson(entity, 'repairs') ?? []) as Repair[],
  };
}

/** The write count of a stored job or index row (0 for the row written at admission). */
export function revisionOf(entity: EntityProps): number {
  const revision = entity['revision'];
  return typeof revision === 'number' ? revision : 0;
}

// ---------------------------------------------------------------------------------------------
// Steps

export function stepToEntity(step: Step, keys: RowKeys): Entity {
  const entity: EntityProps = {
    partitionKey: keys.partitionKey,
    rowKey: keys.rowKey,
    jobId: step.jobId,
    stepId: step.stepId,
    index: step.index,
    type: step.type,
    status: step.status,
    lane: step.lane,
    attemptNo: step.attemptNo,
    attemptBase: step.attemptBase,
    staleReplies: step.staleReplies,
    duplicateReplies: step.duplicateReplies,
    createdAt: step.createdAt,
    updatedAt: step.updatedAt,
  };
  putJson(entity, 'payload', step.payload);
  if (step.result !== undefined) putJson(entity, 'result', step.result);
  if (step.failure !== undefined) putJson(entity, 'failure', step.failure);
  putOptional(entity, 'tenantId', step.tenantId);
  putOptional(entity, 'inputRef', step.inputRef);
  putOptional(entity, 'outputRef', step.outputRef);
  putOptional(entity, 'leaseId', step.leaseId);
  putOptional(entity, 'ackDeadline', step.ackDeadline);
  putOptional(entity, 'leaseExpiresAt', step.leaseExpiresAt);
  putOptional(entity, 'resultDeadline', step.resultDeadline);
  putOptional(entity, 'startedAt', step.startedAt);
  putOptional(entity, 'finishedAt', step.finishedAt);
  return checkedEntity(entity as Entity, `step ${step.jobId}/${step.stepId}`);
}

export function stepFromEntity(entity: EntityProps): Step {
  const read = reader(entity, 'step');
  const status = read.string('status');
  if (!isStepStatus(status)) throw read.corrupt('status', status);
  const type = read.string('type');
  if (!(STEP_TYPES as readonly string[]).includes(type)) throw read.corrupt('type', type);
  const result = getJson(entity, 'result') as Record<string, unknown> | undefined;
  const failure = getJson(entity, 'failure') as StepFailure | undefined;
  const optional = (name: keyof Step & string): Partial<Step> => {
    const value = read.optionalString(name);
    return value === undefined ? {} : { [name]: value };
  };
  return {
    jobId: read.string('jobId'),
    ...optional('tenantId'),
    stepId: read.string('stepId'),
    index: read.integer('index'),
    type: type as StepType,
    status,
    lane: read.integer('lane'),
    payload: (getJson(entity, 'payload') ?? {}) as Record<string, unknown>,
    ...optional('inputRef'),
    ...optional('outputRef'),
    ...(result === undefined ? {} : { result }),
    attemptNo: read.integer('attemptNo'),
    attemptBase: read.integerOr('attemptBase', 0),
    ...optional('leaseId'),
    ...optional('ackDeadline'),
    ...optional('leaseExpiresAt'),
    ...optional('resultDeadline'),
    ...(failure === undefined ? {} : { failure }),
    staleReplies: read.integer('staleReplies'),
    duplicateReplies: read.integer('duplicateReplies'),
    createdAt: read.string('createdAt'),
    updatedAt: read.string('updatedAt'),
    ...optional('startedAt'),
    ...optional('finishedAt'),
  };
}

// ---------------------------------------------------------------------------------------------
// Job index (one row per job in the tenant's partition: everything a listing shows, no job reads)

export function indexToEntity(job: Job, keys: RowKeys, revision: number): Entity {
  return { partitionKey: keys.partitionKey, rowKey: keys.rowKey, revision, ...toJobSummary(job) };
}

export function summaryFromIndexEntity(entity: EntityProps): JobSummary {
  const read = reader(entity, 'job index');
  const status = read.string('status');
  if (!isJobStatus(status)) throw read.corrupt('status', status);
  return {
    jobId: read.string('jobId'),
    tenantId: read.string('tenantId'),
    requestType: read.string('requestType'),
    status,
    lane: read.integer('lane'),
    createdAt: read.string('createdAt'),
    updatedAt: read.string('updatedAt'),
  };
}

// ---------------------------------------------------------------------------------------------
// Idempotency records and in-flight counters

export interface IdempotencyRow {
  readonly jobId: string;
  readonly requestHash: string;
  readonly createdAt: string;
}

export function idempotencyToEntity(
  keys: RowKeys,
  record: {
    scopeId: string;
    tenantId: string;
    key: string;
    requestHash: string;
    jobId: string;
    createdAt: string;
    expiresAt: string;
  },
): Entity {
  return checkedEntity(
    { partitionKey: keys.partitionKey, rowKey: keys.rowKey, ...record },
    `idempotency record ${record.scopeId}`,
  );
}

export function idempotencyFromEntity(entity: EntityProps): IdempotencyRow {
  const read = reader(entity, 'idempotency record');
  return {
    jobId: read.string('jobId'),
    requestHash: read.string('requestHash'),
    createdAt: read.string('createdAt'),
  };
}

/**
 * A counter row. Only `markInflightSuspect` passes `suspect`: every other write of the counter (a
 * slot taken or given back, a correction) drops the suspicion, because the count it was about changed.
 */
export function counterToEntity(
  keys: RowKeys,
  tenantId: string,
  count: number,
  suspect?: InflightCounter['suspect'],
): Entity {
  return {
    partitionKey: keys.partitionKey,
    rowKey: keys.rowKey,
    tenantId,
    count,
    ...(suspect === undefined ? {} : { suspectExpected: suspect.expected, suspectSeenAt: suspect.seenAt }),
  };
}

export function counterFromEntity(entity: EntityProps & { readonly etag: string }): InflightCounter {
  const read = reader(entity, 'in-flight counter');
  const expected = entity['suspectExpected'];
  const seenAt = read.optionalString('suspectSeenAt');
  return {
    tenantId: read.string('tenantId'),
    count: read.integer('count'),
    version: entity.etag,
    ...(typeof expected === 'number' && seenAt !== undefined ? { suspect: { expected, seenAt } } : {}),
  };
}

export function countOf(entity: EntityProps | undefined): number {
  if (entity === undefined) return 0;
  return reader(entity, 'in-flight counter').integer('count');
}

// ---------------------------------------------------------------------------------------------
// Work lists of the sweepers

/**
 * An active-job row. `revision` is the job row's revision when the entry was (re)written: a job's
 * terminal write removes the entry only if it is not newer than itself, so a slow writer never
 * removes the entry a later redrive put back.
 */
export function activeToEntity(keys: RowKeys, entry: ActiveJobEntry, revision: number): Entity {
  return { partitionKey: keys.partitionKey, rowKey: keys.rowKey, revision, ...entry };
}

export function activeFromEntity(entity: EntityProps): ActiveJobEntry {
  const read = reader(entity, 'active job');
  return {
    jobId: read.string('jobId'),
    tenantId: read.string('tenantId'),
    shard: read.integer('shard'),
    checkAt: read.string('checkAt'),
    createdAt: read.string('createdAt'),
    idempotencyScope: read.string('idempotencyScope'),
  };
}

export function finishedToEntity(keys: RowKeys, entry: FinishedJobEntry): Entity {
  return { partitionKey: keys.partitionKey, rowKey: keys.rowKey, ...entry };
}

export function finishedFromEntity(entity: EntityProps): FinishedJobEntry {
  const read = reader(entity, 'finished job');
  return {
    jobId: read.string('jobId'),
    tenantId: read.string('tenantId'),
    finishedAt: read.string('finishedAt'),
  };
}

// ---------------------------------------------------------------------------------------------
// Sizes

/**
 * Azure's documented entity size: 4 + 2·len(PK) + 2·len(RK) + Σ (8 + 2·len(name) + value size),
 * strings counting 4 + 2·len, numbers 8, booleans 1.
 */
export function estimateEntityBytes(entity: EntityProps): number {
  let bytes = 4;
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'partitionKey' || name === 'rowKey') {
      bytes += 2 * String(value).length;
      continue;
    }
    if (value === undefined || name === 'etag') continue;
    bytes += 8 + 2 * name.length;
    if (typeof value === 'string') bytes += 4 + 2 * value.length;
    else if (typeof value === 'boolean') bytes += 1;
    else bytes += 8;
  }
  return bytes;
}

export function checkTransactionSize(entities: readonly Entity[], what: string): void {
  const total = entities.reduce((sum, entity) => sum + estimateEntityBytes(entity), 0);
  if (total > MAX_TRANSACTION_BYTES) throw new LedgerEntityTooLargeError(what, total, MAX_TRANSACTION_BYTES);
}

/** Room kept for the properties storage adds after mapping (write id, revision). */
const STORAGE_PROPERTIES_RESERVE = 1024;

function checkedEntity(entity: Entity, what: string): Entity {
  const bytes = estimateEntityBytes(entity);
  if (bytes > MAX_ENTITY_BYTES - STORAGE_PROPERTIES_RESERVE)
    throw new LedgerEntityTooLargeError(what, bytes, MAX_ENTITY_BYTES);
  return entity;
}

// ---------------------------------------------------------------------------------------------
// Property helpers

function putOptional(entity: EntityProps, name: string, value: string | undefined): void {
  if (value !== undefined) entity[name] = value;
}

export function putJson(entity: EntityProps, name: string, value: unknown): void {
  const chunks = splitString(JSON.stringify(value), MAX_STRING_CHUNK);
  entity[name] = chunks[0];
  if (chunks.length > 1) {
    for (let i = 1; i < chunks.length; i += 1) entity[`${name}_${i}`] = chunks[i];
    entity[`${name}_chunks`] = chunks.length;
  }
}

export function getJson(entity: EntityProps, name: string): unknown {
  const first = entity[name];
  if (first === undefined || first === null) return undefined;
  if (typeof first !== 'string') throw new Error(`stored property ${name} is not a JSON string`);
  const count = entity[`${name}_chunks`];
  let text = first;
  if (typeof count === 'number') {
    for (let i = 1; i < count; i += 1) {
      const chunk = entity[`${name}_${i}`];
      if (typeof chunk !== 'string')
        throw new Error(`stored property ${name} is missing chunk ${i} of ${count}`);
      text += chunk;
    }
  }
  return JSON.parse(text) as unknown;
}

/** Splits into pieces of at most `size` UTF-16 units, never between the halves of a surrogate pair. */
export function splitString(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

interface Reader {
  string(name: string): string;
  optionalString(name: string): string | undefined;
  integer(name: string): number;
  /** An integer property, or `fallback` when the row has no such property (written before it existed). */
  integerOr(name: string, fallback: number): number;
  corrupt(name: string, value: unknown): Error;
}

/** Typed property access that names the row when storage holds something the code never wrote. */
function reader(entity: EntityProps, kind: string): Reader {
  const where = `${kind} row (${String(entity['partitionKey'])}, ${String(entity['rowKey'])})`;
  const corrupt = (name: string, value: unknown): Error =>
    new Error(`${where}: unexpected value for ${name}: ${JSON.stringify(value)}`);
  return {
    corrupt,
    string(name) {
      const value = entity[name];
      if (typeof value !== 'string') throw corrupt(name, value);
      return value;
    },
    optionalString(name) {
      const value = entity[name];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string') throw corrupt(name, value);
      return value;
    },
    integer(name) {
      const value = entity[name];
      if (typeof value !== 'number' || !Number.isInteger(value)) throw corrupt(name, value);
      return value;
    },
    integerOr(name, fallback) {
      const value = entity[name];
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value)) throw corrupt(name, value);
      return value;
    },
  };
}
