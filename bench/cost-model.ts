/**
 * The cost model (pure): operation counts per job, as the benchmarks measure them, turned into a
 * cost per million 2-step jobs on Azure at list prices (bench/prices.json), beside what AWS Step
 * Functions Standard charges for the state transitions of an equivalent state machine.
 *
 * Marginal volume only: base charges and monthly free grants are left out, and Service Bus
 * operations are priced at the tier after the included 13M. What each count means:
 *  - Table transactions: every REST request is one (a batch is one); the ledger's and the durable
 *    backend's are priced alike (the Azure Storage provider's queue and blob requests are priced
 *    at the table rate too);
 *  - Service Bus operations: each message is sent, received and completed (peek-lock), each an
 *    operation;
 *  - function executions: the admission (HTTP), every orchestrator episode, every activity and
 *    every reply the Service Bus trigger takes. GB-s by plan (`billedCompute`):
 *    Flex Consumption (on demand) bills the instance's memory while it runs at least one execution,
 *    so executions that overlap on one instance share it: GB-s = executions × mean duration ×
 *    instance memory ÷ overlap (1 is the upper bound);
 *    legacy Consumption bills each execution: its duration, at least 100 ms, × the process's memory
 *    rounded up to a multiple of 128 MB; the overlap is not applied (an upper bound: Microsoft says
 *    the calculation "takes into account concurrency", without saying how);
 *  - a tier billed by the hour (Service Bus Premium messaging units, an Elastic Premium instance)
 *    costs, per job, its hourly price ÷ the jobs it carries in an hour at its ceiling
 *    (`hourlyCostPerMillionJobs`): at full use of the tier, the lowest such a tier can cost.
 */

/** The subset of bench/prices.json the model reads (USD). */
export interface Prices {
  readonly azureTableStorage: { readonly transactionsPer10k: number };
  readonly serviceBus: {
    readonly standardPerMillionOperations: number;
    readonly premiumPerMessagingUnitHour: number;
  };
  readonly functionsFlexConsumption: FunctionsPrices;
  readonly functionsConsumption: FunctionsPrices;
  readonly functionsElasticPremium: { readonly ep1PerInstanceHour: number | null };
  readonly awsStepFunctionsStandard: { readonly perMillionStateTransitions: number };
}

export interface FunctionsPrices {
  readonly perMillionExecutions: number;
  readonly perGbSecond: number;
}

export type FunctionsPlan = 'flexConsumption' | 'consumption';

const PLAN_PRICES: Readonly<Record<FunctionsPlan, 'functionsFlexConsumption' | 'functionsConsumption'>> = {
  flexConsumption: 'functionsFlexConsumption',
  consumption: 'functionsConsumption',
};

/** Function executions of one job, by kind. */
export interface Executions {
  readonly http: number;
  readonly orchestratorEpisodes: number;
  readonly activities: number;
  readonly serviceBusTriggers: number;
}

/** What one job costs in operations (means over a run). */
export interface JobCounts {
  /** Table transactions of the app's ledger (status polls left out). */
  readonly ledgerTableOps: number;
  /** Storage transactions of the durable backend (Azure Storage provider). */
  readonly durableStoreOps: number;
  /** Service Bus messages: directives and replies. */
  readonly serviceBusMessages: number;
  readonly executions: Executions;
}

/** How executions are billed: their mean duration and the memory billed while they run. */
export interface ComputeAssumptions {
  readonly plan: FunctionsPlan;
  readonly meanExecutionMs: number;
  /** Flex: the instance memory (instanceMemoryMB); Consumption: the process's memory, before rounding. */
  readonly instanceMemoryGb: number;
  /** Executions sharing one instance's billed memory at a time (1: none; the upper bound). Flex only. */
  readonly overlap?: number;
}

/** What the plan bills for an execution: its duration, the memory and the sharing applied. */
export interface BilledCompute {
  readonly executionMs: number;
  readonly memoryGb: number;
  readonly overlap: number;
}

/** Dollars per million jobs, by meter. */
export interface CostBreakdown {
  readonly ledgerTable: number;
  readonly durableTable: number;
  readonly serviceBus: number;
  readonly executions: number;
  readonly gbSeconds: number;
  readonly total: number;
}

const MILLION = 1_000_000;

/** Send, receive and complete: a message's operations in peek-lock mode. */
export const SERVICE_BUS_OPERATIONS_PER_MESSAGE = 3;

/** The goal of issue 13: a job costs at most a tenth of the Step Functions Standard equivalent. */
export const COST_RATIO_GOAL = 0.1;

/** Legacy Consumption: memory is billed in steps of 128 MB, and an execution for at least 100 ms. */
export const CONSUMPTION_MEMORY_STEP_MB = 128;
export const CONSUMPTION_MINIMUM_EXECUTION_MS = 100;

export function totalExecutions(executions: Executions): number {
  return (
    executions.http + executions.orchestratorEpisodes + executions.activities + executions.serviceBusTriggers
  );
}

/**
 * The plan's billing rules applied to `compute`: Flex bills the instance memory for the mean
 * duration, shared by `overlap`; Consumption bills at least 100 ms of the memory rounded up to 128 MB,
 * each execution on its own (the overlap is not applied; with a mean duration, the 100 ms minimum is
 * exact when every execution is shorter or every one longer, a lower bound otherwise).
 */
