/**
 * Flow control per lane and step type (README: "Flow control"), pure: how many directives may be
 * outstanding on one lane for one step type, who holds those slots, who waits for one, and in which
 * order waiters are served.
 *
 * One `SlotRow` per (lane, step type). A holder is one step's attempt (job, step, attempt): it takes
 * the slot before its directive is published and gives it back when the attempt ends, so the time a
 * directive waits in the topic is bounded by the limit instead of being charged to the worker's ACK
 * deadline. A step that finds no free slot waits in `waiting` (oldest first); freed slots go to
 * waiters round-robin by tenant (`turns`: the tenants with waiters, the next to serve first), so one
 * tenant's burst cannot starve another tenant's job on the same lane.
 *
 * Every function takes a row and answers the next row plus what changed; the adapters store rows
 * with optimistic concurrency (ETags), re-running the function on a conflict. Nothing here reads a
 * clock: `now` is an argument.
 */
import { isTerminalJobStatus, type JobStatus } from './job';
import { isInFlight } from './attempt';
import { isTerminalStepStatus, type StepStatus, type StepType } from './step';

export interface SlotKey {
  readonly lane: number;
  readonly stepType: StepType;
}

/** A step asking for a slot for its attempt `attemptNo` (the attempt it is about to dispatch). */
export interface SlotRequest {
  readonly jobId: string;
  readonly stepId: string;
  readonly attemptNo: number;
  readonly tenantId: string;
}

export interface SlotHolder extends SlotRequest {
  readonly grantedAt: string;
  /** When the lease sweeper next checks that the holder's attempt is still running. */
  readonly checkAt: string;
}

export interface SlotWaiter extends SlotRequest {
  readonly since: string;
}

export interface SlotRow extends SlotKey {
  readonly holders: readonly SlotHolder[];
  /** Oldest first. */
  readonly waiting: readonly SlotWaiter[];
  /** Tenants with waiters, in the order they are served next (round-robin). */
  readonly turns: readonly string[];
}

/**
 * How many waiters a row keeps (a Table entity is at most 1 MiB); beyond it a step is not queued and
 * finds a slot by rechecking.
 */
export const MAX_SLOT_WAITERS = 2000;

export interface SlotPolicy {
  /** Directives outstanding at most per lane and step type (LUCIUS_MAX_OUTSTANDING_PER_LANE). */
  readonly limit: number;
  /** How long after a grant the lease sweeper first checks the holder. */
  readonly checkAfterMs: number;
}

export interface SlotChange<T> {
  readonly row: SlotRow;
  /** False when the row is unchanged (the adapter need not write it). */
  readonly changed: boolean;
  readonly result: T;
}

export interface Acquisition {
  readonly granted: boolean;
  /** False when the step could not even be queued (the waiting list is full). */
  readonly queued: boolean;
  /** Other waiters that got a slot in the same change (a raised limit): their orchestrations are told. */
  readonly handedTo: readonly SlotHolder[];
}

export interface Release {
  /** A holder (or a waiter) of the step was removed. */
  readonly released: boolean;
  /** The waiters the freed slots went to: their orchestrations are told. */
  readonly handedTo: readonly SlotHolder[];
}

export function emptySlotRow(key: SlotKey): SlotRow {
  return { lane: key.lane, stepType: key.stepType, holders: [], waiting: [], turns: [] };
}

export function slotKeyName(key: SlotKey): string {
  return `${key.lane}/${key.stepType}`;
}

const sameStep = (a: Pick<SlotRequest, 'jobId' | 'stepId'>, b: Pick<SlotRequest, 'jobId' | 'stepId'>) =>
  a.jobId === b.jobId && a.stepId === b.stepId;

/**
 * A step asks for a slot. Idempotent: a step that holds the row's slot keeps it (for the attempt it
 * now asks for); a waiting step keeps its place. A new step gets a slot at once only when one is free
 * and nobody waits (waiters come first); otherwise it joins the queue and its tenant the rotation.
 */
export function acquireSlot(
  row: SlotRow,
  request: SlotRequest,
  policy: SlotPolicy,
  now: Date,
): SlotChange<Acquisition> {
  const held = row.holders.find((h) => sameStep(h, request));
  if (held !== undefined) {
    if (held.attemptNo === request.attemptNo)
      return { row, changed: false, result: { granted: true, queued: false, handedTo: [] } };
    const holders = row.holders.map((h) => (h === held ? grant(request, policy, now) : h));
    return {
      row: { ...row, holders },
      changed: true,
      result: { granted: true, queued: false, handedTo: [] },
    };
  }
  const waiting = row.waiting.find((w) => sameStep(w, request));
  let next = row;
  if (waiting === undefined) {
    if (row.waiting.length === 0 && row.holders.length < policy.limit) {
      const holders = [...row.holders, grant(request, policy, now)];
      return {
        row: { ...row, holders },
        changed: true,
        result: { granted: true, queued: false, handedTo: [] },
      };
    }
    if (row.waiting.length >= MAX_SLOT_WAITERS) {
      const filled = fill(row, policy, now);
      return {
        row: filled.row,
        changed: filled.granted.length > 0,
        result: { granted: false, queued: false, handedTo: filled.granted },
      };
    }
    next = enqueue(row, { ...request, since: now.toISOString() });
  } else if (waiting.attemptNo !== request.attemptNo) {
    next = {
      ...row,
      waiting: row.waiting.map((w) => (w === waiting ? { ...w, attemptNo: request.attemptNo } : w)),
    };
  }
  // A limit raised since the last release leaves free slots: hand them out in turn now.
  const filled = fill(next, policy, now);
  const mine = filled.granted.find((h) => sameStep(h, request));
  return {
    row: filled.row,
    changed: filled.row !== row,
    result: {
      granted: mine !== undefined,
      queued: mine === undefined,
      handedTo: filled.granted.filter((h) => h !== mine),
    },
  };
}

