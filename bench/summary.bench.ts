/**
 * Summary (`npm run bench`, last): reads the figures the other benchmarks wrote to the results
 * folder (bench/results.ts) in this run and prints each beside its goal from issue 13, with the
 * cost per million 2-step jobs beside AWS Step Functions (bench/cost-model.ts, bench/prices.json)
 * and the jobs/s ceilings on Azure (bench/capacity-model.ts). Prints, never asserts; a benchmark
 * that wrote nothing is said so and its rows are left out.
 *
 * Compute is priced with what the jobs benchmark measured on devhost (GET /admin/host/executions):
 * the mean wall duration of a job's executions and the host's mean overlap (executions at once
 * while any runs), and devhost's highest RSS sample as the process memory the Consumption plan
 * bills. Knobs override them, and the printout says which was used: BENCH_MEAN_EXECUTION_MS,
 * BENCH_EXECUTION_OVERLAP, BENCH_CONSUMPTION_MEMORY_MB; BENCH_INSTANCE_MEMORY_MB is the Flex
 * instance memory (2048, as infra/ deploys). Figures written before the benchmark measured them
 * fall back to 50 ms and no overlap, printed as assumed. Beside the measured overlap, the same run
 * with no overlap (the upper bound); beside the pay-per-use rows, tiers billed by the hour at full
 * use (Service Bus Premium, Elastic Premium EP1), at the capacity model's ceiling.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BareDurableFigures } from './bare-durable.bench';
import type { JobsFigures, RoundFigures } from './jobs.bench';
import {
  bindingCeiling,
  ceilings,
  DEPLOYMENTS,
  serviceBusCredits,
  type CapacityCounts,
  type Deployment,
} from './capacity-model';
import {
  billedCompute,
  costPerMillionJobs,
  costVerdict,
  durableTaskSchedulerActions,
  hourlyCostPerMillionJobs,
  replaceMeter,
  serviceBusOperationsPerJob,
  stepFunctionsCostPerMillionJobs,
  stepFunctionsTransitions,
  totalExecutions,
  type ComputeAssumptions,
  type CostBreakdown,
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
  finishedWritesPerJob: 1,
  counterUpdatesPerJob: 2,
} as const;
/**
 * The URL segment of an entity group transaction: the jobs benchmark counts one as `$batch:<table>`
 * (the table its body names), or as `$batch` alone in figures written before it read the body.
 */
const BATCH = '$batch';

/** The table a counted request went to (`$batch:<table>` → `<table>`); undefined for a batch it does not name. */
function tableOf(key: string): string | undefined {
  if (key === BATCH || key === `${BATCH}:?`) return undefined;
  return key.startsWith(`${BATCH}:`) ? key.slice(BATCH.length + 1) : key;
}

/** Batches per job, and those whose table is unknown. */
function batchesOf(jobs: RoundFigures): { readonly all: number; readonly unnamed: number } {
  const entries = Object.entries(jobs.tableOpsPerJobByTable).filter(([key]) => key.startsWith(BATCH));
  return {
    all: entries.reduce((sum, [, n]) => sum + n, 0),
    unnamed: entries.filter(([key]) => tableOf(key) === undefined).reduce((sum, [, n]) => sum + n, 0),
  };
}
/** Used when the jobs figures carry no measured execution (written before devhost measured them). */
const ASSUMED = { meanExecutionMs: 50, overlap: 1, consumptionMemoryMb: 2048 } as const;
/** Flex instance memory, as infra/main.bicep deploys (instanceMemoryMB). */
const FLEX_INSTANCE_MEMORY_MB = Number(process.env.BENCH_INSTANCE_MEMORY_MB ?? 2048);

/** A compute figure and where it comes from. */
interface Figure {
  readonly value: number;
  readonly from: string;
}

/** What the cost rows price compute with: measured, unless a knob overrides it. */
interface Compute {
  readonly meanExecutionMs: Figure;
  readonly overlap: Figure;
  readonly consumptionMemoryMb: Figure;
}

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

