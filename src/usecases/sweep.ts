/**
 * The sweep: examines the jobs the work list says are due and applies the one repair each needs
 * (decided by `decideRepair`, pure), then moves the job's `checkAt`. The timer functions
 * (`driftSweeper`, `leaseSweeper`) and the CLI (`lucius sweep`, `lucius loop`) call it.
 *
 * - `sweepShards(deps, kind, shards)`: every due entry of each shard. `drift` applies the
 *   orchestration and work-list repairs, `lease` the deadline ones, `all` both. An entry due for a
 *   repair of the other kind is left as it is (still due), so the other sweeper finds it; otherwise
 *   its next check is computed from every deadline, whatever the kind. With shard 0 in hand, `drift`
 *   and `all` also reconcile the in-flight counters and purge expired jobs, so that runs once per
 *   round. A failure on one job is counted and logged and the sweep goes on.
 * - Dispatch slots (`lease` and `all`): per swept shard (lane), the slot holders whose check is due
 *   (`dueHolders`: the rows are one per step type of the lane, and only due holders cost a ledger
 *   read, so the work is O(due)) are looked up in the ledger; a holder whose attempt has ended
 *   (`slotLeaked`: a crash between the ledger write that ended it and the release) is released, its
 *   slot handed to the next waiter (whose orchestration is told) and SLOT_RELEASED recorded on the
 *   job; a holder still running is checked again after the recheck interval.
 * - `sweepLeasedShards(deps, owner, kind)`: what a timer run does: the shards whose lease it
 *   can take, swept, then released.
 * - `sweepJob(deps, jobId)`: examines one job now, whatever its `checkAt` (every kind).
 * - `reconcileInflight(deps)`: the two-sightings rule (see docs/reconciliation.md): a counter that
 *   disagrees with the jobs in flight is marked suspect, and corrected only when a later sweep, at
 *   least the accept grace after, finds it at the same version still disagreeing by the same count.
 * - `purgeExpiredJobs(deps, limit)`: finished jobs older than the retention window lose their
 *   orchestration history and every ledger row.
 *
 * Every repair re-reads the ledger just before it acts; when the job changed since it was examined
 * the repair is not applied (the next sweep decides again). Repairs are recorded on the job
 * (`Job.repairs`); those with no job to record on (an orphan, a counter) are logged.
 */
import { forEachBounded } from './bounded';
import type { Settings } from '../config/settings';
import type { Clock } from '../domain/clock';
import { InvalidTransitionError } from '../domain/errors';
import type { FailureClass } from '../domain/failure';
import { isTerminalJobStatus, type Job } from '../domain/job';
import type { Repair, RepairKind } from '../domain/repair';
import { decideRepair, needsInstance, sweeperFor, type PlannedRepair } from '../domain/repair-decision';
import { isTerminalStepStatus } from '../domain/step';
import type { ActiveJobEntry, JobLedger, JobWithSteps } from '../ports/job-ledger';
import type { ShardLeases } from '../ports/shard-leases';
import { RECHECK_EVENT, type RecheckEvent } from '../contracts/job-protocol';
import type { OrchestrationControl } from '../ports/orchestration-control';
import type { JobOrchestrationInput } from '../ports/orchestration-starter';
import type { Telemetry } from '../ports/telemetry';
import { jobFinished, telemetryOf } from './lifecycle-telemetry';
import type { DispatchSlots } from '../ports/dispatch-slots';
import {
  dueHolders,
  postponeCheck,
  slotLeaked,
  type SlotHolder,
  type SlotKey,
} from '../domain/dispatch-slots';
import { slotPolicy } from './job-activities';
import { giveSlotBack } from './slot-handover';

export interface SweepDeps {
  readonly ledger: JobLedger;
  /** Flow control's slot rows; leaked slots are not looked for when absent. */
  readonly slots?: DispatchSlots;
  readonly control: OrchestrationControl;
  readonly clock: Clock;
  readonly settings: Pick<Settings, 'sweep' | 'admission' | 'steps'>;
  /** Who repairs, as recorded on the job: `driftSweeper`, `lucius sweep`, ... */
  readonly by: string;
  readonly log: (event: string, fields: Readonly<Record<string, unknown>>) => void;
  /** `job.repaired` (and `job.failed` for a job a repair fails), the repair metrics (silent when absent). */
  readonly telemetry?: Telemetry;
}

