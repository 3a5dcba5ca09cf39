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
 * The orchestration start is not part of this issue's path and is a no-op here.
 *
 * Every handler run goes through the security pipeline the function registers it behind
 * (src/http/secure-route.ts: request limits, CORS, authentication, rate limits with limits too high
 * to refuse, role, tenant). The rows above use `LUCIUS_AUTH_MODE=none`; beside them, in the same
 * round, the `ledger` backend again with `dev` authentication: a real token of the dev issuer
 * verified by the JwtAuthenticator (ES256) on every admission, its tenants from the token's claim,
 * and once more with a token without that claim, so the tenants come from the grants table through
 * its per-process cache. The pipeline alone (a handler that only resolves the tenant, no ledger)
 * is measured the same three ways, to show what authentication costs per request by itself. The
 * auth figures are printed side by side with their ratio to `none`, and with this process's CPU time
 * per request (steadier than rates when the machine is shared).
 *
 * Every path runs twice on the same Azurite; the first round is a warm-up and only the second is printed.
 * Knobs: BENCH_ADMISSIONS (default 600), BENCH_CONCURRENCY (default 16), BENCH_TENANTS (default 8),
 * BENCH_PIPELINE_REQUESTS (default 6000, the pipeline-alone runs).
 */
import { MemoryDirectivePublisher } from '../src/messaging/memory-directive-publisher';
import { MemoryReplyQuarantine } from '../src/messaging/memory-reply-quarantine';
import { MemoryShardLeases } from '../src/ledger/memory-shard-leases';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { TableClient, type TableEntity } from '@azure/data-tables';
import { startAzurite, type AzuriteHandle } from '../devhost/azurite';
import { loadProtocolRegistry } from '../src/config/protocol-registry';
import { parseSettings, type Settings, type StorageBackend } from '../src/config/settings';
import { validateCommandEnvelope } from '../src/contracts/command-envelope';
import { validateStepPayload } from '../src/contracts/step-payloads';
import { parseAuthSettings } from '../src/config/auth-settings';
import { createTenantGrantsAdmin } from '../src/auth/create-tenant-grants';
import { DevIssuer } from '../src/auth/dev-issuer';
import { ALL_TENANTS } from '../src/auth/tenant-grants';
import { createAuthAdapters, type AuthAdapters } from '../src/composition-security';
import type { SecuredHandler } from '../src/http/caller';
import { handleAdmitCommand } from '../src/http/command-handlers';
import { secureRoute, type RouteHandler } from '../src/http/secure-route';
import { createJobLedger } from '../src/ledger/create-job-ledger';
import { assembleServices } from '../src/composition';
import { ephemeralCallbackKeyRing } from '../src/config/callback-settings';
import type { Services } from '../src/services';
import { percentile, RoundTrips } from './measure';
import { writeResults } from './results';

const ADMISSIONS = Number(process.env.BENCH_ADMISSIONS ?? 600);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 8);
/** Requests of the pipeline-alone runs: more than admissions, as each takes a fraction of a millisecond. */
const PIPELINE_REQUESTS = Number(process.env.BENCH_PIPELINE_REQUESTS ?? 6000);

function envelope(i: number): Record<string, unknown> {
  return {
    tenant_id: `tenant-${(((i % TENANTS) + TENANTS) % TENANTS).toString()}`,
    request_type: 'OCR->EMBEDDING',
    input_ref: `blob://in/doc-${i}.pdf`,
    output_ref: `blob://out/doc-${i}`,
    payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
    schema_version: 'v1',
    idempotency_key: `bench-${i}-${randomUUID()}`,
  };
}

function request(body: Record<string, unknown>, authorization?: string): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/v1/commands',
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: { string: JSON.stringify(body) },
  });
}

/** How the callers of a run authenticate. */
type AuthVariant = 'none' | 'dev' | 'dev, grants';

interface BenchAuth {
  readonly adapters: AuthAdapters;
  /** The Authorization header every request carries (none for `none`). */
  readonly authorization?: string;
}

const BENCH_SUBJECT = 'bench-caller';

/**
 * The authentication of a run, as the app builds it (createAuthAdapters). `dev`: a dev-issuer token
 * naming every bench tenant in the tenants claim. `dev, grants`: a token without that claim (written
 * under another name), the subject granted `*` in the grants table, read through the cache.
 */
