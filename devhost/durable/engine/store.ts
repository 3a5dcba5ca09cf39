/**
 * The durable engine's persistence port. Three kinds of record:
 *  - instances: one row per orchestration instance (status, input, output, custom status, times);
 *  - history: the current execution's events, in order (index = position);
 *  - work: what is still to be done: inbox messages for an instance (events to append, control
 *    operations), activities to run and timers to fire. A work item is deleted only after its
 *    effect is stored, so a new engine on the same store picks up every in-flight instance.
 * Every write is an upsert under a deterministic key, so redoing a step after a crash is harmless.
 * An episode stores its new work before its history; the work carries its `origin`, and work whose
 * episode never stored its history is dropped when an engine starts (see engine.ts).
 */
import type { RuntimeStatus } from '../durable-api';
import type { HistoryEvent, StoredEvent } from './history';

export interface InstanceRecord {
  readonly instanceId: string;
  readonly name: string;
  readonly executionId: string;
  readonly runtimeStatus: RuntimeStatus;
  /** JSON text. */
  readonly input?: string;
  /** JSON text. */
  readonly output?: string;
  /** JSON text. */
  readonly customStatus?: string;
  /** The orchestration version the instance was created with (ExecutionStarted's `Version`). */
  readonly version?: string;
  /** ISO 8601. */
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly parent?: ParentRef;
  /** The parent's retry state when the parent called this instance with retry. */
  readonly parentRetry?: RetryState;
  /** The last episode this row reflects (its history's OrchestratorCompleted `episode`). */
  readonly episode?: string;
}

/** The orchestration (and the task in it) that started a sub-orchestration. */
export interface ParentRef {
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskId: number;
}

/** The retry options of CallActivityWithRetry / CallSubOrchestratorWithRetry, as the SDK sends them. */
export interface RetryOptionsWire {
  readonly firstRetryIntervalInMilliseconds: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient?: number;
  readonly maxRetryIntervalInMilliseconds?: number;
  readonly retryTimeoutInMilliseconds?: number;
}

/** Where a retried call stands; it travels with the activity, its failure and its retry timer. */
export interface RetryState {
  readonly kind: 'activity' | 'subOrchestration';
  readonly name: string;
  /** The call's input (a JSON value). */
  readonly input?: unknown;
  readonly subInstanceId?: string;
  /** A sub-orchestration's version (each attempt creates the child with it). */
  readonly version?: string;
  readonly options: RetryOptionsWire;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** ISO 8601. */
  readonly firstAttemptAt: string;
  /** Once the retry timeout has passed, remaining attempts fail at once with the last failure. */
  readonly lastFailure?: { readonly reason: string; readonly details: string };
  readonly timedOut?: boolean;
}

/**
 * The episode that produced a work item: its history ends at `index` with an OrchestratorCompleted
 * event carrying `episode`. Until that event is stored, the episode has not committed.
 */
export interface EpisodeRef {
  readonly instanceId: string;
  readonly executionId: string;
  readonly index: number;
  readonly episode: string;
}

export type ControlOperation = 'terminate' | 'suspend' | 'resume';

export interface InboxMessage {
  readonly kind: 'message';
  /** Set on work an orchestrator episode produced. */
  readonly origin?: EpisodeRef;
  readonly key: string;
  readonly instanceId: string;
  /** Delivery order. */
  readonly seq: number;
  /** Results of tasks belong to one execution; events and control messages to whichever is current. */
  readonly executionId?: string;
  readonly event?: HistoryEvent;
  readonly control?: ControlOperation;
  readonly reason?: string;
  readonly retry?: RetryState;
  /**
   * On the start of an execution begun by continue-as-new: the execution it continues. If a crash
   * left the instance record on that execution, the record moves to the new one instead of the start
   * being discarded as another execution's message.
   */
  readonly continuedFrom?: string;
  /** On a sub-orchestration's ExecutionStarted: the instance to create. */
  readonly create?: {
    readonly name: string;
    /** JSON text. */
    readonly input?: string;
    readonly version?: string;
    readonly parent: ParentRef;
    readonly retry?: RetryState;
  };
}

export interface ActivityWork {
  readonly kind: 'activity';
  /** Set on work an orchestrator episode produced. */
  readonly origin?: EpisodeRef;
  readonly key: string;
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskId: number;
  readonly name: string;
  readonly input?: unknown;
  readonly retry?: RetryState;
}

export interface TimerWork {
  readonly kind: 'timer';
  /** Set on work an orchestrator episode produced. */
  readonly origin?: EpisodeRef;
  readonly key: string;
  readonly instanceId: string;
  readonly executionId: string;
  readonly timerId: number;
  /** ISO 8601. */
  readonly fireAt: string;
  readonly retry?: RetryState;
}

export type WorkItem = InboxMessage | ActivityWork | TimerWork;

/** Persistence for the durable engine (in-memory or Azure Table Storage). */
export interface DurableStore {
  /** Creates tables or whatever the backend needs; idempotent. */
  init(): Promise<void>;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  putInstance(record: InstanceRecord): Promise<void>;
  listInstances(): Promise<InstanceRecord[]>;
  /** Deletes the instance row and all of its history. */
  deleteInstance(instanceId: string): Promise<void>;
  getHistory(instanceId: string, executionId: string): Promise<StoredEvent[]>;
  /**
   * Writes `events` at positions `fromIndex`, `fromIndex + 1`, ... (overwriting what is there). A
   * backend that needs several writes for them calls `partlyWritten` after each but the last.
   */
  putHistory(
    instanceId: string,
    executionId: string,
    fromIndex: number,
    events: readonly StoredEvent[],
    partlyWritten?: () => void,
  ): Promise<void>;
  putWork(item: WorkItem): Promise<void>;
  deleteWork(key: string): Promise<void>;
  listWork(): Promise<WorkItem[]>;
}
