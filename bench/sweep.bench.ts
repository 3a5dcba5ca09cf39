/**
 * Sweep benchmark (`npm run bench`). Prints figures; never fails on a count or a time.
 *
 * What a sweep reads must grow with the work that is due, not with the jobs that ever ran. On the
 * `ledger` backend (one table) over a fresh in-memory Azurite, two ledgers are filled through the
 * port itself: each with BENCH_SWEEP_ACTIVE jobs in flight (default 100), one with
 * BENCH_SWEEP_FEW_FINISHED finished jobs (default 100), the other with BENCH_SWEEP_FINISHED
 * (default 10,000). On each, `listDueJobs` is run over every shard with everything in flight due,
 * and `countActiveJobs` once; the storage round trips (counted by a pipeline policy) and the time
 * are printed side by side. Equal round trips on both ledgers show the listing is O(due).
 *
 * Then a whole sweep (`sweepShards`, kind `all`, every shard) runs on each ledger: every job in flight
 * is ACCEPTED with no orchestration and due, so each gets a repair (its orchestration started, the
 * repair recorded, its next check moved); a second sweep right after finds nothing due. The durable
 * backend is answered in process (instances kept in a map), so the figures are the ledger's share of
 * a sweep: round trips and time per sweep, and repairs per second.
 */
import { randomUUID } from 'node:crypto';
import { startAzurite, type AzuriteHandle } from '../devhost/azurite';
import { loadProtocolRegistry } from '../src/config/protocol-registry';
import { validateCommandEnvelope } from '../src/contracts/command-envelope';
import { validateStepPayload } from '../src/contracts/step-payloads';
import { planAdmission } from '../src/domain/admission';
import { parseSettings } from '../src/config/settings';
import type { InstanceInfo } from '../src/domain/instance';
import type { AdmissionLimits, JobLedger } from '../src/ports/job-ledger';
import type { OrchestrationControl } from '../src/ports/orchestration-control';
import type { JobOrchestrationInput } from '../src/ports/orchestration-starter';
import { sweepShards } from '../src/usecases/sweep';
import { SingleTableJobLedger } from '../src/ledger/single-table-job-ledger';
import { RoundTrips, runBounded } from './measure';

const ACTIVE = Number(process.env.BENCH_SWEEP_ACTIVE ?? 100);
const FEW_FINISHED = Number(process.env.BENCH_SWEEP_FEW_FINISHED ?? 100);
const FINISHED = Number(process.env.BENCH_SWEEP_FINISHED ?? 10_000);
const SEED_CONCURRENCY = 32;
const SHARDS = 16;
const TENANTS = 64;
const LIMITS: AdmissionLimits = {
  maxInflightPerTenant: 1_000_000,
  idempotencyTtlHours: 24,
  orphanGraceSeconds: 60,
};

const registry = loadProtocolRegistry();
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** Admits one job through the ledger, planned as the admission use case plans it. */
async function admit(ledger: JobLedger, i: number): Promise<string> {
  const body = {
    tenant_id: `tenant-${i % TENANTS}`,
    request_type: 'OCR->EMBEDDING',
    input_ref: `blob://in/doc-${i}.pdf`,
    output_ref: `blob://out/doc-${i}`,
    payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
    schema_version: 'v1',
    idempotency_key: `sweep-bench-${randomUUID()}`,
  };
  const validation = validateCommandEnvelope(body);
  if (!validation.ok) throw new Error(`bench envelope is invalid: ${JSON.stringify(validation.violations)}`);
  const plan = planAdmission({
    envelope: validation.value,
    jobId: randomUUID(),
    now: new Date(T0),
    registry,
    validateStepPayload,
    laneCount: SHARDS,
  });
  const outcome = await ledger.admit(plan, LIMITS, new Date(T0));
  if (outcome.kind !== 'created') throw new Error(`bench admission ${i} was a ${outcome.kind}`);
  return outcome.job.jobId;
}

async function seed(ledger: JobLedger, finished: number): Promise<void> {
  await runBounded(finished, SEED_CONCURRENCY, async (i) => {
    const jobId = await admit(ledger, i);
    await ledger.applyJobEvent(jobId, { type: 'CANCEL', reason: 'bench' }, new Date(T0 + 1000));
  });
  await runBounded(ACTIVE, SEED_CONCURRENCY, async (i) => {
    await admit(ledger, finished + i);
  });
}

interface Figures {
  readonly finished: number;
  readonly due: number;
  readonly listTrips: number;
  readonly listMs: number;
  readonly countTrips: number;
  readonly countMs: number;
  readonly sweepTrips: number;
  readonly sweepMs: number;
  readonly repaired: number;
  readonly idleTrips: number;
  readonly idleMs: number;
}

