/**
 * Summary (`npm run bench`, last): reads the figures the other benchmarks wrote to the results
 * folder (bench/results.ts) in this run and prints each beside its goal from issue 13, with the
 * cost per million 2-step jobs beside AWS Step Functions (bench/cost-model.ts, bench/prices.json)
 * and the jobs/s ceilings on Azure (bench/capacity-model.ts). Prints, never asserts; a benchmark
 * that wrote nothing is said so and its rows are left out.
 *
 * Assumptions the measurements cannot give (knobs): BENCH_MEAN_EXECUTION_MS (default 50: a
 * function execution on Azure, a few Table round trips), BENCH_INSTANCE_MEMORY_MB (2048, as infra/
 * deploys), BENCH_EXECUTION_OVERLAP (1: no two executions share an instance's billed memory; the
 * upper bound).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BareDurableFigures } from './bare-durable.bench';
import type { JobsFigures } from './jobs.bench';
import {
  bindingCeiling,
  ceilings,
  DEPLOYMENTS,
  serviceBusCredits,
  type CapacityCounts,
} from './capacity-model';
import {
  costPerMillionJobs,
  costVerdict,
  durableTaskSchedulerActions,
  serviceBusOperationsPerJob,
  stepFunctionsCostPerMillionJobs,
  stepFunctionsTransitions,
  totalExecutions,
  type ComputeAssumptions,
  type FunctionsPlan,
  type JobCounts,
  type Prices,
} from './cost-model';
import type { RunFigures } from './measure';
import { readResults, resultsDir } from './results';

/** Issue 13's goals. */
const GOALS = {
  roundTripsPerAdmission: 3,
  admissionVsRaw: 0.8,
  ledgerRoundTripsPerJob: 24,
  episodesPerJob: 6,
  durableOpsPerJob: 30,
} as const;
const STEPS = 2;
/** Subscriptions with a filter on each lane topic (one per platform) and on each reply topic. */
const FILTERS_PER_DIRECTIVE = 3;
const FILTERS_PER_REPLY = 1;
/** The ledger's shared partitions (src/ledger/table-support/layout.ts): 16 lanes, one active shard each. */
const LEDGER_PARTITIONS = {
  activeShards: 16,
  activeShardOpsPerJob: 3,
  finishedDayWritesPerJob: 1,
  counterUpdatesPerJob: 2,
} as const;
/** The URL segment of an entity group transaction (the jobs benchmark groups requests by it). */
const BATCH = '$batch';
const COMPUTE = {
  meanExecutionMs: Number(process.env.BENCH_MEAN_EXECUTION_MS ?? 50),
  instanceMemoryGb: Number(process.env.BENCH_INSTANCE_MEMORY_MB ?? 2048) / 1024,
  overlap: Number(process.env.BENCH_EXECUTION_OVERLAP ?? 1),
};

/** What bench/admission.bench.ts writes per row (the part read here). */
interface AdmissionRow extends RunFigures {
  readonly label: string;
  readonly roundTrips: number;
}

