/**
 * The durable engine's persistence port. Three kinds of record:
 *  - instances: one row per orchestration instance (status, input, output, custom status, times);
 *  - history: the current execution's events, in order (index = position);
 *  - work: what is still to be done: inbox messages for an instance (events to append, control
 *    operations), activities to run and timers to fire. A work item is deleted only after its
 *    effect is stored, so a new engine on the same store picks up every in-flight instance.
 * Every write is an upsert under a deterministic key, so redoing a step after a crash is harmless.
 * An episode stores its new work before (or with) its history; the work carries its `origin`, and
 * work whose episode never stored its history is dropped when an engine starts (see engine.ts).
 * A store may do an episode's commit in one atomic write (the Table store does, see table-store.ts)
 * or in steps (episode-commit.ts); the engine recovers from a crash between any two steps.
 */
import type { RuntimeStatus } from '../durable-api';
import type { CommitHook } from './crash-points';
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

/** An instance row and its execution's stored history (possibly with an uncommitted tail). */
export interface InstanceState {
  readonly record: InstanceRecord;
  readonly history: StoredEvent[];
}

/** What one episode stores (see episode-commit.ts for the order and what a crash leaves). */
export interface EpisodeCommit {
  readonly instanceId: string;
  readonly executionId: string;
  /** Where the new events go in the execution's history (its length before the episode). */
  readonly fromIndex: number;
  readonly newEvents: readonly StoredEvent[];
  readonly newWork: readonly WorkItem[];
  readonly record: InstanceRecord;
  /** Keys of the inbox messages the episode applied or discarded. */
  readonly consumed: ReadonlySet<string>;
}

/** Persistence for the durable engine (in-memory or Azure Table Storage). */
export interface DurableStore {
  /** Creates tables or whatever the backend needs; idempotent. */
  init(): Promise<void>;
  /** The instance row as stored now (client reads: status, start, raise event, purge). */
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  /**
   * The instance row and its execution's history, for an episode. A store may answer from what it
   * wrote or read last (the Table store's cache); its `commitEpisode` then fails with
   * InstanceConflictError if the instance moved meanwhile (another process), and reads afresh next.
   */
  readInstanceState(instanceId: string): Promise<InstanceState | undefined>;
  /**
   * The runtime status of an instance as this store last wrote or read it, when it keeps the
   * instance in memory (the Table store's cache); undefined otherwise. For client checks that can
   * accept a status another process may have changed since (raising an event to a running instance).
   */
  knownStatus(instanceId: string): RuntimeStatus | undefined;
  /** Stores a new instance: its start message, then (`reached('start')`) its Pending row. */
  createInstance(record: InstanceRecord, start: InboxMessage, reached: CommitHook): Promise<void>;
  putInstance(record: InstanceRecord): Promise<void>;
  listInstances(): Promise<InstanceRecord[]>;
  /** Deletes the instance row and all of its history (not its work: see instance-loading.ts). */
  deleteInstance(instanceId: string): Promise<void>;
  getHistory(instanceId: string, executionId: string): Promise<StoredEvent[]>;
  /**
   * Stores an episode: its new work, its history (whose last event is the commit mark), its row,
   * then deletes the messages it consumed, calling `reached` after each step. Throws
   * InstanceConflictError when the row is not the one `readInstanceState` gave (nothing stored).
   */
  commitEpisode(commit: EpisodeCommit, reached: CommitHook): Promise<void>;
  putWork(item: WorkItem): Promise<void>;
  /**
   * Stores `next` then deletes `done` (an activity's result replacing the activity, a fired timer's
   * message replacing the timer), calling `reached` in between; a missing `done` is not an error.
   */
  replaceWork(next: WorkItem, done: WorkItem, reached: () => void): Promise<void>;
  /** Deletes a work item; a missing one is not an error. */
  deleteWork(item: Pick<WorkItem, 'instanceId' | 'key'>): Promise<void>;
  /** Every stored work item, or one instance's. */
  listWork(instanceId?: string): Promise<WorkItem[]>;
}