/** The durable backend, answered in process: instances in a map (not what is measured here). */
class InProcessOrchestrations implements OrchestrationControl {
  private readonly instances = new Map<string, InstanceInfo>();

  async start(input: JobOrchestrationInput): Promise<void> {
    await Promise.resolve();
    this.instances.set(input.jobId, { state: 'Running', drive: input.drive ?? 0 });
  }

  restart(input: JobOrchestrationInput): Promise<void> {
    return this.start(input);
  }

  async raise(): Promise<void> {
    await Promise.resolve();
  }

  async inspect(jobId: string): Promise<InstanceInfo> {
    await Promise.resolve();
    return this.instances.get(jobId) ?? { state: 'Missing' };
  }

  async purge(jobId: string): Promise<boolean> {
    await Promise.resolve();
    return this.instances.delete(jobId);
  }
}

const settings = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_LANE_COUNT: String(SHARDS) });

async function measure(azurite: AzuriteHandle, finished: number): Promise<Figures> {
  const counter = new RoundTrips();
  const ledger = new SingleTableJobLedger({
    connection: { connectionString: azurite.connectionString },
    table: `BenchSweep${finished}x${Date.now() % 100000}`,
    clientOptions: { additionalPolicies: [{ policy: counter.policy, position: 'perRetry' }] },
  });
  await seed(ledger, finished);

  const later = new Date(T0 + 86_400_000);
  counter.count = 0;
  let started = process.hrtime.bigint();
  let due = 0;
  for (let shard = 0; shard < SHARDS; shard += 1)
    due += (await ledger.listDueJobs(shard, later, 1000)).length;
  const listMs = Number(process.hrtime.bigint() - started) / 1e6;
  const listTrips = counter.count;

  counter.count = 0;
  started = process.hrtime.bigint();
  await ledger.countActiveJobs();
  const countMs = Number(process.hrtime.bigint() - started) / 1e6;
  const countTrips = counter.count;

  const deps = {
    ledger,
    control: new InProcessOrchestrations(),
    clock: { now: () => later },
    settings,
    by: 'sweep bench',
    log: () => undefined,
  };
  const shards = Array.from({ length: SHARDS }, (_, shard) => shard);
  counter.count = 0;
  started = process.hrtime.bigint();
  const sweep = await sweepShards(deps, 'all', shards);
  const sweepMs = Number(process.hrtime.bigint() - started) / 1e6;
  const sweepTrips = counter.count;
  const repaired = Object.values(sweep.repaired).reduce((sum, n) => sum + (n ?? 0), 0);
  counter.count = 0;
  started = process.hrtime.bigint();
  await sweepShards(deps, 'all', shards);
  const idleMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    finished,
    due,
    listTrips,
    listMs,
    countTrips,
    countMs,
    sweepTrips,
    sweepMs,
    repaired,
    idleTrips: counter.count,
    idleMs,
  };
}

function print(rows: readonly Figures[]): void {
  console.log(
    `\nsweep work lists, ledger backend, ${SHARDS} shards, ${ACTIVE} jobs in flight, node ${process.version}, Azurite (in memory) on loopback`,
  );
  console.log(
    `${'finished jobs'.padEnd(15)}${'due'.padStart(6)}${'list trips'.padStart(12)}${'list ms'.padStart(10)}${'count trips'.padStart(13)}${'count ms'.padStart(10)}`,
  );
  for (const r of rows) {
    console.log(
      `${String(r.finished).padEnd(15)}${String(r.due).padStart(6)}${String(r.listTrips).padStart(12)}${r.listMs.toFixed(1).padStart(10)}${String(r.countTrips).padStart(13)}${r.countMs.toFixed(1).padStart(10)}`,
    );
  }
  console.log(
    `\nwhole sweeps (kind all, ${SHARDS} shards; durable backend answered in process, not measured)`,
  );
  console.log(
    `${'finished jobs'.padEnd(15)}${'repairs'.padStart(9)}${'trips'.padStart(8)}${'ms'.padStart(9)}${'repairs/s'.padStart(11)}${'idle trips'.padStart(12)}${'idle ms'.padStart(9)}`,
  );
  for (const r of rows) {
    const perSecond = r.sweepMs > 0 ? (r.repaired * 1000) / r.sweepMs : 0;
    console.log(
      `${String(r.finished).padEnd(15)}${String(r.repaired).padStart(9)}${String(r.sweepTrips).padStart(8)}${r.sweepMs.toFixed(0).padStart(9)}${perSecond.toFixed(0).padStart(11)}${String(r.idleTrips).padStart(12)}${r.idleMs.toFixed(0).padStart(9)}`,
    );
  }
}

async function main(): Promise<void> {
  const azurite = await startAzurite();
  try {
    print([await measure(azurite, FEW_FINISHED), await measure(azurite, FINISHED)]);
  } finally {
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
