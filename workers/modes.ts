/**
 * How each demo platform behaves, and the spec string that sets it
 * (`LUCIUS_DEMO_WORKERS`, `--modes`): comma-separated entries `TYPE=MODE[:N]`, or a bare `MODE[:N]`
 * for every step type not named, e.g. `OCR=flaky:2,EMBEDDING=slow` or `slow,SIS=off`.
 *
 * | mode      | what the worker does with a directive                                                  |
 * | --------- | -------------------------------------------------------------------------------------- |
 * | `instant` | ACK and RESULT SUCCEEDED at once                                                        |
 * | `normal`  | ACK, works `workMs` (200 ms), RESULT SUCCEEDED (the default)                            |
 * | `slow`    | ACK, works `slowWorkMs` (3.5 s) with a heartbeat every `heartbeatMs` (1 s), SUCCEEDED   |
 * | `flaky:N` | like normal, but attempts 1..N end RESULT FAILED TRANSIENT (N defaults to 1)            |
 * | `failing` | like normal, but RESULT FAILED PERMANENT                                                |
 * | `silent`  | completes the directive and never replies (Lucius's ACK timeout fires)                  |
 * | `invalid` | sends one RESULT that breaks result.v1 (Lucius quarantines it; its ACK timeout fires)   |
 * | `off`     | no demo worker for that step type (leave the subscription to a real one)                |
 *
 * With lazy ACK (`ackAfterMs`, `--ack-after`, workers/ack-gate.ts) every working mode (instant,
 * normal, slow, flaky, failing) starts its work without the ACK and sends it only if the work still
 * runs `ackAfterMs` later (or at once close to `ack_deadline`): instant and normal then send the
 * RESULT alone. `silent`, `invalid` and `off` never ACK either way.
 *
 * Parsing reports every bad entry at once (WorkerConfigError).
 */
import { WorkerConfigError } from './errors';
import { STEP_TYPES, isStepType, type StepType } from './platforms';

export const WORKER_MODES = [
  'instant',
  'normal',
  'slow',
  'flaky',
  'failing',
  'silent',
  'invalid',
  'off',
] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

export type PlatformMode =
  | { readonly mode: Exclude<WorkerMode, 'flaky'> }
  | { readonly mode: 'flaky'; /** Attempts 1..failAttempts fail TRANSIENT. */ readonly failAttempts: number };

export type WorkerModes = Readonly<Record<StepType, PlatformMode>>;

export const DEFAULT_MODE: PlatformMode = { mode: 'normal' };

/** How long simulated work takes; tests shorten these. */
export interface WorkTimings {
  /** normal, flaky and failing work. */
  readonly workMs: number;
  /** slow work: longer than one heartbeat interval, so heartbeats flow. */
  readonly slowWorkMs: number;
  readonly heartbeatMs: number;
}

export const DEFAULT_TIMINGS: WorkTimings = { workMs: 200, slowWorkMs: 3500, heartbeatMs: 1000 };

/** Every step type's mode from a spec string (empty: all `normal`). */
export function parseWorkerModes(spec: string): WorkerModes {
  const problems: string[] = [];
  const named: Partial<Record<StepType, PlatformMode>> = {};
  let fallback: PlatformMode = DEFAULT_MODE;
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const target = eq < 0 ? undefined : entry.slice(0, eq).trim().toUpperCase();
    const mode = parseMode(eq < 0 ? entry : entry.slice(eq + 1), entry, problems);
    if (target !== undefined && !isStepType(target)) {
      problems.push(`"${entry}": unknown step type "${target}" (expected ${STEP_TYPES.join(', ')})`);
    } else if (mode !== undefined) {
      if (target === undefined) fallback = mode;
      else named[target] = mode;
    }
  }
  if (problems.length > 0) throw new WorkerConfigError(problems);
  return Object.fromEntries(STEP_TYPES.map((type) => [type, named[type] ?? fallback])) as Record<
    StepType,
    PlatformMode
  >;
}

/** Completes a partial setting with `normal` for the step types it leaves out. */
export function workerModes(modes: Partial<Record<StepType, PlatformMode>> = {}): WorkerModes {
  return Object.fromEntries(STEP_TYPES.map((type) => [type, modes[type] ?? DEFAULT_MODE])) as Record<
    StepType,
    PlatformMode
  >;
}

/** `OCR=flaky:2, EMBEDDING=slow, SIS=normal`: the spec form, for start-up lines. */
export function describeModes(modes: WorkerModes): string {
  return STEP_TYPES.map((type) => `${type}=${describeMode(modes[type])}`).join(', ');
}

export function describeMode(mode: PlatformMode): string {
  return mode.mode === 'flaky' ? `flaky:${mode.failAttempts}` : mode.mode;
}

function parseMode(text: string, entry: string, problems: string[]): PlatformMode | undefined {
  const [name = '', arg, ...rest] = text.trim().toLowerCase().split(':');
  if (!(WORKER_MODES as readonly string[]).includes(name)) {
    problems.push(`"${entry}": unknown mode "${name}" (expected ${WORKER_MODES.join(', ')})`);
    return undefined;
  }
  const mode = name as WorkerMode;
  if (mode !== 'flaky') {
    if (arg !== undefined) problems.push(`"${entry}": mode ${mode} takes no ":" argument`);
    return { mode };
  }
  const failAttempts = arg === undefined ? 1 : Number(arg);
  if (rest.length > 0 || !Number.isInteger(failAttempts) || failAttempts < 1) {
    problems.push(`"${entry}": flaky takes the number of attempts to fail, a positive integer (flaky:2)`);
    return undefined;
  }
  return { mode, failAttempts };
}
