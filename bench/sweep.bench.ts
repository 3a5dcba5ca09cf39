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
 */
import { randomUUID } from 'node:crypto';
import { startAzurite, type AzuriteHandle } from '../devhost/azurite';
import { loadProtocolRegistry } from '../src/config/protocol-registry';
import { validateCommandEnvelope } from '../src/contracts/command-envelope';
import { validateStepPayload } from '../src/contracts/step-payloads';
import { planAdmission } from '../src/domain/admission';
import type { AdmissionLimits, JobLedger } from '../src/ports/job-ledger';
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
}

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
  return { finished, due, listTrips, listMs, countTrips: counter.count, countMs };
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
