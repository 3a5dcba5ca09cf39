/**
 * The scaling model (pure): from the operation counts of one job (the ones the cost model reads)
 * and the documented limits of each Azure service, the jobs per second each resource allows in a
 * deployment, which one binds first, and what to change to go past it.
 *
 * Documented limits used (each constant names its source):
 *  - Table Storage: 20,000 transactions/s per storage account, 2,000 entities/s per partition
 *    (Azure Storage scalability targets);
 *  - Service Bus Standard: 1,000 credits/s per namespace, one credit per message sent, received
 *    or peeked and one per subscription filter a message sent to a topic is evaluated against
 *    (Service Bus throttling); Premium has no credits: a messaging unit's throughput is not
 *    documented, so the deployment states what it assumes;
 *  - Functions Flex Consumption: at most 1,000 instances per app (infra/ deploys 100); an Elastic
 *    Premium plan's instances are counted as given (the summary prices one EP1 instance);
 *  - Durable Functions, Azure Storage provider: at most 16 partitions (control queues, default 4);
 *    one worker owns a partition at a time, so a partition's episodes go through one instance;
 *  - Durable Task Scheduler: Dedicated 2,000 actions/s per capacity unit, up to 3; Consumption
 *    500 actions/s.
 * Where no limit is documented (a tenant's in-flight counter is a conditional read-modify-write of
 * one row, so its updates are serial: one per two round trips), the model derives it from the
 * storage round-trip time the deployment assumes.
 */

export const TABLE_ACCOUNT_TRANSACTIONS_PER_SECOND = 20_000;
export const TABLE_PARTITION_ENTITIES_PER_SECOND = 2_000;
export const SERVICE_BUS_STANDARD_CREDITS_PER_SECOND = 1_000;
export const FLEX_MAX_INSTANCES = 1_000;
export const AZURE_STORAGE_MAX_PARTITIONS = 16;
export const DTS_DEDICATED_ACTIONS_PER_SECOND_PER_UNIT = 2_000;
export const DTS_DEDICATED_MAX_UNITS = 3;
export const DTS_CONSUMPTION_ACTIONS_PER_SECOND = 500;

/** The ledger's shared partitions and what one job writes to them (from the ledger's layout). */
export interface LedgerPartitions {
  /**
   * The sweepers' work-list shards: one partition each, holding the shard's active entries and its
   * finished entries; a job's operations on its active entry, and the writes of its finished entry
   * (made in the same partition, in the transaction that removes the active entry).
   */
  readonly activeShards: number;
  readonly activeShardOpsPerJob: number;
  readonly finishedWritesPerJob: number;
  /** Conditional updates a job makes to its tenant's in-flight counter (take and release). */
  readonly counterUpdatesPerJob: number;
}

/** One job's operations (means over a run). */
export interface CapacityCounts {
  readonly ledgerTableOps: number;
  readonly durableStoreOps: number;
  readonly orchestratorEpisodes: number;
  readonly executions: number;
  /** Service Bus credits: messages sent and received, plus filter evaluations of topic sends. */
  readonly serviceBusCredits: number;
  readonly durableTaskSchedulerActions: number;
  readonly ledger: LedgerPartitions;
}

export type DurableBackend =
  | {
      readonly kind: 'azureStorage';
      readonly partitionCount: number;
      /** Episodes one worker runs at once (host.json maxConcurrentOrchestratorFunctions). */
      readonly concurrentEpisodesPerWorker: number;
    }
  | { readonly kind: 'dtsDedicated'; readonly capacityUnits: number }
  | { readonly kind: 'dtsConsumption' };

export interface Deployment {
  readonly name: string;
  /** Whether the durable backend's storage is the ledger's account (Azure Storage provider only). */
  readonly sharedStorageAccount: boolean;
  readonly durable: DurableBackend;
  readonly serviceBus:
    | { readonly tier: 'standard' }
    | {
        readonly tier: 'premium';
        readonly messagingUnits: number;
        readonly assumedCreditsPerSecondPerUnit: number;
      };
  readonly maximumInstances: number;
  /** The Functions plan (default Flex Consumption, whose instance limit applies). */
  readonly functionsPlan?: 'flexConsumption' | 'elasticPremium';
  /** Executions one instance runs at once, and how long one takes. */
  readonly concurrencyPerInstance: number;
  readonly meanExecutionMs: number;
  /** Tenants the load is spread over evenly (each has its own in-flight counter). */
  readonly tenants: number;
  /** A Table Storage round trip, as assumed from the same region. */
  readonly storageRoundTripMs: number;
}

export interface Ceiling {
  readonly resource: string;
  readonly jobsPerSecond: number;
  /** How the figure is reached. */
  readonly basis: string;
  /** What to change to go past it. */
  readonly remedy: string;
}

