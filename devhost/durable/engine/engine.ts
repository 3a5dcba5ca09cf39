/**
 * devhost's durable engine: runs orchestrations by replaying the real durable-functions SDK
 * handlers over persisted histories, exactly as the Durable extension drives an out-of-process
 * worker, and carries out the actions they return.
 *
 * Flow: client operations and task results become inbox messages (work items) for an instance; the
 * engine's pump runs, per instance with pending messages, an episode (episode.ts) that appends them
 * to the history, replays the orchestrator and commits what it caused, and runs activities and arms
 * timers, within the host.json concurrency limits. Work produced by an episode is accepted only
 * after its commit; on start (`run`) the stored work is read back and every in-flight instance
 * resumes.
 */
import { randomUUID } from 'node:crypto';
import type { LogHandler } from '@azure/functions';
import { systemClock, type Clock } from '../../common/clock';
import {
  InstanceExistsError,
  UnknownOrchestratorError,
  type DurableEngine,
  type DurableTriggerHandler,
  type InstanceOperationResult,
  type InstancePage,
  type InstanceQuery,
  type InstanceStatus,
  type StatusOptions,
} from '../durable-api';
import { invokeActivity } from './activity-invocation';
import { crashHookFromEnvironment, type CommitHook } from './crash-points';
import {
  Episode,
  type EngineLog,
  type EngineLogLevel,
  type EpisodeDeps,
  type EpisodeOutcome,
} from './episode';
import { InstanceConflictError, errorDetails, errorMessage, isPayloadTooLarge } from './errors';
import { HistoryEventType, committedHistory, historyEvent, type StoredEvent } from './history';
import { filterInstances, isRunningStatus, toInstanceStatus } from './instance-status';
import { MemoryDurableStore } from './memory-store';
import type { ActivityWork, DurableStore, EpisodeRef, InboxMessage, TimerWork, WorkItem } from './store';
import type { OrchestrationVersioning } from './versioning';
import { bySeq, startMessage } from './work-items';

export type { EngineLogLevel } from './episode';
export { isRunningStatus } from './instance-status';

export interface DurableEngineOptions {
  /** Default: a new MemoryDurableStore. */
  readonly store?: DurableStore;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** host.json extensions.durableTask.maxConcurrentActivityFunctions; default 10. */
  readonly maxConcurrentActivityFunctions?: number;
  /** host.json extensions.durableTask.maxConcurrentOrchestratorFunctions; default 10. */
  readonly maxConcurrentOrchestratorFunctions?: number;
  /** The engine's own diagnostics; default: nothing. */
  readonly log?: (level: EngineLogLevel, message: string) => void;
  /** Where `context.log` of orchestrators and activities goes; default: the Node.js console. */
  readonly functionLogHandler?: LogHandler;
  /** Called right after each commit step (fault injection); default: `DEVHOST_CRASH_AT`'s hook. */
  readonly onCommitStep?: CommitHook;
  /**
   * host.json extensions.durableTask `defaultVersion`, `versionMatchStrategy` and
   * `versionFailureStrategy` (see versioning.ts); default: no version, nothing checked.
   */
  readonly versioning?: OrchestrationVersioning;
}

/** What a client start may ask for: the Durable HTTP API's `?version=` is `version`. */
export interface StartOptions {
  readonly instanceId?: string;
  readonly input?: unknown;
  /** The orchestration version; default: host.json `defaultVersion`. */
  readonly version?: string;
}

/** The engine as devhost and the test environment use it. */
export interface DevhostDurableEngine extends DurableEngine {
  readonly clock: Clock;
  start(name: string, options: StartOptions): Promise<{ readonly instanceId: string }>;
  /** Resolves once nothing is running or runnable (armed timers may still be waiting). */
  whenIdle(): Promise<void>;
}

const DEFAULT_CONCURRENCY = 10;
/** How long an instance waits after an episode could not commit (e.g. Table Storage unreachable). */
const EPISODE_RETRY_MS = 1000;
const ENDED_KEPT = 10_000;
export function createDurableEngine(options: DurableEngineOptions = {}): DevhostDurableEngine {
  return new Engine(options);
}

class Engine implements DevhostDurableEngine {
  readonly clock: Clock;
  private readonly store: DurableStore;
  private readonly maxActivities: number;
  private readonly maxOrchestrations: number;
  private readonly log: EngineLog;
  private readonly reached: CommitHook;
  private readonly orchestrators = new Map<string, DurableTriggerHandler>();
  private readonly activities = new Map<string, DurableTriggerHandler>();
  private readonly episodeDeps: EpisodeDeps;
  private readonly versioning: OrchestrationVersioning;