function loadPrices(): Prices {
  const file = [join(__dirname, 'prices.json'), join(__dirname, '..', '..', 'bench', 'prices.json')].find(
    existsSync,
  );
  if (file === undefined) throw new Error(`bench/prices.json not found from ${__dirname}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Prices;
}

const fmt = (v: number, digits = 1) => v.toFixed(digits);
const verdict = (met: boolean) => (met ? 'met' : 'NOT met');

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('');
}

function printAdmission(rows: readonly AdmissionRow[]): void {
  const raw = rows.find((r) => r.label.startsWith('raw'));
  console.log('\nAdmission (bench/admission.bench.ts)');
  const widths = [32, 10, 10, 16, 14, 16];
  console.log(row(['path', 'per sec', 'vs raw', 'goal ≥ 0.8×', 'trips/adm', 'goal ≤ 3'], widths));
  for (const r of rows) {
    const ratio = raw === undefined ? Number.NaN : r.perSecond / raw.perSecond;
    const isRaw = r === raw;
    console.log(
      row(
        [
          r.label,
          fmt(r.perSecond),
          fmt(ratio, 2),
          isRaw ? '-' : verdict(ratio >= GOALS.admissionVsRaw),
          fmt(r.roundTrips, 2),
          isRaw ? '-' : verdict(r.roundTrips <= GOALS.roundTripsPerAdmission),
        ],
        widths,
      ),
    );
  }
}

/** The job's counts for the models, from what the jobs benchmark measured. */
function jobCounts(jobs: JobsFigures): JobCounts & { readonly durableActions: number } {
  const hub = jobs.taskHub.toLowerCase();
  const durableTables = Object.entries(jobs.tableOpsPerJobByTable)
    .filter(([table]) => table.toLowerCase().startsWith(hub))
    .reduce((sum, [, n]) => sum + n, 0);
  // An entity group transaction goes to the account's $batch URL, which names no table: the durable
  // store writes one per episode (its commit), one per activity result (it replaces the activity's
  // work item) and one for the start (devhost/durable/engine/table-store.ts); the ledger the rest.
  const batches = jobs.tableOpsPerJobByTable[BATCH] ?? 0;
  const durableBatches = jobs.episodes.mean + jobs.activitiesPerJob + 1;
  const durableStoreOps = durableTables + Math.min(batches, durableBatches);
  const executions = {
    http: 1,
    orchestratorEpisodes: jobs.episodes.mean,
    activities: jobs.activitiesPerJob,
    serviceBusTriggers: jobs.repliesPerJob,
  };
  return {
    ledgerTableOps: jobs.tableOpsWithoutPolls - durableStoreOps,
    durableStoreOps,
    serviceBusMessages: jobs.directivesPerJob + jobs.repliesPerJob,
    executions,
    durableActions: durableTaskSchedulerActions(executions, jobs.eventsRaisedPerJob),
  };
}

function printPerJob(jobs: JobsFigures, counts: ReturnType<typeof jobCounts>): void {
  const widths = [44, 12, 12, 10];
  console.log(
    `\nPer 2-step job (bench/jobs.bench.ts: ${jobs.jobs} jobs, status polls left out; of the ` +
      `${fmt(jobs.tableOpsPerJobByTable[BATCH] ?? 0)} batches per job, one per episode, one per activity and one per start are the durable store's)`,
  );
  console.log(row(['', 'measured', 'goal', ''], widths));
  const lines: Array<[string, number, string, boolean | undefined]> = [
    [
      'ledger round trips',
      counts.ledgerTableOps,
      `≤ ${GOALS.ledgerRoundTripsPerJob}`,
      counts.ledgerTableOps <= GOALS.ledgerRoundTripsPerJob,
    ],
    [
      'durable-store operations',
      counts.durableStoreOps,
      `≤ ${GOALS.durableOpsPerJob}`,
      counts.durableStoreOps <= GOALS.durableOpsPerJob,
    ],
    [
      'orchestrator episodes (mean)',
      jobs.episodes.mean,
      `≤ ${GOALS.episodesPerJob}`,
      jobs.episodes.mean <= GOALS.episodesPerJob,
    ],
    ['Service Bus messages', counts.serviceBusMessages, '-', undefined],
    ['Service Bus operations (send+receive+complete)', serviceBusOperationsPerJob(counts), '-', undefined],
    ['activities', jobs.activitiesPerJob, '-', undefined],
    ['function executions', totalExecutions(counts.executions), '-', undefined],
    ['Durable Task Scheduler actions', counts.durableActions, '-', undefined],
  ];
  for (const [what, value, goal, met] of lines)
    console.log(row([what, fmt(value), goal, met === undefined ? '' : verdict(met)], widths));
}

function printThroughput(jobs: JobsFigures, bare: BareDurableFigures | undefined): void {
  const widths = [44, 10, 10, 10, 10];
  console.log(`\nThroughput and latency on devhost (${jobs.concurrency} in flight, Azurite on disk)`);
  console.log(row(['', 'jobs/s', 'p50 ms', 'p95 ms', 'p99 ms'], widths));
  console.log(
    row(
      ['Lucius 2-step job', fmt(jobs.perSecond), fmt(jobs.p50, 0), fmt(jobs.p95, 0), fmt(jobs.p99, 0)],
      widths,
    ),
  );
  if (bare === undefined) {
    console.log('bare orchestration: not measured (bench/bare-durable.bench.ts wrote nothing)');
    return;
  }
  console.log(
    row(
      [
        'bare Durable orchestration, 2 activities',
        fmt(bare.perSecond),
        fmt(bare.p50, 0),
        fmt(bare.p95, 0),
        fmt(bare.p99, 0),
      ],
      widths,
    ),
  );
  console.log(
    row(
      [
        'Lucius ÷ bare',
        fmt(jobs.perSecond / bare.perSecond, 2),
        fmt(jobs.p50 / bare.p50, 2),
        fmt(jobs.p95 / bare.p95, 2),
        fmt(jobs.p99 / bare.p99, 2),
      ],
      widths,
    ),
  );
  console.log(
    `bare: ${fmt(bare.tableOpsWithoutPolls)} table ops and ${fmt(bare.episodes.mean, 2)} episodes per orchestration (status polls left out)`,
  );
}

function printCost(counts: ReturnType<typeof jobCounts>, prices: Prices): void {
  const transitions = stepFunctionsTransitions(STEPS);
  const stepFunctions = stepFunctionsCostPerMillionJobs(transitions, prices);
  const widths = [22, 10, 10, 10, 12, 10, 10, 14, 10];
  console.log(
    `\nCost per million 2-step jobs, USD (bench/prices.json; executions of ${COMPUTE.meanExecutionMs} ms on ` +
      `${COMPUTE.instanceMemoryGb * 1024} MB, overlap ${COMPUTE.overlap}; marginal, no free grants)`,
  );
  console.log(
    row(
      ['Functions plan', 'ledger', 'durable', 'SB', 'executions', 'GB-s', 'total', 'Step Fns Std', 'ratio'],
      widths,
    ),
  );
  for (const plan of ['flexConsumption', 'consumption'] as FunctionsPlan[]) {
    const compute: ComputeAssumptions = { plan, ...COMPUTE };
    const cost = costPerMillionJobs(counts, prices, compute);
    const { ratio, goal, met } = costVerdict(cost.total, stepFunctions);
    console.log(
      row(
        [
          plan,
          fmt(cost.ledgerTable, 2),
          fmt(cost.durableTable, 2),
          fmt(cost.serviceBus, 2),
          fmt(cost.executions, 2),
          fmt(cost.gbSeconds, 2),
          fmt(cost.total, 2),
          fmt(stepFunctions, 2),
          fmt(ratio, 2),
        ],
        widths,
      ) + `  goal ≤ ${goal}: ${verdict(met)}`,
    );
  }
  console.log(
    `Step Functions Standard: ${transitions} state transitions per job (Run and Outcome per step, then Succeed; ` +
      `see stepFunctionsTransitions in bench/cost-model.ts) × $${prices.awsStepFunctionsStandard.perMillionStateTransitions} per million`,
  );
}

function printCapacity(counts: ReturnType<typeof jobCounts>, jobs: JobsFigures): void {
  const capacity: CapacityCounts = {
    ledgerTableOps: counts.ledgerTableOps,
    durableStoreOps: counts.durableStoreOps,
    orchestratorEpisodes: jobs.episodes.mean,
    executions: totalExecutions(counts.executions),
    serviceBusCredits: serviceBusCredits(
      jobs.directivesPerJob,
      jobs.repliesPerJob,
      FILTERS_PER_DIRECTIVE,
      FILTERS_PER_REPLY,
    ),
    durableTaskSchedulerActions: counts.durableActions,
    ledger: LEDGER_PARTITIONS,
  };
  console.log('\nCapacity on Azure, jobs/s (bench/capacity-model.ts; lowest binds first)');
  for (const deployment of DEPLOYMENTS) {
    const binding = bindingCeiling(capacity, deployment);
    console.log(`\n${deployment.name}: ${fmt(binding.jobsPerSecond)} jobs/s, bound by ${binding.resource}`);
    for (const c of ceilings(capacity, deployment))
      console.log(
        `  ${fmt(c.jobsPerSecond).padStart(9)}  ${c.resource.padEnd(52)} ${c.basis}; past it: ${c.remedy}`,
      );
  }
}

function main(): void {
  const dir = resultsDir();
  console.log(`\n=== Summary (issue 13 goals) — figures from ${dir} ===`);
  const admission = readResults<{ rows: AdmissionRow[] }>('admission', dir);
  const jobs = readResults<JobsFigures>('jobs', dir);
  const bare = readResults<BareDurableFigures>('bare-durable', dir);
  for (const [name, result] of [
    ['admission', admission],
    ['jobs', jobs],
    ['bare-durable', bare],
  ] as const)
    console.log(
      `${name.padEnd(14)} ${result === undefined ? 'no figures (run its benchmark first)' : `written ${result.writtenAt}`}`,
    );
  if (admission !== undefined) printAdmission(admission.figures.rows);
  if (jobs === undefined) return;
  const counts = jobCounts(jobs.figures);
  printPerJob(jobs.figures, counts);
  printThroughput(jobs.figures, bare?.figures);
  printCost(counts, loadPrices());
  printCapacity(counts, jobs.figures);
}

main();