/** The job's counts for the models, from what a round of the jobs benchmark measured. */
function jobCounts(jobs: RoundFigures, taskHub: string): JobCounts & { readonly durableActions: number } {
  const hub = taskHub.toLowerCase();
  // Polls left out table by table where the figures have it (the polls read the ledger only).
  const byTable = jobs.tableOpsWithoutPollsByTable ?? jobs.tableOpsPerJobByTable;
  const durableTables = Object.entries(byTable)
    .filter(([key]) => tableOf(key)?.toLowerCase().startsWith(hub) === true)
    .reduce((sum, [, n]) => sum + n, 0);
  // A batch counted without its table (older figures): the durable store writes one per episode
  // (its commit), one per activity result (it replaces the activity's work item) and one for the
  // start (devhost/durable/engine/table-store.ts); the ledger the rest.
  const durableBatches = jobs.episodes.mean + jobs.activitiesPerJob + 1;
  const durableStoreOps = durableTables + Math.min(batchesOf(jobs).unnamed, durableBatches);
  const executions = {
    http: 1,
    orchestratorEpisodes: jobs.episodes.mean,
    activities: jobs.activitiesPerJob,
    serviceBusTriggers: jobs.repliesPerJob,
  };
  return {
    ledgerTableOps:
      jobs.tableOpsWithoutPollsByTable === undefined
        ? jobs.tableOpsWithoutPolls - durableStoreOps
        : Object.values(byTable).reduce((sum, n) => sum + n, 0) - durableStoreOps,
    durableStoreOps,
    serviceBusMessages: jobs.directivesPerJob + jobs.repliesPerJob,
    executions,
    durableActions: durableTaskSchedulerActions(executions, jobs.eventsRaisedPerJob),
  };
}

/** The lazy-ACK round's counts, when the jobs benchmark ran one. */
function lazyCounts(jobs: JobsFigures): ReturnType<typeof jobCounts> | undefined {
  return jobs.lazyAck === undefined ? undefined : jobCounts(jobs.lazyAck, jobs.taskHub);
}