/** A timer run's: the sweep's and the shard leases it takes for the run. */
export interface LeasedSweepDeps extends SweepDeps {
  readonly leases: ShardLeases;
}

export type SweepKind = 'drift' | 'lease' | 'all';

export interface SweepSummary {
  readonly kind: SweepKind;
  readonly shards: readonly number[];
  /** Due entries examined. */
  readonly examined: number;
  readonly repaired: Readonly<Partial<Record<RepairKind, number>>>;
  /** Finished jobs purged by the retention sweep. */
  readonly purged: number;
  /** Jobs (or work lists) whose examination failed; they stay due and are examined again. */
  readonly errors: number;
  readonly durationMs: number;
}

const DAY_MS = 86_400_000;
/** Due jobs examined at once. */
const EXAMINE_CONCURRENCY = 8;

export async function sweepShards(
  deps: SweepDeps,
  kind: SweepKind,
  shards: readonly number[],
): Promise<SweepSummary> {
  const started = deps.clock.now().getTime();
  const repaired: Partial<Record<RepairKind, number>> = {};
  const count = (repairKind: RepairKind, n = 1): void => {
    if (n > 0) repaired[repairKind] = (repaired[repairKind] ?? 0) + n;
    if (n > 0) telemetryOf(deps).count('lucius.sweeper.repairs', { kind: repairKind }, n);
  };
  let examined = 0;
  let errors = 0;
  let purged = 0;
  const failed = (event: string, fields: Record<string, unknown>, error: unknown): void => {
    errors += 1;
    deps.log(event, { ...fields, kind, by: deps.by, error: describe(error) });
  };

  const due: ActiveJobEntry[] = [];
  for (const shard of shards) {
    try {
      due.push(...(await deps.ledger.listDueJobs(shard, deps.clock.now(), deps.settings.sweep.batchSize)));
    } catch (error) {
      failed('sweep.shard_failed', { shard }, error);
    }
  }
  // Jobs are independent (each decision re-reads its own rows), so due jobs are examined a few at
  // a time.
  await forEachBounded(due, EXAMINE_CONCURRENCY, async (entry) => {
    examined += 1;
    try {
      const applied = await examine(deps, kind, entry);
      if (applied !== undefined) count(applied);
    } catch (error) {
      failed('sweep.job_failed', { shard: entry.shard, job_id: entry.jobId }, error);
    }
  });

  if (kind !== 'drift' && deps.slots !== undefined) {
    for (const shard of shards) {
      try {
        count('SLOT_RELEASED', await releaseLeakedSlots(deps, deps.slots, shard));
      } catch (error) {
        failed('sweep.slots_failed', { shard }, error);
      }
    }
  }

  if (kind !== 'lease' && shards.includes(0)) {
    try {
      count('INFLIGHT_CORRECTED', await reconcileInflight(deps));
    } catch (error) {
      failed('sweep.inflight_failed', {}, error);
    }
    const retention = await purgeExpired(deps, deps.settings.sweep.batchSize);
    purged = retention.purged;
    errors += retention.errors;
  }

  const summary: SweepSummary = {
    kind,
    shards: [...shards],
    examined,
    repaired,
    purged,
    errors,
    durationMs: Math.max(0, deps.clock.now().getTime() - started),
  };
  deps.log('sweep.completed', { ...summary, by: deps.by });
  return summary;
}

/**
 * One timer run: takes the lease of every shard (lane) no other owner holds, sweeps those, and gives
 * the leases back. With no shard free (another process sweeps them all) the summary is empty.
 */
