/**
 * Fault injection for the durable engine's commit steps: with `DEVHOST_CRASH_AT=<step>[:<n>]` the
 * process kills itself (SIGKILL: no handler, no flush) the n-th time (default 1) the engine has just
 * finished that step, so a test can restart devhost on the same store at every crash point.
 *
 * Steps, in the order an episode commits (episode-commit.ts). The Table store stores an episode
 * that fits in one entity-group transaction at once and then reaches its steps one after another,
 * so a kill at any of them finds the episode fully stored; the memory store takes one write a step:
 *  - `work-first`: the episode's first new work item is stored (more may follow);
 *  - `work`: all of its new work is stored, its history not yet;
 *  - `history-batch`: part of its history is stored, the rest, with its commit mark, not yet (only an
 *    episode of over 100 events on Table Storage, which takes several transactions, reaches it);
 *  - `history`: its history is stored (the commit point), the instance row not yet;
 *  - `instance`: the instance row is stored, the consumed messages not yet deleted;
 *  - `consumed-first`: the first consumed message is deleted (more may follow);
 * and outside episodes:
 *  - `start`: a client start's message is stored, the Pending instance row not yet;
 *  - `activity-result`: an activity's result message is stored, its work item not yet deleted;
 *  - `timer-fired`: a fired timer's message is stored, its work item not yet deleted.
 */
import { writeSync } from 'node:fs';

/** The steps any run with durable work reaches. */
export const COMMIT_STEPS = [
  'start',
  'work-first',
  'work',
  'history',
  'instance',
  'consumed-first',
  'activity-result',
  'timer-fired',
] as const;

/** Steps only an episode whose history takes several Table transactions reaches. */
export const BATCH_STEPS = ['history-batch'] as const;

export type CommitStep = (typeof COMMIT_STEPS)[number] | (typeof BATCH_STEPS)[number];

const ALL_STEPS: readonly CommitStep[] = [...COMMIT_STEPS, ...BATCH_STEPS];

/** Called by the engine right after each commit step. */
export type CommitHook = (step: CommitStep) => void;

export const CRASH_AT_VARIABLE = 'DEVHOST_CRASH_AT';

/** The hook `DEVHOST_CRASH_AT` asks for, or undefined when it is unset. Throws on a bad value. */
export function crashHookFromEnvironment(
  value: string | undefined = process.env[CRASH_AT_VARIABLE],
): CommitHook | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^([a-z-]+)(?::(\d+))?$/.exec(value);
  const step = ALL_STEPS.find((s) => s === match?.[1]);
  const occurrence = Number(match?.[2] ?? '1');
  if (step === undefined || occurrence < 1)
    throw new RangeError(
      `${CRASH_AT_VARIABLE}=${value}: expected <step>[:<n>] with n >= 1, step one of ${ALL_STEPS.join(', ')}`,
    );
  let seen = 0;
  return (reached) => {
    if (reached !== step || ++seen !== occurrence) return;
    writeSync(2, `devhost: ${CRASH_AT_VARIABLE}=${value} reached, killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
