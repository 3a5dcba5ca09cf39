/**
 * Giving a dispatch slot back, as every place that does it does it (flow control,
 * domain/dispatch-slots.ts): the step's slot for an attempt is released in its row, and the
 * orchestrations of the waiting steps the freed slot went to are told (`slot` event). Used by the
 * RESULT's ingestion (the happy path's release), the orchestration's `releaseSlot` activity (an
 * attempt that failed, a cancel, the job deadline) and the lease sweeper (a leaked slot).
 *
 * Telling is best effort: a waiter whose signal is lost looks again by its recheck timer, so a
 * failed signal never fails (and retries) the release, which already happened.
 */
import {
  releaseSlot,
  type Release,
  type SlotHolder,
  type SlotKey,
  type SlotPolicy,
} from '../domain/dispatch-slots';
import { SLOT_EVENT } from '../contracts/job-protocol';
import type { DispatchSlots } from '../ports/dispatch-slots';
import type { OrchestrationSignals } from '../ports/orchestration-signals';

export interface SlotHandoverDeps {
  readonly slots: DispatchSlots;
  readonly slotPolicy: SlotPolicy;
  /** Absent: the waiters find out by their recheck timers. */
  readonly signals?: OrchestrationSignals;
}

/** Releases the slot `step` holds (or its place in the queue) and tells whom the slot went to. */
export async function giveSlotBack(
  deps: SlotHandoverDeps,
  key: SlotKey,
  step: { readonly jobId: string; readonly stepId: string; readonly attemptNo: number },
  now: Date,
): Promise<Release> {
  const release = await deps.slots.update(key, (row) => releaseSlot(row, step, deps.slotPolicy, now));
  await tellGranted(deps.signals, release.handedTo);
  return release;
}

/** Tells the orchestrations of steps that were just granted a slot (best effort). */
export async function tellGranted(
  signals: OrchestrationSignals | undefined,
  granted: readonly SlotHolder[],
): Promise<void> {
  if (signals === undefined) return;
  await Promise.allSettled(
    granted.map((holder) =>
      signals.raise(holder.jobId, SLOT_EVENT, { stepId: holder.stepId, attemptNo: holder.attemptNo }),
    ),
  );
}
