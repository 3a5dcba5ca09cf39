/**
 * Admission benchmark (`npm run bench`). Prints figures; never fails on a time.
 *
 * For each Table backend (`table`, `ledger`) on a fresh in-memory Azurite:
 *  - admissions per second through the real HTTP handler (real HttpRequest, validation, protocol
 *    resolution, idempotency, in-flight counter, job + steps + index writes), with latency percentiles;
 *  - storage round trips per admission, counted by a pipeline policy on every TableClient;
 *  - beside it, in the same run, raw `@azure/data-tables` writes of the same entities (one
 *    transaction for job + steps where the layout allows, plus idempotency, index and counter rows)
 *    with no reads and no conditions: the floor the ledger's guarantees are measured against.
 * The orchestration start is not part of this path and is a no-op here.
 *
 * Every path runs twice on the same Azurite; the first round is a warm-up and only the second is printed.
 * Knobs: BENCH_ADMISSIONS (default 600), BENCH_CONCURRENCY (default 16), BENCH_TENANTS (default 8).
 */
import { MemoryDirectivePublisher } from '../src/messaging/memory-directive-publisher';
import { MemoryReplyQuarantine } from '../src/messaging/memory-reply-quarantine';
import { MemoryShardLeases } from '../src/ledger/memory-shard-leases';
import { randomUUID } from 'node:crypto';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { TableClient, type TableEntity } from '@azure/data-tables';
import { startAzurite, type AzuriteHandle } from '../devhost/azurite';
import { loadProtocolRegistry } from '../src/config/protocol-registry';
import { parseSettings, type Settings, type StorageBackend } from '../src/config/settings';
import { validateCommandEnvelope } from '../src/contracts/command-envelope';
import { validateStepPayload } from '../src/contracts/step-payloads';
import { handleAdmitCommand } from '../src/http/command-handlers';
import { createJobLedger } from '../src/ledger/create-job-ledger';
import { assembleServices } from '../src/composition';
import type { Services } from '../src/services';
import { percentile, RoundTrips } from './measure';

const ADMISSIONS = Number(process.env.BENCH_ADMISSIONS ?? 600);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 8);

function envelope(i: number): Record<string, unknown> {
  return {
    tenant_id: `tenant-${i % TENANTS}`,
    request_type: 'OCR->EMBEDDING',
    input_ref: `blob://in/doc-${i}.pdf`,
    output_ref: `blob://out/doc-${i}`,
    payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
    schema_version: 'v1',
    idempotency_key: `bench-${i}-${randomUUID()}`,
  };
}

function request(body: Record<string, unknown>): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/v1/commands',
    headers: { 'content-type': 'application/json' },
    body: { string: JSON.stringify(body) },
  });
}

async function runConcurrently(
  total: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<{ seconds: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = process.hrtime.bigint();
        await work(i);
        latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latenciesMs };
}

function servicesFor(settings: Settings, counter: RoundTrips): Services {
  return assembleServices({
    settings,
    ledger: createJobLedger(settings.storage, {
      clientOptions: { additionalPolicies: [{ policy: counter.policy, position: 'perRetry' }] },
    }),
    registry: loadProtocolRegistry(),
    validateEnvelope: validateCommandEnvelope,
    validateStepPayload,
    clock: { now: () => new Date() },
    newJobId: randomUUID,
    starterFor: () => ({ start: async () => undefined, restart: async () => undefined }),
    signalsFor: () => ({ raise: async () => undefined }),
    controlFor: () => ({
      start: async () => undefined,
      restart: async () => undefined,
      raise: async () => undefined,
      inspect: async () => ({ state: 'Running' as const }),
      purge: async () => false,
    }),
    shardLeases: new MemoryShardLeases(),
    publisher: new MemoryDirectivePublisher(),
    quarantine: new MemoryReplyQuarantine(),
  });
}

interface Figures {
  readonly label: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly roundTrips: number;
}

function figures(
  label: string,
  run: { seconds: number; latenciesMs: number[] },
  roundTrips: number,
): Figures {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  return {
    label,
    perSecond: ADMISSIONS / run.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    roundTrips: roundTrips / ADMISSIONS,
  };
}