async function benchAuth(variant: AuthVariant, settings: Settings, devDataDir: string): Promise<BenchAuth> {
  if (variant === 'none')
    return { adapters: createAuthAdapters(parseAuthSettings({ LUCIUS_AUTH_MODE: 'none' }), settings) };
  const auth = parseAuthSettings({ LUCIUS_AUTH_MODE: 'dev', LUCIUS_AUTH_DEV_DATA_DIR: devDataDir });
  const issuer = await DevIssuer.open(devDataDir);
  const token = await issuer.issueDevToken({
    tenants: Array.from({ length: TENANTS }, (_, t) => `tenant-${t}`),
    roles: ['Lucius.Submit'],
    subject: BENCH_SUBJECT,
    ttlSeconds: 3600,
    ...(variant === 'dev, grants' ? { tenantsClaim: 'bench_not_the_tenants_claim' } : {}),
  });
  if (variant === 'dev, grants')
    await createTenantGrantsAdmin(settings).grant(BENCH_SUBJECT, [ALL_TENANTS], new Date());
  return { adapters: createAuthAdapters(auth, settings), authorization: `Bearer ${token}` };
}

/** Resolves the command's tenant as the admission does, and nothing else: the pipeline's own cost. */
const tenantOnly: SecuredHandler<Services> = async (_services, request, _context, caller) => {
  const body = (await request.json()) as { tenant_id?: string };
  await caller.tenant(body.tenant_id, 'command');
  return { status: 202 };
};

const admitRoute: RouteHandler<Services> = secureRoute<Services>({ action: 'submit' }, handleAdmitCommand);
const tenantOnlyRoute: RouteHandler<Services> = secureRoute<Services>({ action: 'submit' }, tenantOnly);