function round(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function storageCeilings(counts: CapacityCounts, deployment: Deployment): Ceiling[] {
  const durableOnStorage = deployment.durable.kind === 'azureStorage';
  const accounts: Array<{ readonly what: string; readonly ops: number }> =
    durableOnStorage && deployment.sharedStorageAccount
      ? [{ what: 'ledger + durable', ops: counts.ledgerTableOps + counts.durableStoreOps }]
      : [
          { what: 'ledger', ops: counts.ledgerTableOps },
          ...(durableOnStorage ? [{ what: 'durable', ops: counts.durableStoreOps }] : []),
        ];
  return accounts.map(({ what, ops }) => ({
    resource: `storage account (${what})`,
    jobsPerSecond: TABLE_ACCOUNT_TRANSACTIONS_PER_SECOND / ops,
    basis: `20,000 transactions/s ÷ ${round(ops)} per job`,
    remedy:
      what === 'ledger'
        ? 'fewer ledger round trips per job (goal ≤ 24), or jobs spread over several ledger accounts'
        : 'the durable task hub on its own account (or the Durable Task Scheduler), fewer round trips per job',
  }));
}

function ledgerPartitionCeilings(counts: CapacityCounts, deployment: Deployment): Ceiling[] {
  const { ledger } = counts;
  const counterUpdatesPerSecond = 1000 / (2 * deployment.storageRoundTripMs);
  const perTenant =
    Math.min(counterUpdatesPerSecond, TABLE_PARTITION_ENTITIES_PER_SECOND) / ledger.counterUpdatesPerJob;
  return [
    {
      // The finished entries share the shard partitions with the active ones: one budget for both.
      resource: `work-list shards (${ledger.activeShards} partitions)`,
      jobsPerSecond:
        (ledger.activeShards * TABLE_PARTITION_ENTITIES_PER_SECOND) /
        (ledger.activeShardOpsPerJob + ledger.finishedWritesPerJob),
      basis:
        `${ledger.activeShards} × 2,000 entities/s ÷ (${ledger.activeShardOpsPerJob} active + ` +
        `${ledger.finishedWritesPerJob} finished) per job`,
      remedy: 'more shards',
    },
    {
      resource: `tenants' in-flight counters (${deployment.tenants} tenants)`,
      jobsPerSecond: perTenant * deployment.tenants,
      basis:
        `${deployment.tenants} × one conditional update per 2 round trips of ${deployment.storageRoundTripMs} ms ` +
        `(${round(counterUpdatesPerSecond)}/s) ÷ ${ledger.counterUpdatesPerJob} per job`,
      remedy: 'a counter split over several rows per tenant, or the slot taken in the job row batch',
    },
  ];
}

function durableCeiling(counts: CapacityCounts, deployment: Deployment): Ceiling {
  const durable = deployment.durable;
  switch (durable.kind) {
    case 'azureStorage': {
      const partitions = Math.min(durable.partitionCount, AZURE_STORAGE_MAX_PARTITIONS);
      const tripsPerEpisode = counts.durableStoreOps / counts.orchestratorEpisodes;
      const episodeSeconds = (tripsPerEpisode * deployment.storageRoundTripMs) / 1000;
      const episodesPerSecond = (partitions * durable.concurrentEpisodesPerWorker) / episodeSeconds;
      return {
        resource: `durable partitions (Azure Storage, ${partitions})`,
        jobsPerSecond: episodesPerSecond / counts.orchestratorEpisodes,
        basis:
          `${partitions} partitions × ${durable.concurrentEpisodesPerWorker} episodes at once, each ` +
          `${round(tripsPerEpisode)} round trips of ${deployment.storageRoundTripMs} ms, ÷ ${round(counts.orchestratorEpisodes)} episodes per job`,
        remedy:
          partitions < AZURE_STORAGE_MAX_PARTITIONS
            ? 'partitionCount up to 16 (set before the task hub is created)'
            : 'the Durable Task Scheduler, or fewer episodes and round trips per job',
      };
    }
    case 'dtsDedicated': {
      const units = Math.min(durable.capacityUnits, DTS_DEDICATED_MAX_UNITS);
      return {
        resource: `Durable Task Scheduler (Dedicated, ${units} CU)`,
        jobsPerSecond:
          (units * DTS_DEDICATED_ACTIONS_PER_SECOND_PER_UNIT) / counts.durableTaskSchedulerActions,
        basis: `${units} × 2,000 actions/s ÷ ${round(counts.durableTaskSchedulerActions)} per job`,
        remedy:
          units < DTS_DEDICATED_MAX_UNITS
            ? 'more capacity units (up to 3)'
            : 'fewer activities and events per job, or several schedulers',
      };
    }
    case 'dtsConsumption':
      return {
        resource: 'Durable Task Scheduler (Consumption)',
        jobsPerSecond: DTS_CONSUMPTION_ACTIONS_PER_SECOND / counts.durableTaskSchedulerActions,
        basis: `500 actions/s ÷ ${round(counts.durableTaskSchedulerActions)} per job`,
        remedy: 'the Dedicated SKU',
      };
    default: {
      const unknown: never = durable;
      throw new Error(`unknown durable backend ${JSON.stringify(unknown)}`);
    }
  }
}

function serviceBusCeiling(counts: CapacityCounts, deployment: Deployment): Ceiling {
  const bus = deployment.serviceBus;
  if (bus.tier === 'standard')
    return {
      resource: 'Service Bus Standard namespace',
      jobsPerSecond: SERVICE_BUS_STANDARD_CREDITS_PER_SECOND / counts.serviceBusCredits,
      basis: `1,000 credits/s ÷ ${round(counts.serviceBusCredits)} per job`,
      remedy: 'Premium (no credits; messaging units), or one namespace per group of lanes',
    };
  const perSecond = bus.messagingUnits * bus.assumedCreditsPerSecondPerUnit;
  return {
    resource: `Service Bus Premium (${bus.messagingUnits} MU)`,
    jobsPerSecond: perSecond / counts.serviceBusCredits,
    basis: `${bus.messagingUnits} MU × ${bus.assumedCreditsPerSecondPerUnit} operations/s assumed per MU (not documented) ÷ ${round(counts.serviceBusCredits)} per job`,
    remedy: 'more messaging units (1, 2, 4, 8, 16), measured with the real message sizes',
  };
}

function functionsCeiling(counts: CapacityCounts, deployment: Deployment): Ceiling {
  const premium = deployment.functionsPlan === 'elasticPremium';
  const instances = premium
    ? deployment.maximumInstances
    : Math.min(deployment.maximumInstances, FLEX_MAX_INSTANCES);
  const executionsPerSecond =
    (instances * deployment.concurrencyPerInstance * 1000) / deployment.meanExecutionMs;
  if (premium)
    return {
      resource: `Functions Elastic Premium (${instances} instance${instances === 1 ? '' : 's'})`,
      jobsPerSecond: executionsPerSecond / counts.executions,
      basis:
        `${instances} × ${deployment.concurrencyPerInstance} at once ÷ ${round(deployment.meanExecutionMs)} ms ` +
        `÷ ${round(counts.executions)} executions per job`,
      remedy: 'more instances (each billed by the hour)',
    };
  return {
    resource: `Functions Flex (${instances} instances)`,
    jobsPerSecond: executionsPerSecond / counts.executions,
    basis:
      `${instances} instances × ${deployment.concurrencyPerInstance} at once ÷ ${round(deployment.meanExecutionMs)} ms ` +
      `÷ ${round(counts.executions)} executions per job`,
    remedy: instances < FLEX_MAX_INSTANCES ? 'maximumInstanceCount up to 1,000' : 'a second app (region)',
  };
}

/** Every ceiling of `deployment`, lowest first: the first one binds. */
export function ceilings(counts: CapacityCounts, deployment: Deployment): Ceiling[] {
  return [
    ...storageCeilings(counts, deployment),
    ...ledgerPartitionCeilings(counts, deployment),
    durableCeiling(counts, deployment),
    serviceBusCeiling(counts, deployment),
    functionsCeiling(counts, deployment),
  ].sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
}

export function bindingCeiling(counts: CapacityCounts, deployment: Deployment): Ceiling {
  return ceilings(counts, deployment)[0] as Ceiling;
}

/**
 * Service Bus credits of one job on Standard: every message sent and received, plus one per
 * subscription filter each topic send is evaluated against (`filtersPerDirective` for the lane
 * topics, `filtersPerReply` for the reply topics).
 */
export function serviceBusCredits(
  directives: number,
  replies: number,
  filtersPerDirective: number,
  filtersPerReply: number,
): number {
  return 2 * (directives + replies) + directives * filtersPerDirective + replies * filtersPerReply;
}

const COMMON = {
  concurrencyPerInstance: 16,
  meanExecutionMs: 50,
  tenants: 8,
  storageRoundTripMs: 10,
} as const;

/**
 * The deployments the summary prints: what infra/ deploys by default, then each step past the
 * limit that binds before it.
 */
export const DEPLOYMENTS: readonly Deployment[] = [
  {
    name: 'as deployed (Standard, shared account, 4 partitions, 100 instances)',
    sharedStorageAccount: true,
    durable: { kind: 'azureStorage', partitionCount: 4, concurrentEpisodesPerWorker: 10 },
    serviceBus: { tier: 'standard' },
    maximumInstances: 100,
    ...COMMON,
  },
  {
    name: 'Premium 4 MU, separate durable account, 16 partitions, 1,000 instances',
    sharedStorageAccount: false,
    durable: { kind: 'azureStorage', partitionCount: 16, concurrentEpisodesPerWorker: 10 },
    serviceBus: { tier: 'premium', messagingUnits: 4, assumedCreditsPerSecondPerUnit: 1_000 },
    maximumInstances: 1_000,
    ...COMMON,
  },
  {
    name: 'Premium 16 MU, Durable Task Scheduler Dedicated 3 CU, 1,000 instances',
    sharedStorageAccount: false,
    durable: { kind: 'dtsDedicated', capacityUnits: 3 },
    serviceBus: { tier: 'premium', messagingUnits: 16, assumedCreditsPerSecondPerUnit: 1_000 },
    maximumInstances: 1_000,
    ...COMMON,
  },
];
