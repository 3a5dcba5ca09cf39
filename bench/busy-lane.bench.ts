/**
 * The busy-lane scenario (flow control per lane and step type): prints figures; never fails on them.
 *
 * `node dist/launcher/cli.js up --no-workers` (what `npm start` runs: Azurite, the Service Bus
 * emulator, devhost hosting this app) runs as a child process on free ports, with the default ACK
 * timeout and the default outstanding limit per lane and step type. The demo workers run in this
 * process in `slow` mode (each directive takes 3.5 s, heartbeating), 4 at a time per subscription.
 * BENCH_BUSY_JOBS (default 80) two-step jobs (`OCR->EMBEDDING`) are submitted at once for ONE tenant
 * (so one lane), and each is polled until it ends. Printed:
 *  - jobs SUCCEEDED / FAILED (and CANCELLED), with the failure classes;
 *  - stale replies: the sum of the steps' `staleReplies` (replies to attempts Lucius had already
 *    ended: work done for nothing);
 *  - directives executed after their ACK deadline: attempts a worker started after its deadline
 *    (must be 0: such a directive expires from the subscription, and a worker drops it);
 *  - directives the workers dropped as expired, attempts per step, and the run's duration.
 *
 * Knobs: BENCH_BUSY_JOBS (default 80), BENCH_BUSY_WORKERS (messages at once per subscription,
 * default 4), BENCH_BUSY_WORK_MS (default 3500).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { startDemoWorkers, type DemoWorkers } from '../workers/demo-workers';
import type { StepDirective } from '../workers/directive-contract';
import { readJob, submitJob, withUp, type JobView, type Up } from './launch-up';
import { writeResults } from './results';

const JOBS = Number(process.env.BENCH_BUSY_JOBS ?? 80);
const WORKERS = Number(process.env.BENCH_BUSY_WORKERS ?? 4);
const WORK_MS = Number(process.env.BENCH_BUSY_WORK_MS ?? 3500);
const TENANT = 'busy-tenant';
const KEY = 'bench-key';
const POLL_MS = 500;
/** Bound on the whole run, so a stuck run ends with an error instead of hanging. */
const RUN_LIMIT_MS = 30 * 60_000;

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

const job = (up: Up, jobId: string): Promise<JobView> => readJob(up, TENANT, jobId);

async function untilEnded(up: Up, jobId: string, limit: number): Promise<JobView> {
  for (;;) {
    const view = await job(up, jobId);
    if (view.status !== undefined && TERMINAL.has(view.status)) return view;
    if (Date.now() > limit) throw new Error(`job ${jobId} is still ${String(view.status)}`);
    await delay(POLL_MS);
  }
}

async function bench(up: Up, workers: DemoWorkers, late: { count: number }): Promise<void> {
  const started = Date.now();
  const limit = started + RUN_LIMIT_MS;
  const jobIds = await Promise.all(
    Array.from({ length: JOBS }, (_, n) => submitJob(up, TENANT, `busy-${n}`)),
  );
  const views = await Promise.all(jobIds.map((jobId) => untilEnded(up, jobId, limit)));
  const seconds = (Date.now() - started) / 1000;
  // Late replies to ended attempts may still be in flight: let them land before counting.
  await delay(5_000);
  const final = await Promise.all(jobIds.map((jobId) => job(up, jobId)));

  const byStatus = (status: string) => views.filter((v) => v.status === status).length;
  const failureClasses = new Map<string, number>();
  for (const v of views)
    if (v.status === 'FAILED') {
      const c = v.failure?.failureClass ?? 'UNKNOWN';
      failureClasses.set(c, (failureClasses.get(c) ?? 0) + 1);
    }
  const steps = final.flatMap((v) => v.steps ?? []);
  const stale = steps.reduce((n, s) => n + (s.staleReplies ?? 0), 0);
  const attempts = steps.reduce((n, s) => n + (s.attemptNo ?? 0), 0);
  const stats = workers.stats;
  const figures = {
    date: new Date().toISOString(),
    node: process.version,
    jobs: JOBS,
    workersPerSubscription: WORKERS,
    workMs: WORK_MS,
    maxOutstandingPerLane: process.env.LUCIUS_MAX_OUTSTANDING_PER_LANE ?? 'default',
    succeeded: byStatus('SUCCEEDED'),
    failed: byStatus('FAILED'),
    cancelled: byStatus('CANCELLED'),
    failureClasses: Object.fromEntries(failureClasses),
    staleReplies: stale,
    executedAfterDeadline: late.count,
    droppedExpired: stats.outcomes.expired,
    directivesReceived: stats.received,
    attemptsPerStep: attempts / Math.max(1, steps.length),
    seconds,
  };
  console.log(
    `\nbusy lane: ${JOBS} jobs of OCR->EMBEDDING for one tenant (one lane), slow demo workers ` +
      `(${WORK_MS} ms each, ${WORKERS} at a time per subscription), ACK timeout ` +
      `${process.env.LUCIUS_ACK_TIMEOUT_SECONDS ?? 'default (30 s)'}, outstanding limit per lane and step type ` +
      `${process.env.LUCIUS_MAX_OUTSTANDING_PER_LANE ?? 'default (32)'}, ` +
      `node ${process.version}, devhost up as a child process`,
  );
  console.log(
    `jobs SUCCEEDED ${figures.succeeded}, FAILED ${figures.failed}` +
      (figures.cancelled > 0 ? `, CANCELLED ${figures.cancelled}` : '') +
      (failureClasses.size > 0 ? ` (${[...failureClasses].map(([c, n]) => `${c} ${n}`).join(', ')})` : ''),
  );
  console.log(`stale replies: ${stale}`);
  console.log(
    `directives executed after their ACK deadline: ${late.count} (workers.stats.startedLate ${stats.startedLate})`,
  );
  console.log(
    `directives dropped as expired by the workers: ${figures.droppedExpired}; received ${stats.received}; ` +
      `attempts per step: ${figures.attemptsPerStep.toFixed(2)}`,
  );
  console.log(`duration: ${seconds.toFixed(1)} s`);
  console.log(`figures written to ${writeResults('busy-lane', figures)}`);
}

async function main(): Promise<void> {
  const late = { count: 0 };
  await withUp(
    'lucius-bench-busy-lane-',
    { functionKey: KEY, env: { LUCIUS_RATE_LIMITS: 'off' }, tenants: [TENANT] },
    async (up) => {
      const workers = await startDemoWorkers({
        connectionString: up.serviceBusConnection,
        modes: 'slow',
        timings: { slowWorkMs: WORK_MS },
        maxConcurrentCalls: WORKERS,
        onStarted: (directive: StepDirective) => {
          if (Date.parse(directive.ack_deadline) < Date.now()) late.count += 1;
        },
      });
      try {
        await bench(up, workers, late);
      } finally {
        await workers.stop();
      }
    },
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