export async function sweepLeasedShards(
  deps: LeasedSweepDeps,
  owner: string,
  kind: SweepKind,
): Promise<SweepSummary> {
  const { leases } = deps;
  const { laneCount } = deps.settings.admission;
  const ttl = deps.settings.sweep.shardLeaseSeconds;
  const held: number[] = [];
  try {
    for (let shard = 0; shard < laneCount; shard += 1) {
      if (await leases.acquire(shard, owner, deps.clock.now(), ttl)) held.push(shard);
    }
    return await sweepShards(deps, kind, held);
  } finally {
    await Promise.allSettled(held.map((shard) => leases.release(shard, owner)));
  }
}

export async function sweepJob(deps: SweepDeps, jobId: string): Promise<RepairKind | undefined> {
  const found = await deps.ledger.getJob(jobId);
  // A finished job needs nothing; an unknown one has no entry to judge it by.
  if (found === undefined || isTerminalJobStatus(found.job.status)) return undefined;
  const { job } = found;
  return examine(deps, 'all', {
    jobId,
    tenantId: job.tenantId,
    shard: job.lane,
    checkAt: deps.clock.now().toISOString(),
    createdAt: job.createdAt,
    idempotencyScope: '',
  });
}

export async function reconcileInflight(deps: SweepDeps): Promise<number> {
  const { ledger } = deps;
  const now = deps.clock.now();
  const [counters, inFlight] = await Promise.all([ledger.listInflightCounters(), ledger.countActiveJobs()]);
  const graceMs = deps.settings.sweep.acceptGraceSeconds * 1000;
  let corrected = 0;
  for (const counter of counters) {
    const expected = inFlight.get(counter.tenantId) ?? 0;
    const suspect = counter.suspect;
    if (counter.count === expected) {
      // The drift went away by itself: forget the first sighting so it cannot pair with a later one.
      if (suspect !== undefined) await ledger.correctInflight(counter.tenantId, counter.version, expected);
      continue;
    }
    if (suspect === undefined || suspect.expected !== expected) {
      await ledger.markInflightSuspect(counter.tenantId, counter.version, expected, now);
      continue;
    }
    if (Date.parse(suspect.seenAt) + graceMs > now.getTime()) continue;
    if (await ledger.correctInflight(counter.tenantId, counter.version, expected)) {
      corrected += 1;
      deps.log('sweep.repaired', {
        kind: 'INFLIGHT_CORRECTED',
        tenant_id: counter.tenantId,
        reason: `in-flight counter was ${counter.count}, the jobs in flight are ${expected} (first seen ${suspect.seenAt})`,
        by: deps.by,
      });
    }
  }
  return corrected;
}

export async function purgeExpiredJobs(deps: SweepDeps, limit?: number): Promise<number> {
  return (await purgeExpired(deps, limit ?? deps.settings.sweep.batchSize)).purged;
}

async function purgeExpired(deps: SweepDeps, limit: number): Promise<{ purged: number; errors: number }> {
  const before = new Date(deps.clock.now().getTime() - deps.settings.sweep.retentionDays * DAY_MS);
  let purged = 0;
  let errors = 0;
  let entries;
  try {
    entries = await deps.ledger.listFinishedJobs(before, limit);
  } catch (error) {
    deps.log('sweep.retention_failed', { by: deps.by, error: describe(error) });
    return { purged, errors: 1 };
  }
  for (const entry of entries) {
    try {
      await deps.control.purge(entry.jobId);
      if (await deps.ledger.purgeJob(entry.jobId)) purged += 1;
    } catch (error) {
      // Redriven since it was listed: no longer finished, so it stays.
      if (error instanceof InvalidTransitionError) continue;
      errors += 1;
      deps.log('sweep.retention_failed', { job_id: entry.jobId, by: deps.by, error: describe(error) });
    }
  }
  return { purged, errors };
}