export function billedCompute(compute: ComputeAssumptions): BilledCompute {
  const overlap = compute.overlap ?? 1;
  if (!(overlap >= 1)) throw new RangeError(`overlap must be at least 1, got ${overlap}`);
  if (!(compute.meanExecutionMs >= 0))
    throw new RangeError(`meanExecutionMs must be non-negative, got ${compute.meanExecutionMs}`);
  if (compute.plan === 'flexConsumption')
    return { executionMs: compute.meanExecutionMs, memoryGb: compute.instanceMemoryGb, overlap };
  const memoryMb =
    Math.ceil((compute.instanceMemoryGb * 1024) / CONSUMPTION_MEMORY_STEP_MB) * CONSUMPTION_MEMORY_STEP_MB;
  return {
    executionMs: Math.max(compute.meanExecutionMs, CONSUMPTION_MINIMUM_EXECUTION_MS),
    memoryGb: Math.max(memoryMb, CONSUMPTION_MEMORY_STEP_MB) / 1024,
    overlap: 1,
  };
}

/** GB-s of one job as the plan bills them: executions × duration × memory ÷ overlap (`billedCompute`). */
export function gbSecondsPerJob(executions: Executions, compute: ComputeAssumptions): number {
  const billed = billedCompute(compute);
  return (totalExecutions(executions) * (billed.executionMs / 1000) * billed.memoryGb) / billed.overlap;
}

/**
 * Dollars per million jobs of a tier billed by the hour, at full use: its hourly price ÷ the jobs it
 * carries in an hour at `jobsPerSecond` (its ceiling).
 */
export function hourlyCostPerMillionJobs(hourlyUsd: number, jobsPerSecond: number): number {
  if (!(jobsPerSecond > 0)) throw new RangeError(`jobsPerSecond must be positive, got ${jobsPerSecond}`);
  return (hourlyUsd / (jobsPerSecond * 3600)) * MILLION;
}

export function serviceBusOperationsPerJob(counts: JobCounts): number {
  return counts.serviceBusMessages * SERVICE_BUS_OPERATIONS_PER_MESSAGE;
}

export type Meter = Exclude<keyof CostBreakdown, 'total'>;

/** `cost` with `meter` priced at `perMillionJobs` instead (e.g. a tier billed by the hour), total updated. */
export function replaceMeter(cost: CostBreakdown, meter: Meter, perMillionJobs: number): CostBreakdown {
  return { ...cost, [meter]: perMillionJobs, total: cost.total - cost[meter] + perMillionJobs };
}

/** A million jobs on Azure: Table Storage, Service Bus Standard and Functions, by meter. */
export function costPerMillionJobs(
  counts: JobCounts,
  prices: Prices,
  compute: ComputeAssumptions,
): CostBreakdown {
  const perTransaction = prices.azureTableStorage.transactionsPer10k / 10_000;
  const functions = prices[PLAN_PRICES[compute.plan]];
  const ledgerTable = counts.ledgerTableOps * perTransaction * MILLION;
  const durableTable = counts.durableStoreOps * perTransaction * MILLION;
  const serviceBus = serviceBusOperationsPerJob(counts) * prices.serviceBus.standardPerMillionOperations;
  const executions = totalExecutions(counts.executions) * functions.perMillionExecutions;
  const gbSeconds = gbSecondsPerJob(counts.executions, compute) * functions.perGbSecond * MILLION;
  return {
    ledgerTable,
    durableTable,
    serviceBus,
    executions,
    gbSeconds,
    total: ledgerTable + durableTable + serviceBus + executions + gbSeconds,
  };
}

/**
 * State transitions of the Step Functions Standard state machine equivalent to a job of `steps`
 * steps, each retried `retries` times in all. The state machine (Amazon States Language, in short):
 *
 *   Run<Step>      Task, arn:aws:states:::sqs:sendMessage.waitForTaskToken: sends the directive and
 *                  waits for the worker's callback (its ACK and heartbeats are SendTaskHeartbeat, its
 *                  RESULT SendTaskSuccess / SendTaskFailure; HeartbeatSeconds is the lease,
 *                  TimeoutSeconds the result deadline); Catch → <Step>Outcome
 *   <Step>Outcome  Choice: succeeded → Run<NextStep> (after the last step: JobSucceeded);
 *                  retryable failure with attempts left → <Step>Backoff; otherwise → JobFailed
 *   <Step>Backoff  Wait (the backoff) → Run<Step>
 *   JobSucceeded   Succeed            JobFailed   Fail
 *
 * Every state entered is a transition, so a job whose steps all succeed first time costs two per
 * step plus the final Succeed, and each retry adds Backoff, Run and Outcome. Job status comes from
 * DescribeExecution, so no state writes a ledger: the machine is as lean as Step Functions allows,
 * which makes the comparison strict for Lucius. Its SQS messages and compute are not counted.
 */
export function stepFunctionsTransitions(steps: number, retries = 0): number {
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(retries) || retries < 0)
    throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
  return 2 * steps + 1 + 3 * retries;
}

export function stepFunctionsCostPerMillionJobs(transitions: number, prices: Prices): number {
  return transitions * prices.awsStepFunctionsStandard.perMillionStateTransitions;
}

/** Lucius's cost beside Step Functions': their ratio and whether it meets the goal (≤ 1/10). */
export function costVerdict(
  lucius: number,
  stepFunctions: number,
): { readonly ratio: number; readonly goal: number; readonly met: boolean } {
  const ratio = lucius / stepFunctions;
  return { ratio, goal: COST_RATIO_GOAL, met: ratio <= COST_RATIO_GOAL };
}

/**
 * Durable Task Scheduler actions of one job: the orchestration's start, two per activity (scheduled,
 * result processed) and one per external event raised (the replies). Timers that were cancelled
 * are not counted.
 */
export function durableTaskSchedulerActions(executions: Executions, externalEvents: number): number {
  return 1 + 2 * executions.activities + externalEvents;
}
