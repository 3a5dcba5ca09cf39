import {
  bindingCeiling,
  ceilings,
  DEPLOYMENTS,
  serviceBusCredits,
  type CapacityCounts,
  type Deployment,
} from '../../../bench/capacity-model';

const COUNTS: CapacityCounts = {
  ledgerTableOps: 100,
  durableStoreOps: 60,
  orchestratorEpisodes: 6,
  executions: 20,
  serviceBusCredits: 20,
  durableTaskSchedulerActions: 25,
  ledger: { activeShards: 16, activeShardOpsPerJob: 3, finishedWritesPerJob: 1, counterUpdatesPerJob: 2 },
};

const STANDARD: Deployment = {
  name: 'standard',
  sharedStorageAccount: true,
  durable: { kind: 'azureStorage', partitionCount: 4, concurrentEpisodesPerWorker: 10 },
  serviceBus: { tier: 'standard' },
  maximumInstances: 100,
  concurrencyPerInstance: 16,
  meanExecutionMs: 50,
  tenants: 8,
  storageRoundTripMs: 10,
};

function byResource(deployment: Deployment, counts = COUNTS): Map<string, number> {
  return new Map(ceilings(counts, deployment).map((c) => [c.resource, c.jobsPerSecond]));
}

describe('capacity model', () => {
  it('derives each ceiling from the documented limits and the counts', () => {
    const found = byResource(STANDARD);
    expect(found.get('storage account (ledger + durable)')).toBeCloseTo(125, 10); // 20,000 / 160
    expect(found.get('work-list shards (16 partitions)')).toBe(8000); // 16 × 2,000 / (3 + 1)
    expect(found.get("tenants' in-flight counters (8 tenants)")).toBe(200); // 8 × (1000 / 20 ms) / 2
    expect(found.get('durable partitions (Azure Storage, 4)')).toBeCloseTo(66.667, 2); // 4 × 10 / (10 × 10 ms) / 6
    expect(found.get('Service Bus Standard namespace')).toBe(50); // 1,000 credits / 20
    expect(found.get('Functions Flex (100 instances)')).toBe(1600); // 100 × 16 / 50 ms / 20
  });

  it('counts the instances of an Elastic Premium plan as given, past the Flex limit', () => {
    const found = byResource({ ...STANDARD, functionsPlan: 'elasticPremium', maximumInstances: 1 });
    expect(found.get('Functions Elastic Premium (1 instance)')).toBe(16); // 1 × 16 / 50 ms / 20
    const many = byResource({ ...STANDARD, functionsPlan: 'elasticPremium', maximumInstances: 2_000 });
    expect(many.get('Functions Elastic Premium (2000 instances)')).toBe(32_000);
  });

  it('lists the ceilings lowest first and names the binding one with its remedy', () => {
    const list = ceilings(COUNTS, STANDARD);
    expect(list.map((c) => c.jobsPerSecond)).toEqual(
      [...list.map((c) => c.jobsPerSecond)].sort((a, b) => a - b),
    );
    const binding = bindingCeiling(COUNTS, STANDARD);
    expect(binding.resource).toBe('Service Bus Standard namespace');
    expect(binding.remedy).toMatch(/Premium/);
  });

  it('splits the storage accounts and caps the partitions at 16', () => {
    const found = byResource({
      ...STANDARD,
      sharedStorageAccount: false,
      durable: { kind: 'azureStorage', partitionCount: 32, concurrentEpisodesPerWorker: 10 },
    });
    expect(found.get('storage account (ledger)')).toBe(200);
    expect(found.get('storage account (durable)')).toBeCloseTo(333.33, 1);
    expect(found.get('durable partitions (Azure Storage, 16)')).toBeCloseTo(266.67, 1);
  });

  it('bounds the Durable Task Scheduler by actions and Premium by its assumed rate per unit', () => {
    const found = byResource({
      ...STANDARD,
      durable: { kind: 'dtsDedicated', capacityUnits: 5 },
      serviceBus: { tier: 'premium', messagingUnits: 4, assumedCreditsPerSecondPerUnit: 1000 },
    });
    expect(found.get('Durable Task Scheduler (Dedicated, 3 CU)')).toBe(240); // 3 × 2,000 / 25
    expect(found.get('Service Bus Premium (4 MU)')).toBe(200);
    expect([...found.keys()].some((name) => name.startsWith('storage account (durable'))).toBe(false);
    const consumption = byResource({ ...STANDARD, durable: { kind: 'dtsConsumption' } });
    expect(consumption.get('Durable Task Scheduler (Consumption)')).toBe(20); // 500 / 25
  });

  it('counts Service Bus credits: sends, receives and filter evaluations', () => {
    expect(serviceBusCredits(2, 4, 3, 1)).toBe(22); // 2 × 6 + 2 × 3 + 4 × 1
  });

  it('never lowers the ceiling from one deployment to the next (what the app itself binds stays)', () => {
    const binding = DEPLOYMENTS.map((d) => bindingCeiling(COUNTS, d).jobsPerSecond);
    expect(binding[1]).toBeGreaterThan(binding[0] as number);
    expect(binding[2]).toBeGreaterThanOrEqual(binding[1] as number);
  });
});