function printPerJob(jobs: JobsFigures, counts: ReturnType<typeof jobCounts>): void {
  const lazy = lazyCounts(jobs);
  const lazyLabel = `, workers with lazy ACK (${jobs.lazyAck?.jobs ?? 0} jobs)`;
  const batches = batchesOf(jobs);
  const widths = [lazy === undefined ? 44 : 66, 12, 12, 10];
  console.log(
    `\nPer 2-step job (bench/jobs.bench.ts: ${jobs.jobs} jobs, status polls left out; ` +
      (batches.unnamed === 0
        ? `${fmt(batches.all)} batches per job, each counted for the table it writes)`
        : `of the ${fmt(batches.unnamed)} batches per job counted without their table, one per episode, one per activity and one per start are the durable store's)`),
  );
  console.log(row(['', 'measured', 'goal', ''], widths));
  type Line = [string, number, string, boolean | undefined];
  const lines: Line[] = [
    [
      'ledger round trips',
      counts.ledgerTableOps,
      `≤ ${GOALS.ledgerRoundTripsPerJob}`,
      counts.ledgerTableOps <= GOALS.ledgerRoundTripsPerJob,
    ],
    ...(lazy === undefined
      ? []
      : [[`ledger round trips${lazyLabel}`, lazy.ledgerTableOps, '-', undefined] satisfies Line]),
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
    ...(lazy === undefined
      ? []
      : [[`Service Bus messages${lazyLabel}`, lazy.serviceBusMessages, '-', undefined] satisfies Line]),
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

/** Measured by the jobs benchmark, or the knob that overrides it, or the old assumption. */
function compute(jobs: JobsFigures): Compute {
  const measured = jobs.executions as JobsFigures['executions'] | undefined;
  const pick = (knob: string, value: number | undefined, assumed: number, what: string): Figure => {
    const set = process.env[knob];
    if (set !== undefined && set !== '') return { value: Number(set), from: `${knob} (override)` };
    return value === undefined ? { value: assumed, from: 'assumed' } : { value, from: what };
  };
  return {
    meanExecutionMs: pick(
      'BENCH_MEAN_EXECUTION_MS',
      measured?.meanDurationMs,
      ASSUMED.meanExecutionMs,
      'measured',
    ),
    overlap: pick('BENCH_EXECUTION_OVERLAP', measured?.meanOverlap, ASSUMED.overlap, 'measured'),
    consumptionMemoryMb: pick(
      'BENCH_CONSUMPTION_MEMORY_MB',
      measured === undefined ? undefined : measured.maxRssBytes / 2 ** 20,
      ASSUMED.consumptionMemoryMb,
      "devhost's highest RSS",
    ),
  };
}

function printExecutions(jobs: JobsFigures): void {
  const measured = jobs.executions as JobsFigures['executions'] | undefined;
  if (measured === undefined) {
    console.log(
      '\nExecutions: not measured (figures from a jobs benchmark without devhost execution accounting)',
    );
    return;
  }
  const kinds = Object.keys(measured.perJobByKind).sort();
  const widths = [44, 12, 12, 16];
  console.log(
    `\nFunction executions per job on devhost (GET /admin/host/executions, measured round only; status polls apart)`,
  );
  console.log(row(['kind', 'per job', 'mean ms', 'longest ms (all)'], widths));
  for (const kind of kinds)
    console.log(
      row(
        [
          kind,
          fmt(measured.perJobByKind[kind] ?? 0, 2),
          fmt(measured.meanDurationMsByKind[kind] ?? 0),
          fmt(measured.maxDurationMsByKind[kind] ?? 0, 0),
        ],
        widths,
      ),
    );
  console.log(
    `job executions: mean ${fmt(measured.meanDurationMs)} ms; overlap ${fmt(measured.meanOverlap, 2)} ` +
      `(their durations ÷ ${fmt(measured.busySeconds)} s busy, summed over Flex scaling groups: each HTTP and Service Bus ` +
      `function, orchestrations, activities; by group: ${Object.entries(measured.overlapByGroup ?? {})
        .map(([group, overlap]) => `${group} ${fmt(overlap, 2)}`)
        .join(', ')}; host-wide ${fmt(measured.hostOverlap, 2)}; at ${jobs.concurrency} jobs in flight ` +
      `on one process: a lower load overlaps less); status polls ${fmt(measured.statusPollsPerJob)}/job of ` +
      `${fmt(measured.statusPollMeanMs)} ms (left out); ${measured.timerExecutions} timer runs; ` +
      `${measured.failedExecutions} failed; devhost RSS max ${fmt(measured.maxRssBytes / 2 ** 20, 0)} MB ` +
      `(the Service Bus emulator runs in that process too)`,
  );
}

interface CostRow {
  readonly label: string;
  readonly cost: CostBreakdown;
}

function printCost(
  counts: ReturnType<typeof jobCounts>,
  prices: Prices,
  jobs: JobsFigures,
  deployments: readonly Deployment[],
  capacity: CapacityCounts,
): void {
  const transitions = stepFunctionsTransitions(STEPS);
  const stepFunctions = stepFunctionsCostPerMillionJobs(transitions, prices);
  const used = compute(jobs);
  const flex: ComputeAssumptions = {
    plan: 'flexConsumption',
    meanExecutionMs: used.meanExecutionMs.value,
    instanceMemoryGb: FLEX_INSTANCE_MEMORY_MB / 1024,
    overlap: Math.max(1, used.overlap.value),
  };
  const consumption: ComputeAssumptions = {
    plan: 'consumption',
    meanExecutionMs: used.meanExecutionMs.value,
    instanceMemoryGb: used.consumptionMemoryMb.value / 1024,
  };
  const billed = billedCompute(consumption);
  const flexCost = costPerMillionJobs(counts, prices, flex);
  const rows: CostRow[] = [
    { label: `Flex, overlap ${fmt(flex.overlap ?? 1, 2)}`, cost: flexCost },
    {
      label: 'Flex, no overlap (bound)',
      cost: costPerMillionJobs(counts, prices, { ...flex, overlap: 1 }),
    },
    { label: 'Consumption (legacy)', cost: costPerMillionJobs(counts, prices, consumption) },
  ];
  const lazy = lazyCounts(jobs);
  if (lazy !== undefined)
    rows.push(
      {
        label: `Flex, overlap ${fmt(flex.overlap ?? 1, 2)}, workers with lazy ACK`,
        cost: costPerMillionJobs(lazy, prices, flex),
      },
      {
        label: 'Consumption (legacy), workers with lazy ACK',
        cost: costPerMillionJobs(lazy, prices, consumption),
      },
    );
  const tiers: CostRow[] = [];
  const notes: string[] = [];
  for (const deployment of deployments) {
    if (deployment.serviceBus.tier !== 'premium') continue;
    const binding = bindingCeiling(capacity, deployment);
    const mu = deployment.serviceBus.messagingUnits;
    if (deployment.durable.kind !== 'azureStorage') {
      notes.push(
        `${deployment.name}: not priced (the Durable Task Scheduler's price is missing from bench/prices.json)`,
      );
      continue;
    }
    const premium = hourlyCostPerMillionJobs(
      mu * prices.serviceBus.premiumPerMessagingUnitHour,
      binding.jobsPerSecond,
    );
    tiers.push({ label: `Flex + SB Premium ${mu} MU*`, cost: replaceMeter(flexCost, 'serviceBus', premium) });
    notes.push(
      `* SB Premium ${mu} MU × $${prices.serviceBus.premiumPerMessagingUnitHour}/MU-hour at full use of the tier: ` +
        `${fmt(binding.jobsPerSecond)} jobs/s, the ceiling of "${deployment.name}" (bound by ${binding.resource})`,
    );
  }
  const ep1 = prices.functionsElasticPremium.ep1PerInstanceHour;
  const asDeployed = deployments[0];
  if (ep1 === null || asDeployed === undefined) {
    notes.push('Elastic Premium EP1: not priced (its price is missing from bench/prices.json)');
  } else {
    const oneInstance: Deployment = {
      ...asDeployed,
      name: 'one EP1 instance, Service Bus Standard',
      maximumInstances: 1,
      functionsPlan: 'elasticPremium',
    };
    const binding = bindingCeiling(capacity, oneInstance);
    const instance = hourlyCostPerMillionJobs(ep1, binding.jobsPerSecond);
    tiers.push({
      label: 'EP1 ×1 + SB Standard†',
      cost: replaceMeter(replaceMeter(flexCost, 'executions', 0), 'gbSeconds', instance),
    });
    notes.push(
      `† EP1 at $${ep1}/instance-hour (UNVERIFIED list price, see bench/prices.json), no execution charge, at full use ` +
        `of the tier: ${fmt(binding.jobsPerSecond)} jobs/s, bound by ${binding.resource} ` +
        `(${oneInstance.concurrencyPerInstance} executions at once of ${fmt(used.meanExecutionMs.value)} ms, as the capacity model assumes)`,
    );
  }

  const labelWidth = Math.max(28, ...[...rows, ...tiers].map((r) => r.label.length + 2));
  const widths = [labelWidth, 9, 9, 9, 12, 10, 10, 14, 8];
  console.log(
    `\nCost per million 2-step jobs, USD (bench/prices.json; marginal, no free grants). Compute: mean execution ` +
      `${fmt(used.meanExecutionMs.value)} ms (${used.meanExecutionMs.from}), overlap ${fmt(used.overlap.value, 2)} ` +
      `(${used.overlap.from}); Flex ${FLEX_INSTANCE_MEMORY_MB} MB per instance; Consumption billed ` +
      `${fmt(billed.executionMs)} ms × ${fmt(billed.memoryGb * 1024, 0)} MB per execution ` +
      `(${fmt(used.consumptionMemoryMb.value, 0)} MB, ${used.consumptionMemoryMb.from}, rounded up to 128 MB; the 100 ms minimum applied to the mean, a lower bound when some executions are shorter and some longer; no overlap)`,
  );
  console.log(
    row(
      ['plan', 'ledger', 'durable', 'SB', 'executions', 'compute', 'total', 'Step Fns Std', 'ratio'],
      widths,
    ),
  );
  const print = ({ label, cost }: CostRow): void => {
    const { ratio, goal, met } = costVerdict(cost.total, stepFunctions);
    console.log(
      row(
        [
          label,
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
      ) + `  goal ≤ ${goal} ($${fmt(stepFunctions * goal, 2)}): ${verdict(met)}`,
    );
  };
  rows.forEach(print);
  console.log('tiers billed by the hour, at full use of the tier (the least they can cost per job):');
  tiers.forEach(print);
  for (const note of notes) console.log(note);
  if (jobs.lazyAck !== undefined)
    console.log(
      `workers with lazy ACK: the jobs benchmark's second round (${jobs.lazyAck.jobs} jobs, instant workers with ` +
        `ackAfterMs ${jobs.lazyAck.ackAfterMs}: the RESULT alone, which implies the ACK), its own ledger round trips, ` +
        `Service Bus messages and executions, priced with the same mean execution and overlap as the rows above`,
    );
  console.log(
    `Step Functions Standard: ${transitions} state transitions per job (Run and Outcome per step, then Succeed; ` +
      `see stepFunctionsTransitions in bench/cost-model.ts) × $${prices.awsStepFunctionsStandard.perMillionStateTransitions} per million. ` +
      `Durations are devhost's, against Azurite on this machine, not Azure's round trips.`,
  );
}

function capacityCounts(counts: ReturnType<typeof jobCounts>, jobs: JobsFigures): CapacityCounts {
  return {
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
}

/** The capacity model's deployments with the mean execution the cost rows use. */
function deploymentsFor(jobs: JobsFigures): Deployment[] {
  const meanExecutionMs = compute(jobs).meanExecutionMs.value;
  return DEPLOYMENTS.map((deployment) => ({ ...deployment, meanExecutionMs }));
}

function printCapacity(capacity: CapacityCounts, deployments: readonly Deployment[], mean: Figure): void {
  console.log(
    `\nCapacity on Azure, jobs/s (bench/capacity-model.ts; lowest binds first; executions of ${fmt(mean.value)} ms, ${mean.from})`,
  );
  for (const deployment of deployments) {
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
  const counts = jobCounts(jobs.figures, jobs.figures.taskHub);
  printPerJob(jobs.figures, counts);
  printThroughput(jobs.figures, bare?.figures);
  const capacity = capacityCounts(counts, jobs.figures);
  const deployments = deploymentsFor(jobs.figures);
  printExecutions(jobs.figures);
  printCost(counts, loadPrices(), jobs.figures, deployments, capacity);
  printCapacity(capacity, deployments, compute(jobs.figures).meanExecutionMs);
}

main();
