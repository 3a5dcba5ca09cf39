/**
 * Readiness: asks each dependency Lucius needs to work, all at once, each bounded by `timeoutMs`,
 * and reports each one's answer and latency. Used by `GET /api/healthz`.
 *
 * - `ledger`: `JobLedger.ping` (a one-row read of the ledger's table; the memory backend always answers);
 * - `service_bus`: a DependencyProbe (a peek of the quarantine queue); left out when the process
 *   has no Service Bus (in-memory wiring);
 * - `durable_task_hub`: `OrchestrationControl.inspect` of an instance id no job ever has: the
 *   durable backend answering "no such instance" (or anything but a failure) proves the task hub
 *   answers.
 *
 * A check that does not answer within `timeoutMs` fails as `timeout` (its signal aborts, so an
 * adapter that can stop early does). The report is ready once every check answered or timed out,
 * so it comes within `timeoutMs` plus scheduling. Never throws.
 */
import type { DependencyProbe } from '../ports/dependency-probe';
import type { JobLedger } from '../ports/job-ledger';
import type { OrchestrationControl } from '../ports/orchestration-control';

export const DEPENDENCIES = ['ledger', 'service_bus', 'durable_task_hub'] as const;
export type DependencyName = (typeof DEPENDENCIES)[number];

/** The instance id the durable check asks about (job ids are UUIDs, so it is never a job's). */
export const HEALTH_PROBE_INSTANCE_ID = 'lucius-healthz-probe';

export interface CheckReadinessDeps {
  readonly ledger: Pick<JobLedger, 'ping'>;
  /** Absent when the process has no Service Bus (in-memory wiring): not checked. */
  readonly serviceBus?: DependencyProbe;
  readonly durable: Pick<OrchestrationControl, 'inspect'>;
  /**
   * Each check's bound, in ms (`LUCIUS_HEALTH_TIMEOUT_MS`, default 1500, so the whole answer comes
   * within 2 s).
   */
  readonly timeoutMs: number;
  /** A monotonic reading in ms (e.g. `performance.now`), for the latencies. */
  readonly elapsedMs: () => number;
}

export interface DependencyFailure {
  /** `timeout`, or the error's own code (`ledger_unavailable`, `ServiceCommunicationProblem`, ...), or `error`. */
  readonly code: string;
  /** The error's message: for the log, not for anonymous callers. */
  readonly message: string;
  readonly cause?: unknown;
}

export interface DependencyReport {
  readonly name: DependencyName;
  readonly ok: boolean;
  /** From the start of the check to its answer (or to the timeout), rounded to whole ms. */
  readonly latencyMs: number;
  readonly failure?: DependencyFailure;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly timeoutMs: number;
  /** In the order of DEPENDENCIES, the ones checked. */
  readonly dependencies: readonly DependencyReport[];
}

type Check = readonly [DependencyName, (signal: AbortSignal) => Promise<unknown>];

export async function checkReadiness(deps: CheckReadinessDeps): Promise<ReadinessReport> {
  const { serviceBus } = deps;
  const checks: Check[] = [['ledger', () => deps.ledger.ping()]];
  if (serviceBus !== undefined) checks.push(['service_bus', (signal) => serviceBus.probe(signal)]);
  checks.push(['durable_task_hub', () => deps.durable.inspect(HEALTH_PROBE_INSTANCE_ID)]);
  const dependencies = await Promise.all(
    checks.map(([name, check]) => timed(name, check, deps.timeoutMs, deps.elapsedMs)),
  );
  return { ready: dependencies.every((d) => d.ok), timeoutMs: deps.timeoutMs, dependencies };
}

class CheckTimeout extends Error {}

async function timed(
  name: DependencyName,
  check: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs: number,
  elapsedMs: () => number,
): Promise<DependencyReport> {
  const started = elapsedMs();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new CheckTimeout(`${name} did not answer within ${timeoutMs} ms`);
      reject(error);
      controller.abort(error);
    }, timeoutMs);
  });
  try {
    // A check may throw synchronously; Promise.resolve().then keeps that a rejection.
    await Promise.race([Promise.resolve().then(() => check(controller.signal)), timeout]);
    return { name, ok: true, latencyMs: since(started, elapsedMs) };
  } catch (error) {
    return { name, ok: false, latencyMs: since(started, elapsedMs), failure: toFailure(error) };
  } finally {
    clearTimeout(timer);
  }
}

function since(started: number, elapsedMs: () => number): number {
  return Math.max(0, Math.round(elapsedMs() - started));
}

function toFailure(error: unknown): DependencyFailure {
  if (error instanceof CheckTimeout) return { code: 'timeout', message: error.message };
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return {
    code: typeof code === 'string' && code !== '' ? code : 'error',
    message: error instanceof Error ? error.message : String(error),
    cause: error,
  };
}