async function benchLedger(
  azurite: AzuriteHandle,
  backend: StorageBackend,
  suffix: string,
): Promise<Figures> {
  const settings = parseSettings({
    LUCIUS_STORAGE_BACKEND: backend,
    LUCIUS_TABLE_CONNECTION: azurite.connectionString,
    LUCIUS_MAX_INFLIGHT_PER_TENANT: '1000000',
    LUCIUS_TABLE_JOBS: `BenchJobs${suffix}`,
    LUCIUS_TABLE_STEPS: `BenchSteps${suffix}`,
    LUCIUS_TABLE_IDEMPOTENCY: `BenchIdem${suffix}`,
    LUCIUS_TABLE_JOB_INDEX: `BenchIndex${suffix}`,
    LUCIUS_TABLE_INFLIGHT: `BenchInflight${suffix}`,
    LUCIUS_TABLE_LEDGER: `BenchLedger${suffix}`,
  });
  const counter = new RoundTrips();
  const services = servicesFor(settings, counter);
  const context = new InvocationContext({
    invocationId: 'bench',
    functionName: 'submitCommand',
    logHandler: () => undefined,
  });
  const admitOne = async (i: number) => {
    const response = await handleAdmitCommand(services, request(envelope(i)), context);
    if (response.status !== 202)
      throw new Error(`admission ${i} answered ${response.status}: ${String(response.body)}`);
  };
  for (let i = 0; i < 20; i += 1) await admitOne(-1 - i); // warm-up: tables created, connections open
  counter.count = 0;
  const run = await runConcurrently(ADMISSIONS, CONCURRENCY, admitOne);
  return figures(`handler, ${backend} backend`, run, counter.count);
}

/** The same entities the `ledger` backend writes, written blindly: the floor under the handler. */
async function benchRaw(azurite: AzuriteHandle, suffix: string): Promise<Figures> {
  const counter = new RoundTrips();
  const client = TableClient.fromConnectionString(azurite.connectionString, `BenchRaw${suffix}`, {
    allowInsecureConnection: true,
    additionalPolicies: [{ policy: counter.policy, position: 'perRetry' }],
  });
  await client.createTable();
  const writeOne = async (i: number) => {
    const body = envelope(i);
    const jobId = randomUUID();
    const now = new Date().toISOString();
    const job: TableEntity = {
      partitionKey: jobId,
      rowKey: 'JOB',
      tenantId: body.tenant_id,
      requestType: body.request_type,
      status: 'ACCEPTED',
      createdAt: now,
      body: JSON.stringify(body),
    };
    const steps: TableEntity[] = ['ocr', 'embedding'].map((stepId, index) => ({
      partitionKey: jobId,
      rowKey: `STEP|${String(index).padStart(3, '0')}|${stepId}`,
      status: 'PENDING',
      attemptNo: 0,
      payload: JSON.stringify((body.payload as { steps: Record<string, unknown> }).steps[stepId]),
    }));
    await client.submitTransaction([job, ...steps].map((e) => ['create', e]));
    await client.createEntity({
      partitionKey: `IDEMP|${randomUUID()}`,
      rowKey: 'IDEMP',
      jobId,
      requestHash: 'x'.repeat(64),
      createdAt: now,
    });
    await client.createEntity({
      partitionKey: `TENANT|${String(body.tenant_id)}`,
      rowKey: `${String(1e15 - Date.now()).padStart(15, '0')}|${jobId}`,
      status: 'ACCEPTED',
      requestType: body.request_type,
      createdAt: now,
    });
    await client.upsertEntity(
      { partitionKey: `TENANT|${String(body.tenant_id)}`, rowKey: 'INFLIGHT', count: i },
      'Merge',
    );
  };
  for (let i = 0; i < 20; i += 1) await writeOne(-1 - i);
  counter.count = 0;
  const run = await runConcurrently(ADMISSIONS, CONCURRENCY, writeOne);
  return figures('raw @azure/data-tables writes', run, counter.count);
}

function print(rows: Figures[], baseline: Figures): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number, digits = 1) => v.toFixed(digits).padStart(9);
  console.log(
    `\nadmissions: ${ADMISSIONS}, concurrency: ${CONCURRENCY}, tenants: ${TENANTS}, node ${process.version}, Azurite (in memory) on loopback`,
  );
  console.log(
    `${pad('path', 34)}${'per sec'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'trips/adm'.padStart(11)}${'vs raw'.padStart(9)}`,
  );
  for (const r of rows) {
    console.log(
      `${pad(r.label, 34)}${num(r.perSecond)}${num(r.p50)}${num(r.p95)}${num(r.p99)}${num(r.roundTrips, 2).padStart(11)}${num(r.perSecond / baseline.perSecond, 2)}`,
    );
  }
}

async function main(): Promise<void> {
  const azurite = await startAzurite();
  try {
    // Round 1 warms Azurite, the JIT and the sockets for every path; round 2 is the one reported.
    let rows: Figures[] = [];
    for (const round of [1, 2]) {
      const suffix = `${round}${Date.now() % 100000}`;
      rows = [
        await benchRaw(azurite, suffix),
        await benchLedger(azurite, 'table', `T${suffix}`),
        await benchLedger(azurite, 'ledger', `L${suffix}`),
      ];
    }
    print(rows, rows[0] as Figures);
  } finally {
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
