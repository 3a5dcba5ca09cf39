import {
  billedCompute,
  costPerMillionJobs,
  costVerdict,
  durableTaskSchedulerActions,
  gbSecondsPerJob,
  hourlyCostPerMillionJobs,
  replaceMeter,
  serviceBusOperationsPerJob,
  stepFunctionsCostPerMillionJobs,
  stepFunctionsTransitions,
  totalExecutions,
  type JobCounts,
  type Prices,
} from '../../../bench/cost-model';
import prices from '../../../bench/prices.json';

/** Round figures, so every expected value below is plain arithmetic. */
const PRICES: Prices = {
  azureTableStorage: { transactionsPer10k: 0.0004 },
  serviceBus: { standardPerMillionOperations: 0.8, premiumPerMessagingUnitHour: 1 },
  functionsFlexConsumption: { perMillionExecutions: 0.4, perGbSecond: 0.00002 },
  functionsConsumption: { perMillionExecutions: 0.2, perGbSecond: 0.00001 },
  functionsElasticPremium: { ep1PerInstanceHour: 0.2 },
  awsStepFunctionsStandard: { perMillionStateTransitions: 25 },
};

const COUNTS: JobCounts = {
  ledgerTableOps: 20,
  durableStoreOps: 30,
  serviceBusMessages: 6,
  executions: { http: 1, orchestratorEpisodes: 6, activities: 10, serviceBusTriggers: 3 },
};

describe('cost model', () => {
  it('adds every kind of execution', () => {
    expect(totalExecutions(COUNTS.executions)).toBe(20);
  });

  it('counts send, receive and complete for each Service Bus message', () => {
    expect(serviceBusOperationsPerJob(COUNTS)).toBe(18);
  });

  it('bills GB-s as executions × duration × memory, shared by overlapping executions', () => {
    const compute = { plan: 'flexConsumption' as const, meanExecutionMs: 50, instanceMemoryGb: 2 };
    expect(gbSecondsPerJob(COUNTS.executions, compute)).toBeCloseTo(2, 10);
    expect(gbSecondsPerJob(COUNTS.executions, { ...compute, overlap: 4 })).toBeCloseTo(0.5, 10);
    expect(() => gbSecondsPerJob(COUNTS.executions, { ...compute, overlap: 0.5 })).toThrow(RangeError);
  });

  it('prices a million jobs meter by meter on Flex Consumption', () => {
    const cost = costPerMillionJobs(COUNTS, PRICES, {
      plan: 'flexConsumption',
      meanExecutionMs: 50,
      instanceMemoryGb: 2,
    });
    expect(cost.ledgerTable).toBeCloseTo(0.8, 10); // 20 × 1e6 / 1e4 × 0.0004
    expect(cost.durableTable).toBeCloseTo(1.2, 10);
    expect(cost.serviceBus).toBeCloseTo(14.4, 10); // 18 ops × $0.8 per million
    expect(cost.executions).toBeCloseTo(8, 10); // 20 × $0.4
    expect(cost.gbSeconds).toBeCloseTo(40, 10); // 2 GB-s × 1e6 × 0.00002
    expect(cost.total).toBeCloseTo(64.4, 10);
  });

  it('uses the Consumption plan prices when asked', () => {
    const cost = costPerMillionJobs(COUNTS, PRICES, {
      plan: 'consumption',
      meanExecutionMs: 100,
      instanceMemoryGb: 1,
    });
    expect(cost.executions).toBeCloseTo(4, 10);
    expect(cost.gbSeconds).toBeCloseTo(20, 10); // 20 × 0.1 s × 1 GB × 1e6 × 0.00001
  });

  it('bills Consumption per execution: at least 100 ms, memory rounded up to 128 MB, no overlap', () => {
    const base = { plan: 'consumption' as const, instanceMemoryGb: 300 / 1024, overlap: 8 };
    expect(billedCompute({ ...base, meanExecutionMs: 30 })).toEqual({
      executionMs: 100,
      memoryGb: 384 / 1024,
      overlap: 1,
    });
    expect(billedCompute({ ...base, meanExecutionMs: 250, instanceMemoryGb: 0.01 })).toEqual({
      executionMs: 250,
      memoryGb: 128 / 1024,
      overlap: 1,
    });
    // 20 executions × 0.1 s × 0.375 GB: the overlap of 8 does not divide it
    expect(gbSecondsPerJob(COUNTS.executions, { ...base, meanExecutionMs: 30 })).toBeCloseTo(0.75, 10);
  });

  it('bills Flex the instance memory for the mean duration, shared by the overlap, with no minimum', () => {
    expect(
      billedCompute({ plan: 'flexConsumption', meanExecutionMs: 30, instanceMemoryGb: 2, overlap: 3 }),
    ).toEqual({ executionMs: 30, memoryGb: 2, overlap: 3 });
    expect(() =>
      billedCompute({ plan: 'flexConsumption', meanExecutionMs: -1, instanceMemoryGb: 2 }),
    ).toThrow(RangeError);
  });

  it('prices a tier billed by the hour at full use: hourly price over the jobs of an hour at its ceiling', () => {
    expect(hourlyCostPerMillionJobs(3.6, 100)).toBeCloseTo(10, 10); // $3.6 / 360,000 jobs × 1e6
    expect(() => hourlyCostPerMillionJobs(1, 0)).toThrow(RangeError);
  });

  it('replaces one meter and keeps the total consistent', () => {
    const cost = costPerMillionJobs(COUNTS, PRICES, {
      plan: 'flexConsumption',
      meanExecutionMs: 50,
      instanceMemoryGb: 2,
    });
    const premium = replaceMeter(cost, 'serviceBus', 2);
    expect(premium.serviceBus).toBe(2);
    expect(premium.total).toBeCloseTo(64.4 - 14.4 + 2, 10);
  });

  it('counts the Step Functions state machine: two states per step, the final Succeed, three per retry', () => {
    expect(stepFunctionsTransitions(2)).toBe(5);
    expect(stepFunctionsTransitions(2, 1)).toBe(8);
    expect(stepFunctionsTransitions(1)).toBe(3);
    expect(() => stepFunctionsTransitions(0)).toThrow(RangeError);
    expect(() => stepFunctionsTransitions(2, -1)).toThrow(RangeError);
    expect(stepFunctionsCostPerMillionJobs(5, PRICES)).toBe(125);
  });

  it('meets the goal at one tenth of Step Functions and not above', () => {
    expect(costVerdict(12.5, 125)).toEqual({ ratio: 0.1, goal: 0.1, met: true });
    expect(costVerdict(64.4, 125).met).toBe(false);
    expect(costVerdict(64.4, 125).ratio).toBeCloseTo(0.5152, 10);
  });

  it('counts Durable Task Scheduler actions: the start, two per activity, one per event', () => {
    expect(durableTaskSchedulerActions(COUNTS.executions, 4)).toBe(25);
  });

  it('reads the price list the summary uses', () => {
    const list: Prices = prices;
    expect(stepFunctionsCostPerMillionJobs(stepFunctionsTransitions(2), list)).toBe(125);
    for (const meter of Object.values(prices).filter((v) => typeof v === 'object' && v !== null))
      expect(meter).toEqual(
        expect.objectContaining({ date: expect.any(String), source: expect.stringMatching(/^https:\/\//) }),
      );
  });
});