async function runConcurrently(
  total: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<Run> {
  const latenciesMs: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
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
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { total, seconds, latenciesMs, cpuMicros: used.user + used.system };
}

function servicesFor(settings: Settings, counter: RoundTrips, auth: AuthAdapters): Services {
  return assembleServices({
    auth,
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
    callbackKeys: ephemeralCallbackKeyRing(),
  });
}

interface Run {
  readonly total: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  /** CPU time of this process (user + system) during the run, in µs. */
  readonly cpuMicros: number;
}

interface Figures {
  readonly label: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly roundTrips: number;
  /**
   * This process's CPU time per request, in µs: the bench's own work (handler, pipeline, SDK
   * client), not Azurite's. Steadier than rates on a shared machine.
   */
  readonly cpuMicros: number;
}

function figures(label: string, run: Run, roundTrips: number): Figures {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  return {
    label,
    perSecond: run.total / run.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    roundTrips: roundTrips / run.total,
    cpuMicros: run.cpuMicros / run.total,
  };
}

function benchSettings(azurite: AzuriteHandle, backend: StorageBackend, suffix: string): Settings {
  return parseSettings({
    LUCIUS_STORAGE_BACKEND: backend,
    LUCIUS_TABLE_CONNECTION: azurite.connectionString,
    LUCIUS_MAX_INFLIGHT_PER_TENANT: '1000000',
    LUCIUS_TABLE_JOBS: `BenchJobs${suffix}`,
    LUCIUS_TABLE_STEPS: `BenchSteps${suffix}`,
    LUCIUS_TABLE_IDEMPOTENCY: `BenchIdem${suffix}`,
    LUCIUS_TABLE_JOB_INDEX: `BenchIndex${suffix}`,
    LUCIUS_TABLE_INFLIGHT: `BenchInflight${suffix}`,
    LUCIUS_TABLE_LEDGER: `BenchLedger${suffix}`,
    LUCIUS_TABLE_GRANTS: `BenchGrants${suffix}`,
    // The limiters run on every request, with budgets no run can exhaust.
    LUCIUS_RATE_LIMIT_TENANT_BURST: '1000000000',
    LUCIUS_RATE_LIMIT_TENANT_PER_SECOND: '1000000',
    LUCIUS_RATE_LIMIT_PRINCIPAL_BURST: '1000000000',
    LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND: '1000000',
  });
}

/**
 * `ADMISSIONS` requests through `route` (the admission handler, or the pipeline alone with
 * `storage: false`) behind the pipeline with `variant` authentication.
 */
async function benchHandler(
  azurite: AzuriteHandle,
  backend: StorageBackend,
  suffix: string,
  variant: AuthVariant,
  devDataDir: string,
  storage = true,
): Promise<Figures> {
  const settings = benchSettings(azurite, backend, suffix);
  const auth = await benchAuth(variant, settings, devDataDir);
  const counter = new RoundTrips();
  const services = servicesFor(settings, counter, auth.adapters);
  const context = new InvocationContext({
    invocationId: 'bench',
    functionName: 'submitCommand',
    logHandler: () => undefined,
  });
  const route = storage ? admitRoute : tenantOnlyRoute;
  const admitOne = async (i: number) => {
    const response = await route(services, request(envelope(i), auth.authorization), context);
    if (response.status !== 202)
      throw new Error(
        `admission ${i} (auth ${variant}) answered ${response.status}: ${String(response.body)}`,
      );
  };
  for (let i = 0; i < 20; i += 1) await admitOne(-1 - i); // warm-up: tables created, connections open
  counter.count = 0;
  const run = await runConcurrently(storage ? ADMISSIONS : PIPELINE_REQUESTS, CONCURRENCY, admitOne);
  const what = storage ? `handler, ${backend} backend` : 'pipeline alone';
  return figures(variant === 'none' ? what : `${what}, auth ${variant}`, run, counter.count);
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

/** One path measured with each authentication, in the same round. */
interface AuthComparison {
  readonly path: string;
  readonly none: Figures;
  readonly dev: Figures;
  readonly devGrants: Figures;
}

function printAuth(comparisons: readonly AuthComparison[]): void {
  const num = (v: number, digits = 1, width = 10) => v.toFixed(digits).padStart(width);
  const heads = [
    'none/s',
    'dev/s',
    'dev÷none',
    'grants/s',
    '÷none',
    'cpu µs none',
    'dev',
    'grants',
    'p50 ms none',
    'dev',
    'grants',
  ];
  console.log(
    `\nauthentication, ledger backend, same round: none (anonymous) vs dev (an ES256 token verified on every request; tenants from its claim, or from the grants table through the cache); cpu µs = this process's CPU per request`,
  );
  console.log(`${'path'.padEnd(28)}${heads.map((h) => h.padStart(h.length > 9 ? 12 : 10)).join('')}`);
  for (const c of comparisons) {
    const cells = [
      num(c.none.perSecond),
      num(c.dev.perSecond),
      num(c.dev.perSecond / c.none.perSecond, 2),
      num(c.devGrants.perSecond),
      num(c.devGrants.perSecond / c.none.perSecond, 2),
      num(c.none.cpuMicros, 0, 12),
      num(c.dev.cpuMicros, 0),
      num(c.devGrants.cpuMicros, 0),
      num(c.none.p50, 2, 12),
      num(c.dev.p50, 2),
      num(c.devGrants.p50, 2),
    ];
    console.log(`${c.path.padEnd(28)}${cells.join('')}`);
  }
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
  const devDataDir = await mkdtemp(join(tmpdir(), 'lucius-bench-dev-'));
  try {
    // Round 1 warms Azurite, the JIT and the sockets for every path; round 2 is the one reported.
    let rows: Figures[] = [];
    let auth: AuthComparison[] = [];
    for (const round of [1, 2]) {
      const suffix = `${round}${Date.now() % 100000}`;
      rows = [
        await benchRaw(azurite, suffix),
        await benchHandler(azurite, 'table', `T${suffix}`, 'none', devDataDir),
        await benchHandler(azurite, 'ledger', `L${suffix}`, 'none', devDataDir),
      ];
      auth = [
        {
          path: 'handler, ledger backend',
          none: rows[2] as Figures,
          dev: await benchHandler(azurite, 'ledger', `D${suffix}`, 'dev', devDataDir),
          devGrants: await benchHandler(azurite, 'ledger', `G${suffix}`, 'dev, grants', devDataDir),
        },
        {
          path: 'pipeline alone (no ledger)',
          none: await benchHandler(azurite, 'ledger', `P${suffix}`, 'none', devDataDir, false),
          dev: await benchHandler(azurite, 'ledger', `Q${suffix}`, 'dev', devDataDir, false),
          devGrants: await benchHandler(azurite, 'ledger', `R${suffix}`, 'dev, grants', devDataDir, false),
        },
      ];
    }
    print(rows, rows[0] as Figures);
    printAuth(auth);
    const figures = {
      admissions: ADMISSIONS,
      pipelineRequests: PIPELINE_REQUESTS,
      concurrency: CONCURRENCY,
      tenants: TENANTS,
      rows,
      auth,
    };
    console.log(`figures written to ${writeResults('admission', figures)}`);
  } finally {
    await azurite.stop();
    await rm(devDataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