  private running = false;
  /** While run() sorts out the stored work, nothing runs (an episode could rewrite work it deletes). */
  private recovering = false;
  private seq = 0;
  private readonly inbox = new Map<string, InboxMessage[]>();
  /** Instances whose pending messages cannot be applied until a control message arrives (suspended). */
  private readonly blocked = new Set<string>();
  /**
   * Instances whose version this engine may not run (versionFailureStrategy Reject): their messages
   * wait, as the extension leaves the work item for a compatible worker, until an engine with a
   * matching defaultVersion starts on the store.
   */
  private readonly rejected = new Set<string>();
  private readonly activeInstances = new Set<string>();
  /** Instances whose last episode failed to commit (store unavailable): they wait a moment. */
  private readonly backingOff = new Set<string>();
  /** Instances whose last episode met another writer's change: a second conflict in a row waits. */
  private readonly conflicted = new Set<string>();
  /** Executions that ended in this engine (their timers fire for nothing): the latest ENDED_KEPT. */
  private readonly ended = new BoundedSet(ENDED_KEPT);
  private activityQueue: ActivityWork[] = [];
  private activeActivities = 0;
  /** Armed timers' cancel functions, by work key. */
  private readonly armedTimers = new Map<string, () => void>();
  private readonly inflight = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DurableEngineOptions) {
    this.store = options.store ?? new MemoryDurableStore();
    this.clock = options.clock ?? systemClock;
    this.maxActivities = Math.max(1, options.maxConcurrentActivityFunctions ?? DEFAULT_CONCURRENCY);
    this.maxOrchestrations = Math.max(1, options.maxConcurrentOrchestratorFunctions ?? DEFAULT_CONCURRENCY);
    this.log = options.log ?? (() => undefined);
    this.reached = options.onCommitStep ?? crashHookFromEnvironment() ?? (() => undefined);
    this.versioning = options.versioning ?? {};
    this.episodeDeps = {
      versioning: this.versioning,
      store: this.store,
      clock: this.clock,
      orchestrators: this.orchestrators,
      ...(options.functionLogHandler ? { functionLogHandler: options.functionLogHandler } : {}),
      log: this.log,
      reached: this.reached,
      nextSeq: () => this.nextSeq(),
    };
  }

  registerOrchestrator(name: string, handler: DurableTriggerHandler): void {
    this.orchestrators.set(name, handler);
  }

  registerActivity(name: string, handler: DurableTriggerHandler): void {
    this.activities.set(name, handler);
  }

  async run(): Promise<void> {
    this.inbox.clear();
    this.blocked.clear();
    this.rejected.clear();
    this.activityQueue = [];
    for (const cancel of this.armedTimers.values()) cancel();
    this.armedTimers.clear();
    // Running from here: work delivered while the store is read is accepted too (accept dedupes by key).
    this.running = true;
    this.recovering = true;
    try {
      await this.store.init();
      const work = await this.committedWork(await this.store.listWork());
      for (const item of work) if (item.kind === 'message') this.seq = Math.max(this.seq, item.seq);
      for (const item of work.sort(bySeq)) this.accept(item);
    } finally {
      this.recovering = false;
    }
    this.pump();
  }

  /**
   * An episode stores its new work before its history, so a crash between the two leaves work of an
   * episode that never committed: its messages are still pending and the episode runs again, with
   * new timestamps, ids and inputs. That work is deleted here, before anything runs, so an activity
   * result never meets a history that did not schedule it. (In a running engine, an episode's work
   * is accepted only after its commit.)
   */
  private async committedWork(work: readonly WorkItem[]): Promise<WorkItem[]> {
    const histories = new Map<string, Promise<StoredEvent[]>>();
    const committed = (origin: EpisodeRef): Promise<boolean> => {
      const key = `${origin.instanceId}\u0000${origin.executionId}`;
      let history = histories.get(key);
      if (history === undefined) {
        history = this.store.getHistory(origin.instanceId, origin.executionId);
        histories.set(key, history);
      }
      return history.then((events) => events[origin.index]?.episode === origin.episode);
    };
    const kept: WorkItem[] = [];
    for (const item of work) {
      if (item.origin === undefined || (await committed(item.origin))) {
        kept.push(item);
        continue;
      }
      this.log('information', `work ${item.key} of an episode that never committed dropped`);
      await this.store.deleteWork(item);
    }
    return kept;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const cancel of this.armedTimers.values()) cancel();
    this.armedTimers.clear();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  // ---- client operations -------------------------------------------------------------------

  async start(name: string, options: StartOptions) {
    if (!this.orchestrators.has(name)) throw new UnknownOrchestratorError(name);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    await this.store.init();
    const existing = await this.store.getInstance(instanceId);
    if (existing !== undefined && isRunningStatus(existing.runtimeStatus))
      throw new InstanceExistsError(instanceId, existing.runtimeStatus);
    if (existing !== undefined) await this.store.deleteInstance(instanceId);
    const now = this.clock.now().toISOString();
    const executionId = randomUUID().replace(/-/g, '');
    const input = options.input === undefined ? undefined : JSON.stringify(options.input);
    const version = options.version ?? this.versioning.defaultVersion;
    const optional = {
      ...(input === undefined ? {} : { input }),
      ...(version === undefined ? {} : { version }),
    };
    // The start message is written before the Pending record: a crash between the two leaves a
    // message for an instance that does not exist yet (discarded), never a Pending instance with no
    // start message (stuck, and refusing a retried start with 409).
    const start = startMessage(
      { instanceId, executionId, name, ...optional },
      this.nextSeq(),
      this.clock.now(),
    );
    await this.store.createInstance(
      {
        instanceId,
        name,
        executionId,
        runtimeStatus: 'Pending',
        ...optional,
        createdTime: now,
        lastUpdatedTime: now,
      },
      start,
      this.reached,
    );
    this.accept(start);
    this.pump();
    return { instanceId };
  }

  async status(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    await this.store.init();
    const record = await this.store.getInstance(instanceId);
    if (record === undefined) return undefined;
    const history = options.showHistory
      ? committedHistory(await this.store.getHistory(instanceId, record.executionId))
      : undefined;
    return toInstanceStatus(record, options.showInput ?? true, history, options.showHistoryOutput ?? false);
  }

  async query(query: InstanceQuery): Promise<InstancePage> {
    await this.store.init();
    const matching = filterInstances(await this.store.listInstances(), query);
    const offset = query.continuationToken
      ? Number(Buffer.from(query.continuationToken, 'base64url').toString())
      : 0;
    const pageSize =
      query.pageSize !== undefined && query.pageSize > 0 ? query.pageSize : matching.length || 1;
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + pageSize;
    return {
      instances: page.map((r) => toInstanceStatus(r, query.showInput ?? true, undefined, false)),
      ...(next < matching.length
        ? { continuationToken: Buffer.from(String(next)).toString('base64url') }
        : {}),
    };
  }

  async raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<InstanceOperationResult> {
    const found = await this.applicable(instanceId);
    if (found !== 'accepted') {
      this.log('warning', `event '${eventName}' for instance ${instanceId} discarded: ${found}`);
      return found;
    }
    const seq = this.nextSeq();
    await this.deliver({
      kind: 'message',
      key: `evt|${instanceId}|${seq}|${randomUUID()}`,
      instanceId,
      seq,
      event: historyEvent(HistoryEventType.EventRaised, this.clock.now(), {
        Name: eventName,
        Input: JSON.stringify(data ?? null),
      }),
    });
    return 'accepted';
  }

  terminate(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.control(instanceId, 'terminate', reason);
  }

  suspend(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.control(instanceId, 'suspend', reason);
  }

  resume(instanceId: string, reason?: string): Promise<InstanceOperationResult> {
    return this.control(instanceId, 'resume', reason);
  }

  async purge(instanceId: string): Promise<number> {
    await this.store.init();
    const record = await this.store.getInstance(instanceId);
    if (record === undefined || isRunningStatus(record.runtimeStatus)) return 0;
    await this.store.deleteInstance(instanceId);
    return 1;
  }

  async purgeMany(
    query: Pick<InstanceQuery, 'runtimeStatus' | 'createdTimeFrom' | 'createdTimeTo'>,
  ): Promise<number> {
    await this.store.init();
    const matching = filterInstances(await this.store.listInstances(), query).filter(
      (r) => !isRunningStatus(r.runtimeStatus),
    );
    for (const record of matching) await this.store.deleteInstance(record.instanceId);
    return matching.length;
  }

  private async applicable(instanceId: string): Promise<InstanceOperationResult> {
    await this.store.init();
    // An instance this engine is running (as its store last saw it) takes the message without a
    // read; were it finished by another process meanwhile, its episode discards the message, as
    // when it finishes between the check and the message on Azure.
    const known = this.store.knownStatus(instanceId);
    if (known !== undefined && isRunningStatus(known)) return 'accepted';
    const record = await this.store.getInstance(instanceId);
    if (record === undefined) return 'not_found';
    return isRunningStatus(record.runtimeStatus) ? 'accepted' : 'not_applicable';
  }

  private async control(
    instanceId: string,
    control: 'terminate' | 'suspend' | 'resume',
    reason: string | undefined,
  ): Promise<InstanceOperationResult> {
    const found = await this.applicable(instanceId);
    if (found !== 'accepted') return found;
    const seq = this.nextSeq();
    await this.deliver({
      kind: 'message',
      key: `ctl|${instanceId}|${seq}|${randomUUID()}`,
      instanceId,
      seq,
      control,
      ...(reason === undefined ? {} : { reason }),
    });
    return 'accepted';
  }

  // ---- scheduling --------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = Math.max(this.seq + 1, this.clock.now().getTime() * 1000);
    return this.seq;
  }

  /** Stores a work item, then makes it visible to this engine. */
  private async deliver(item: WorkItem): Promise<void> {
    await this.store.putWork(item);
    this.accept(item);
    this.pump();
  }

  private accept(item: WorkItem): void {
    if (!this.running) return;
    switch (item.kind) {
      case 'message': {
        const list = this.inbox.get(item.instanceId) ?? [];
        if (!list.some((m) => m.key === item.key)) list.push(item);
        list.sort(bySeq);
        this.inbox.set(item.instanceId, list);
        if (item.control !== undefined) this.blocked.delete(item.instanceId);
        break;
      }
      case 'activity':
        if (!this.activityQueue.some((a) => a.key === item.key)) this.activityQueue.push(item);
        break;
      case 'timer':
        this.armTimer(item);
        break;
    }
  }

  private armTimer(timer: TimerWork): void {
    if (this.armedTimers.has(timer.key)) return;
    const handle = this.clock.setTimer(new Date(timer.fireAt), () => {
      this.armedTimers.delete(timer.key);
      this.track(this.fireTimer(timer));
    });
    this.armedTimers.set(timer.key, handle);
  }

  private async fireTimer(timer: TimerWork): Promise<void> {
    if (this.ended.has(executionKey(timer.instanceId, timer.executionId))) {
      // Its execution ended here: the TimerFired message would only be discarded.
      await this.store.deleteWork(timer);
      return;
    }
    const message: InboxMessage = {
      kind: 'message',
      key: `fired|${timer.instanceId}|${timer.executionId}|${timer.timerId}`,
      instanceId: timer.instanceId,
      executionId: timer.executionId,
      seq: this.nextSeq(),
      event: historyEvent(HistoryEventType.TimerFired, this.clock.now(), {
        TimerId: timer.timerId,
        FireAt: timer.fireAt,
      }),
      ...(timer.retry ? { retry: timer.retry } : {}),
    };
    await this.store.replaceWork(message, timer, () => this.reached('timer-fired'));
    this.accept(message);
  }

  private pump(): void {
    if (!this.running || this.recovering) return;
    for (const [instanceId, messages] of this.inbox) {
      if (this.activeInstances.size >= this.maxOrchestrations) break;
      if (
        messages.length === 0 ||
        this.activeInstances.has(instanceId) ||
        this.blocked.has(instanceId) ||
        this.rejected.has(instanceId) ||
        this.backingOff.has(instanceId)
      )
        continue;
      this.activeInstances.add(instanceId);
      this.track(
        this.runEpisode(instanceId).finally(() => {
          this.activeInstances.delete(instanceId);
        }),
      );
    }
    while (this.activeActivities < this.maxActivities && this.activityQueue.length > 0) {
      const work = this.activityQueue.shift() as ActivityWork;
      this.activeActivities += 1;
      this.track(
        this.runActivity(work).finally(() => {
          this.activeActivities -= 1;
        }),
      );
    }
  }

  private backOff(instanceId: string): void {
    this.backingOff.add(instanceId);
    setTimeout(() => {
      this.backingOff.delete(instanceId);
      this.pump();
      this.checkIdle();
    }, EPISODE_RETRY_MS).unref();
  }

  private track(promise: Promise<void>): void {
    const tracked = promise
      .catch((error: unknown) => this.log('error', `durable engine: ${errorDetails(error)}`))
      .finally(() => {
        this.inflight.delete(tracked);
        this.pump();
        this.checkIdle();
      });
    this.inflight.add(tracked);
  }

  private checkIdle(): void {
    if (this.inflight.size > 0) return;
    const runnable =
      this.running &&
      (this.activityQueue.length > 0 ||
        [...this.inbox].some(
          ([id, messages]) => messages.length > 0 && !this.blocked.has(id) && !this.rejected.has(id),
        ));
    if (runnable) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- activities --------------------------------------------------------------------------

  private async runActivity(work: ActivityWork): Promise<void> {
    await yieldToEventLoop();
    const base = {
      kind: 'message' as const,
      key: `res|${work.instanceId}|${work.executionId}|${work.taskId}`,
      instanceId: work.instanceId,
      executionId: work.executionId,
      ...(work.retry ? { retry: work.retry } : {}),
    };
    const event = await invokeActivity(
      this.activities.get(work.name),
      work,
      this.options.functionLogHandler,
      () => this.clock.now(),
    );
    let message: InboxMessage = { ...base, seq: this.nextSeq(), event };
    const reached = () => this.reached('activity-result');
    try {
      await this.store.replaceWork(message, work, reached);
    } catch (error) {
      if (!isPayloadTooLarge(error)) throw error;
      // The result cannot be stored: the task fails saying why, as an activity that threw would.
      message = {
        ...message,
        event: historyEvent(HistoryEventType.TaskFailed, this.clock.now(), {
          TaskScheduledId: work.taskId,
          Reason: `Activity function '${work.name}' failed: its result could not be stored: ${errorMessage(error)}`,
          Details: errorMessage(error),
        }),
      };
      await this.store.replaceWork(message, work, reached);
    }
    this.accept(message);
  }

  // ---- orchestrator episodes -----------------------------------------------------------------

  /**
   * Replaces an instance's pending messages with those stored; messages accepted while the store is
   * read stay (they were stored before being accepted).
   */
  private async reloadInbox(instanceId: string): Promise<void> {
    const known = new Set((this.inbox.get(instanceId) ?? []).map((m) => m.key));
    const stored = (await this.store.listWork(instanceId)).filter(
      (item): item is InboxMessage => item.kind === 'message',
    );
    const arrived = (this.inbox.get(instanceId) ?? []).filter((m) => !known.has(m.key));
    this.inbox.delete(instanceId);
    this.blocked.delete(instanceId);
    for (const message of [...stored, ...arrived].sort(bySeq)) this.accept(message);
  }

  private async runEpisode(instanceId: string): Promise<void> {
    await yieldToEventLoop();
    const batch = [...(this.inbox.get(instanceId) ?? [])];
    let outcome: EpisodeOutcome;
    try {
      outcome = await new Episode(this.episodeDeps, instanceId, batch).run();
    } catch (error) {
      if (error instanceof InstanceConflictError) {
        // Another process moved the instance: nothing was stored. Its pending messages are read
        // again (that process may have consumed some) and the episode runs again on what is stored.
        this.log('information', `instance ${instanceId} was changed elsewhere: reading it again`);
        if (this.conflicted.has(instanceId)) this.backOff(instanceId);
        this.conflicted.add(instanceId);
        await this.reloadInbox(instanceId);
        return;
      }
      if (!isPayloadTooLarge(error)) {
        this.backOff(instanceId);
        throw error;
      }
      // What the episode produced cannot be stored: the instance fails saying why, rather than
      // running the same episode again and again.
      const reason = `its state could not be stored: ${errorMessage(error)}`;
      this.log('error', `instance ${instanceId} fails: ${reason}`);
      outcome = await new Episode(this.episodeDeps, instanceId, batch, reason).run();
    }
    this.conflicted.delete(instanceId);
    if (outcome.ended !== undefined) this.ended.add(executionKey(instanceId, outcome.ended));
    if (outcome.rejected !== undefined) {
      this.log('warning', `instance ${instanceId} is not run here: ${outcome.rejected}`);
      this.rejected.add(instanceId);
      return;
    }
    const remaining = (this.inbox.get(instanceId) ?? []).filter((m) => !outcome.consumed.has(m.key));
    if (remaining.length === 0) this.inbox.delete(instanceId);
    else this.inbox.set(instanceId, remaining);
    if (outcome.suspended && remaining.every((m) => m.control === undefined)) this.blocked.add(instanceId);
    for (const item of outcome.newWork) this.accept(item);
  }
}

/**
 * Lets I/O (HTTP requests, Table Storage answers) run before the next episode or activity. A store
 * that answers without I/O (the memory store) would otherwise chain every episode and activity of a
 * busy orchestration in promise callbacks, and the event loop would serve nothing else until it ended.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function executionKey(instanceId: string, executionId: string): string {
  return `${instanceId}\u0000${executionId}`;
}

/** A set that keeps only its `limit` most recent members. */
class BoundedSet {
  private readonly members = new Set<string>();
  constructor(private readonly limit: number) {}

  add(member: string): void {
    this.members.delete(member);
    this.members.add(member);
    if (this.members.size > this.limit) this.members.delete(this.members.values().next().value as string);
  }

  has(member: string): boolean {
    return this.members.has(member);
  }
}