/** Decides and (if it is this sweep's kind) applies the entry's repair; answers the repair applied. */
async function examine(
  deps: SweepDeps,
  kind: SweepKind,
  entry: ActiveJobEntry,
): Promise<RepairKind | undefined> {
  const now = deps.clock.now();
  const seen = await deps.ledger.getJob(entry.jobId);
  const instance = needsInstance(seen?.job) ? await deps.control.inspect(entry.jobId) : undefined;
  const decision = decideRepair({
    jobId: entry.jobId,
    entryCreatedAt: entry.createdAt,
    ...(seen === undefined ? {} : { job: seen.job }),
    steps: seen?.steps ?? [],
    ...(instance === undefined ? {} : { instance }),
    now,
    timings: deps.settings.sweep,
  });
  const repair = decision.repair;
  // Another sweeper's repair: leave the entry due for it.
  if (repair !== undefined && kind !== 'all' && sweeperFor(repair.kind) !== kind) return undefined;
  let applied: RepairKind | undefined;
  if (repair !== undefined) {
    const current = await deps.ledger.getJob(entry.jobId);
    if (JSON.stringify(current) !== JSON.stringify(seen)) return undefined;
    applied = (await apply(deps, entry, current, repair, now)) ? repair.kind : undefined;
    if (applied !== undefined) {
      telemetryOf(deps).event('job.repaired', {
        job_id: entry.jobId,
        tenant_id: current?.job.tenantId ?? entry.tenantId,
        request_type: current?.job.requestType,
        kind: repair.kind,
        reason: repair.reason,
        by: deps.by,
      });
    }
  }
  if (decision.nextCheckAt !== undefined)
    await deps.ledger.scheduleCheck(entry.jobId, entry.shard, decision.nextCheckAt);
  return applied;
}

/** Applies one repair to the job as just re-read; false when the job turned out to need none. */
async function apply(
  deps: SweepDeps,
  entry: ActiveJobEntry,
  current: JobWithSteps | undefined,
  planned: PlannedRepair,
  now: Date,
): Promise<boolean> {
  const { ledger, control } = deps;
  const repair: Repair = { at: now.toISOString(), kind: planned.kind, reason: planned.reason, by: deps.by };
  if (current === undefined) {
    if (planned.kind !== 'IDEMPOTENCY_ORPHAN_REMOVED') return false;
    const removed = await ledger.removeOrphanIdempotency(entry);
    // The admission may have finished after all: then its entry is the job's and stays.
    if ((await ledger.getJob(entry.jobId)) !== undefined) return false;
    await ledger.dropActiveEntry(entry.jobId, entry.shard);
    deps.log('sweep.repaired', {
      kind: planned.kind,
      job_id: entry.jobId,
      tenant_id: entry.tenantId,
      idempotency_removed: removed,
      reason: planned.reason,
      by: deps.by,
    });
    return true;
  }
  const { job } = current;
  switch (planned.kind) {
    case 'ORCHESTRATION_STARTED':
      await control.start(orchestrationInput(job));
      await ledger.recordRepair(job.jobId, repair);
      return true;
    case 'ORCHESTRATION_RESTARTED':
      await control.restart(orchestrationInput(job));
      await ledger.recordRepair(job.jobId, repair, { countsRestart: true });
      return true;
    case 'ORCHESTRATION_LOST':
      return failJob(deps, current, 'ORCHESTRATION_LOST', repair, now);
    case 'JOB_TIMED_OUT':
      return failJob(deps, current, 'TIMEOUT', repair, now);
    case 'TIMER_RECHECKED':
    case 'DISPATCH_RETRIED': {
      const event: RecheckEvent = {
        reason: planned.reason,
        ...(planned.kind === 'DISPATCH_RETRIED' ? { redispatch: true } : {}),
      };
      await control.raise(job.jobId, RECHECK_EVENT, event);
      await ledger.recordRepair(job.jobId, repair);
      return true;
    }
    case 'INDEX_CLEANED':
      await ledger.dropActiveEntry(job.jobId, entry.shard);
      await ledger.recordRepair(job.jobId, repair);
      return true;
    case 'IDEMPOTENCY_ORPHAN_REMOVED':
    case 'INFLIGHT_CORRECTED':
    case 'SLOT_RELEASED':
      // The first two are never decided for a job that exists; slots are swept by `releaseLeakedSlots`.
      return false;
  }
}

/**
 * Fails the job (releasing its in-flight slot, once) and cancels its unfinished steps, as the
 * cancel path does; false when the job ended meanwhile.
 */
