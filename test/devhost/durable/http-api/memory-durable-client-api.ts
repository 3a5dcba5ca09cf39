/**
 * An in-memory DurableClientApi for the HTTP API tests: instances are records the test drives
 * (`complete`, `fail`, `setStatus`); operations follow the seam's contract (InstanceExistsError,
 * UnknownOrchestratorError, 'not_found' / 'not_applicable'). Paging uses the offset as the token.
 */
import {
  InstanceExistsError,
  UnknownOrchestratorError,
  type DurableClientApi,
  type InstanceOperationResult,
  type InstancePage,
  type InstanceQuery,
  type InstanceStatus,
  type RuntimeStatus,
  type StatusOptions,
} from '../../../../devhost/durable/durable-api';

interface Instance {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: Date;
  lastUpdatedTime: Date;
  history: Record<string, unknown>[];
  events: { name: string; data: unknown }[];
}

const RUNNING: readonly RuntimeStatus[] = ['Pending', 'Running', 'Suspended', 'ContinuedAsNew'];

export class MemoryDurableClientApi implements DurableClientApi {
  private readonly instances = new Map<string, Instance>();
  private sequence = 0;
  private clock = Date.parse('2024-05-01T10:00:00Z');

  constructor(
    private readonly orchestrators: readonly string[],
    private readonly defaultPageSize = 100,
  ) {}

  async start(
    name: string,
    options: { instanceId?: string; input?: unknown },
  ): Promise<{ instanceId: string }> {
    if (!this.orchestrators.includes(name)) throw new UnknownOrchestratorError(name);
    const instanceId = options.instanceId ?? `generated-${++this.sequence}`;
    const existing = this.instances.get(instanceId);
    if (existing !== undefined && RUNNING.includes(existing.runtimeStatus)) {
      throw new InstanceExistsError(instanceId, existing.runtimeStatus);
    }
    const now = this.tick();
    this.instances.set(instanceId, {
      name,
      instanceId,
      runtimeStatus: 'Running',
      input: options.input,
      output: undefined,
      customStatus: undefined,
      createdTime: now,
      lastUpdatedTime: now,
      history: [{ EventType: 'ExecutionStarted', FunctionName: name, Timestamp: now.toISOString() }],
      events: [],
    });
    return { instanceId };
  }

  async status(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    const instance = this.instances.get(instanceId);
    return instance === undefined ? undefined : view(instance, options);
  }

  async query(query: InstanceQuery): Promise<InstancePage> {
    const matching = [...this.instances.values()]
      .filter((i) => matches(i, query))
      .filter((i) => query.instanceIdPrefix === undefined || i.instanceId.startsWith(query.instanceIdPrefix))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    const offset = query.continuationToken === undefined ? 0 : Number(query.continuationToken);
    const size = query.pageSize ?? this.defaultPageSize;
    const page = matching.slice(offset, offset + size);
    const next = offset + size < matching.length ? String(offset + size) : undefined;
    return {
      instances: page.map((i) => view(i, { showInput: query.showInput ?? true })),
      ...(next === undefined ? {} : { continuationToken: next }),
    };
  }

  async raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<InstanceOperationResult> {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return 'not_found';
    if (!RUNNING.includes(instance.runtimeStatus)) return 'not_applicable';
    instance.events.push({ name: eventName, data });
    return 'accepted';
  }

  async terminate(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.transition(instanceId, RUNNING, 'Terminated', reason);
  }

  async suspend(instanceId: string): Promise<InstanceOperationResult> {
    return this.transition(instanceId, ['Pending', 'Running'], 'Suspended');
  }

  async resume(instanceId: string): Promise<InstanceOperationResult> {
    return this.transition(instanceId, ['Suspended'], 'Running');
  }

  async purge(instanceId: string): Promise<number> {
    const instance = this.instances.get(instanceId);
    if (instance === undefined || RUNNING.includes(instance.runtimeStatus)) return 0;
    this.instances.delete(instanceId);
    return 1;
  }

  async purgeMany(
    query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo'>,
  ): Promise<number> {
    let deleted = 0;
    for (const instance of [...this.instances.values()]) {
      if (!RUNNING.includes(instance.runtimeStatus) && matches(instance, query)) {
        this.instances.delete(instance.instanceId);
        deleted += 1;
      }
    }
    return deleted;
  }

  // Test controls.
  complete(instanceId: string, output: unknown): void {
    this.finish(instanceId, 'Completed', output);
  }

  fail(instanceId: string, message: string): void {
    this.finish(instanceId, 'Failed', message);
  }

  eventsOf(instanceId: string): readonly { name: string; data: unknown }[] {
    return this.require(instanceId).events;
  }

  reasonOf(instanceId: string): unknown {
    return this.require(instanceId).output;
  }

  private finish(instanceId: string, runtimeStatus: RuntimeStatus, output: unknown): void {
    const instance = this.require(instanceId);
    instance.runtimeStatus = runtimeStatus;
    instance.output = output;
    instance.lastUpdatedTime = this.tick();
    instance.history.push({
      EventType: 'ExecutionCompleted',
      Result: output,
      Timestamp: instance.lastUpdatedTime.toISOString(),
    });
  }

  private transition(
    instanceId: string,
    from: readonly RuntimeStatus[],
    to: RuntimeStatus,
    output?: unknown,
  ): InstanceOperationResult {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) return 'not_found';
    if (!from.includes(instance.runtimeStatus)) return 'not_applicable';
    instance.runtimeStatus = to;
    if (to === 'Terminated') instance.output = output;
    instance.lastUpdatedTime = this.tick();
    return 'accepted';
  }

  private require(instanceId: string): Instance {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) throw new Error(`no instance ${instanceId}`);
    return instance;
  }

  private tick(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }
}

function matches(
  instance: Instance,
  query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo'>,
): boolean {
  if (query.runtimeStatus !== undefined && !query.runtimeStatus.includes(instance.runtimeStatus))
    return false;
  if (query.createdTimeFrom !== undefined && instance.createdTime < query.createdTimeFrom) return false;
  if (query.createdTimeTo !== undefined && instance.createdTime > query.createdTimeTo) return false;
  return true;
}

function view(instance: Instance, options: StatusOptions): InstanceStatus {
  return {
    name: instance.name,
    instanceId: instance.instanceId,
    runtimeStatus: instance.runtimeStatus,
    input: options.showInput === false ? undefined : instance.input,
    output: instance.output,
    customStatus: instance.customStatus,
    createdTime: instance.createdTime.toISOString(),
    lastUpdatedTime: instance.lastUpdatedTime.toISOString(),
    ...(options.showHistory === true
      ? {
          historyEvents: instance.history.map((event) =>
            options.showHistoryOutput === true
              ? event
              : Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'Result')),
          ),
        }
      : {}),
  };
}