/**
 * The step gives its slot back (its attempt ended) or leaves the queue (cancelled while waiting).
 * With `attemptNo`, only that attempt's slot is released (a late release never frees the slot a
 * later attempt of the step took); without, whatever the step holds. Freed slots go to waiters.
 */
export function releaseSlot(
  row: SlotRow,
  step: { readonly jobId: string; readonly stepId: string; readonly attemptNo?: number },
  policy: SlotPolicy,
  now: Date,
): SlotChange<Release> {
  const matches = (h: SlotRequest) =>
    sameStep(h, step) && (step.attemptNo === undefined || h.attemptNo <= step.attemptNo);
  const holders = row.holders.filter((h) => !matches(h));
  const waiting = row.waiting.filter((w) => !matches(w));
  const released = holders.length !== row.holders.length || waiting.length !== row.waiting.length;
  const pruned: SlotRow = released ? withTurns({ ...row, holders, waiting }, row.turns) : row;
  const filled = fill(pruned, policy, now);
  return {
    row: filled.row,
    changed: filled.row !== row,
    result: { released, handedTo: filled.granted },
  };
}

/** The sweeper found the holder's attempt still running: look again at `checkAt`. */
export function postponeCheck(
  row: SlotRow,
  holder: Pick<SlotHolder, 'jobId' | 'stepId' | 'attemptNo'>,
  checkAt: Date,
): SlotChange<boolean> {
  const found = row.holders.find((h) => sameStep(h, holder) && h.attemptNo === holder.attemptNo);
  if (found === undefined) return { row, changed: false, result: false };
  const holders = row.holders.map((h) => (h === found ? { ...h, checkAt: checkAt.toISOString() } : h));
  return { row: { ...row, holders }, changed: true, result: true };
}

/** The holders whose check is due at `now`, oldest check first. */
export function dueHolders(row: SlotRow, now: Date): readonly SlotHolder[] {
  return row.holders
    .filter((h) => Date.parse(h.checkAt) <= now.getTime())
    .sort((a, b) => Date.parse(a.checkAt) - Date.parse(b.checkAt));
}

/** What the ledger holds for a slot holder's step (absent fields: the job or step row is gone). */
export interface HolderStanding {
  readonly jobStatus?: JobStatus;
  readonly step?: { readonly status: StepStatus; readonly attemptNo: number };
}

/**
 * Whether a slot holder's attempt has ended, so its slot leaked (a crash between the ledger write
 * that ended the attempt and the release). Held: the attempt is in flight, or the step is about to
 * dispatch it (granted, the ledger still at the attempt before). Everything else has ended.
 */
export function slotLeaked(holder: Pick<SlotHolder, 'attemptNo'>, standing: HolderStanding): boolean {
  const { jobStatus, step } = standing;
  if (jobStatus === undefined || step === undefined) return true;
  if (isTerminalJobStatus(jobStatus) || isTerminalStepStatus(step.status)) return true;
  if (step.attemptNo === holder.attemptNo) return !isInFlight(step.status);
  if (step.attemptNo === holder.attemptNo - 1)
    return !(step.status === 'PENDING' || step.status === 'FAILED_RETRY' || step.status === 'WAITING_SLOT');
  return true;
}

function grant(request: SlotRequest, policy: SlotPolicy, now: Date): SlotHolder {
  return {
    jobId: request.jobId,
    stepId: request.stepId,
    attemptNo: request.attemptNo,
    tenantId: request.tenantId,
    grantedAt: now.toISOString(),
    checkAt: new Date(now.getTime() + policy.checkAfterMs).toISOString(),
  };
}

function enqueue(row: SlotRow, waiter: SlotWaiter): SlotRow {
  const turns = row.turns.includes(waiter.tenantId) ? row.turns : [...row.turns, waiter.tenantId];
  return { ...row, waiting: [...row.waiting, waiter], turns };
}

/** Keeps the rotation's order, for the tenants that still have waiters (any missing ones appended). */
function withTurns(row: SlotRow, order: readonly string[]): SlotRow {
  const waitingTenants = new Set(row.waiting.map((w) => w.tenantId));
  const turns = order.filter((t) => waitingTenants.has(t));
  for (const w of row.waiting) if (!turns.includes(w.tenantId)) turns.push(w.tenantId);
  return { ...row, turns };
}

/**
 * Grants free slots to waiters, round-robin by tenant: the tenant whose turn it is gets its oldest
 * waiter served and goes to the back of the rotation (or leaves it, having no waiter left).
 */
function fill(row: SlotRow, policy: SlotPolicy, now: Date): { row: SlotRow; granted: SlotHolder[] } {
  const granted: SlotHolder[] = [];
  let next = row;
  while (next.holders.length < policy.limit && next.waiting.length > 0) {
    const tenant = next.turns[0] ?? (next.waiting[0] as SlotWaiter).tenantId;
    const waiter = next.waiting.find((w) => w.tenantId === tenant) ?? (next.waiting[0] as SlotWaiter);
    const holder = grant(waiter, policy, now);
    granted.push(holder);
    const waiting = next.waiting.filter((w) => w !== waiter);
    const rest = next.turns.filter((t) => t !== waiter.tenantId);
    const stillWaiting = waiting.some((w) => w.tenantId === waiter.tenantId);
    next = withTurns(
      { ...next, holders: [...next.holders, holder], waiting },
      stillWaiting ? [...rest, waiter.tenantId] : rest,
    );
  }
  return { row: next, granted };
}