async function failJob(
  deps: SweepDeps,
  current: JobWithSteps,
  failureClass: FailureClass,
  repair: Repair,
  now: Date,
): Promise<boolean> {
  const { job, steps } = current;
  const open = steps.filter((s) => !isTerminalStepStatus(s.status)).sort((a, b) => a.index - b.index);
  const stepId = open.find((s) => s.status !== 'PENDING')?.stepId;
  try {
    const { changed, next } = await deps.ledger.applyJobEvent(
      job.jobId,
      {
        type: 'FAIL',
        failure: { failureClass, message: repair.reason, ...(stepId === undefined ? {} : { stepId }) },
      },
      now,
    );
    if (!changed) return false;
    jobFinished(telemetryOf(deps), next);
  } catch (error) {
    if (error instanceof InvalidTransitionError) return false;
    throw error;
  }
  for (const step of open) {
    await deps.ledger
      .applyStepEvent(job.jobId, step.stepId, { type: 'CANCEL', reason: repair.reason }, now)
      .catch((error: unknown) => {
        // The step finished meanwhile (a late RESULT): it keeps that outcome.
        if (!(error instanceof InvalidTransitionError)) throw error;
      });
  }
  await deps.ledger.recordRepair(job.jobId, repair);
  return true;
}

/**
 * The lane's slot holders whose check is due: a holder whose attempt ended is released (its slot
 * handed on) and recorded as SLOT_RELEASED; one still running is checked again later. Answers how
 * many were released.
 */
export async function releaseLeakedSlots(
  deps: SweepDeps,
  slots: DispatchSlots,
  lane: number,
): Promise<number> {
  const now = deps.clock.now();
  let released = 0;
  for (const row of await slots.rowsOfLane(lane)) {
    const key: SlotKey = { lane: row.lane, stepType: row.stepType };
    for (const holder of dueHolders(row, now)) {
      if (await releaseIfLeaked(deps, slots, key, holder, now)) released += 1;
    }
  }
  return released;
}

async function releaseIfLeaked(
  deps: SweepDeps,
  slots: DispatchSlots,
  key: SlotKey,
  holder: SlotHolder,
  now: Date,
): Promise<boolean> {
  const found = await deps.ledger.getJob(holder.jobId);
  const step = found?.steps.find((s) => s.stepId === holder.stepId);
  const standing = {
    ...(found === undefined ? {} : { jobStatus: found.job.status }),
    ...(step === undefined ? {} : { step: { status: step.status, attemptNo: step.attemptNo } }),
  };
  if (!slotLeaked(holder, standing)) {
    const next = new Date(now.getTime() + deps.settings.sweep.recheckSeconds * 1000);
    await slots.update(key, (row) => postponeCheck(row, holder, next));
    return false;
  }
  const release = await giveSlotBack(
    { slots, slotPolicy: slotPolicy(deps.settings), signals: deps.control },
    key,
    holder,
    now,
  );
  if (!release.released) return false;
  const reason =
    `the dispatch slot of ${key.lane}/${key.stepType} held by step ${holder.stepId} attempt ` +
    `${holder.attemptNo} outlived the attempt (step ${step?.status ?? 'gone'} at attempt ${step?.attemptNo ?? '-'})`;
  const repair: Repair = { at: now.toISOString(), kind: 'SLOT_RELEASED', reason, by: deps.by };
  if (found !== undefined) await deps.ledger.recordRepair(holder.jobId, repair);
  deps.log('sweep.repaired', { kind: 'SLOT_RELEASED', job_id: holder.jobId, reason, by: deps.by });
  telemetryOf(deps).event('job.repaired', {
    job_id: holder.jobId,
    tenant_id: holder.tenantId,
    kind: 'SLOT_RELEASED',
    reason,
    by: deps.by,
  });
  return true;
}

function orchestrationInput(job: Job): JobOrchestrationInput {
  return { jobId: job.jobId, tenantId: job.tenantId, requestType: job.requestType, drive: job.redrives };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
