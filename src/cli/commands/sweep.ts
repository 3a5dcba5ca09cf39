/**
 * `lucius sweep`, `lucius dispatch` and `lucius loop`: the reconciliation sweep (src/usecases/sweep.ts)
 * run from the command line.
 *
 * - `sweep [--shard N] [--kind drift|lease|all]` sweeps the due jobs of the shards (every shard by
 *   default) once; `sweep --job-id <id> [--tenant T]` examines one job now.
 * - `dispatch [--shard N]` re-dispatches stuck steps: a `lease` sweep (its recheck carries redispatch).
 * - `loop [--interval S] [--kind K]` owns shards through ShardLeases (see shard-ownership.ts), sweeps
 *   the shards it holds every interval, and gives its leases up on SIGINT/SIGTERM.
 *
 * The previous system named work by partition, `tenant#yyyymm`. `--partition t1#202401` (on sweep,
 * dispatch and loop) selects that tenant's jobs in flight (ACCEPTED or RUNNING) created in that
 * month (`t1` alone: every month) and examines each now with `sweepJob`; a job is swept in its own
 * shard (its lane), so the partition maps to the shards of those jobs. No lease is taken for it.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { OrchestrationControl } from '../../ports/orchestration-control';
import {
  sweepJob,
  sweepShards,
  type SweepDeps,
  type SweepKind,
  type SweepSummary,
} from '../../usecases/sweep';
import { getTenantJob } from '../../usecases/read-jobs';
import type { CliRuntime } from '../cli-runtime';
import { print, type CommandEnv } from '../command-env';
import { EXIT, UsageError } from '../exit-codes';
import { parsePositiveInt, selectJobs } from '../job-selection';
import { progressBar } from '../progress';
import { ShardOwnership } from '../shard-ownership';

const KINDS: readonly SweepKind[] = ['drift', 'lease', 'all'];

interface SweepOptions {
  readonly shard?: string;
  readonly kind?: string;
  readonly partition?: string;
  readonly json?: boolean;
}

export function registerSweepCommands(program: Command, env: CommandEnv): void {
  program
    .command('sweep')
    .description('sweep the due jobs of the shards once (or examine one job with --job-id)')
    .option('--once', 'sweep once (the default; `loop` sweeps repeatedly)')
    .option('--shard <n>', 'only this shard (lane); default: every shard')
    .option('--kind <kind>', 'drift, lease or all', 'all')
    .option('--job-id <id>', 'examine this job now, whatever its next check')
    .option('--tenant <tenant>', "with --job-id: the job's tenant")
    .option(
      '--partition <tenant#yyyymm>',
      "the previous system's partition: that tenant's jobs in flight created that month",
    )
    .option('--json', 'print JSON')
    .action(async (options: SweepOptions & { jobId?: string; tenant?: string }) => {
      const runtime = env.runtime();
      const kind = parseKind(options.kind);
      if (options.jobId !== undefined) {
        if (options.tenant !== undefined)
          await getTenantJob({ ledger: runtime.ledger }, options.tenant, options.jobId);
        const repair = await sweepJob(sweepDeps(env, runtime, 'lucius sweep'), options.jobId);
        print(
          env,
          options.json,
          { jobId: options.jobId, repair: repair ?? null },
          () => `${options.jobId}: ${repair === undefined ? 'nothing to repair' : `repaired (${repair})`}`,
        );
        return;
      }
      await sweepOnce(env, runtime, kind, options, 'lucius sweep');
    });

  program
    .command('dispatch')
    .description(
      're-dispatch stuck steps: a lease sweep, whose recheck re-publishes a step still DISPATCHING',
    )
    .option('--shard <n>', 'only this shard (lane); default: every shard')
    .option(
      '--partition <tenant#yyyymm>',
      "the previous system's partition: that tenant's jobs in flight created that month",
    )
    .option('--json', 'print JSON')
    .action(async (options: SweepOptions) => {
      await sweepOnce(env, env.runtime(), 'lease', options, 'lucius dispatch');
    });

  program
    .command('loop')
    .description('own shards through leases and sweep them every interval, until SIGINT/SIGTERM')
    .option('--interval <seconds>', 'seconds between rounds (less than LUCIUS_SHARD_LEASE_SECONDS)')
    .option('--kind <kind>', 'drift, lease or all', 'all')
    .option(
      '--partition <tenant#yyyymm>',
      "sweep only the previous system's partition every interval (no leases)",
    )
    .option('--owner <name>', 'the name this loop holds its leases under (default: host:pid:random)')
    .option('--json', 'print one JSON object per event')
    .action(async (options: SweepOptions & { interval?: string; owner?: string }) => {
      await loop(env, options);
    });
}

function parseKind(kind: string | undefined): SweepKind {
  const value = (kind ?? 'all') as SweepKind;
  if (!KINDS.includes(value)) throw new UsageError(`--kind must be drift, lease or all (got ${kind})`);
  return value;
}

function parseShards(runtime: CliRuntime, shard: string | undefined): readonly number[] {
  const laneCount = runtime.settings.admission.laneCount;
  if (shard === undefined) return Array.from({ length: laneCount }, (_, i) => i);
  const n = Number(shard);
  if (!/^\d+$/.test(shard) || n >= laneCount)
    throw new UsageError(`--shard must be a lane number from 0 to ${laneCount - 1} (got ${shard})`);
  return [n];
}

/** `tenant#yyyymm` (or `tenant`): the tenant and the month's bounds. */
export function parsePartition(partition: string): { tenantId: string; from?: Date; to?: Date } {
  const match = /^([^#]+)(?:#(\d{4})(\d{2}))?$/.exec(partition);
  if (match === null)
    throw new UsageError(`--partition must be tenant#yyyymm, e.g. t1#202401 (got ${partition})`);
  const tenantId = match[1] as string;
  if (match[2] === undefined) return { tenantId };
  const year = Number(match[2]);
  const month = Number(match[3]);
  if (month < 1 || month > 12) throw new UsageError(`--partition month must be 01 to 12 (got ${partition})`);
  return { tenantId, from: new Date(Date.UTC(year, month - 1, 1)), to: new Date(Date.UTC(year, month, 1)) };
}

/** The orchestrations are reached only when a repair needs them, so an empty sweep needs no durable API. */
function lazyControl(runtime: CliRuntime): OrchestrationControl {
  return {
    start: (input) => runtime.control.start(input),
    restart: (input) => runtime.control.restart(input),
    raise: (jobId, event, payload) => runtime.control.raise(jobId, event, payload),
    inspect: (jobId) => runtime.control.inspect(jobId),
    purge: (jobId) => runtime.control.purge(jobId),
  };
}

function sweepDeps(env: CommandEnv, runtime: CliRuntime, by: string): SweepDeps {
  return {
    ledger: runtime.ledger,
    control: lazyControl(runtime),
    clock: runtime.clock,
    settings: runtime.settings,
    by,
    // Repairs and failures go to stderr as JSON lines; the per-sweep totals are printed by the command.
    log: (event, fields) => {
      if (event !== 'sweep.completed') env.io.stderr(`${JSON.stringify({ event, ...fields })}\n`);
    },
  };
}

interface PartitionSummary {
  readonly partition: string;
  readonly examined: number;
  readonly repaired: Readonly<Record<string, number>>;
  readonly errors: number;
}

async function sweepPartition(
  env: CommandEnv,
  runtime: CliRuntime,
  partition: string,
  by: string,
  json: boolean,
): Promise<PartitionSummary> {
  const { tenantId, from, to } = parsePartition(partition);
  const deps = sweepDeps(env, runtime, by);
  const jobs = [];
  for (const status of ['ACCEPTED', 'RUNNING'] as const) {
    for await (const job of selectJobs(runtime.ledger, {
      tenantId,
      status,
      ...(from === undefined ? {} : { createdAfter: from }),
      ...(to === undefined ? {} : { createdBefore: to }),
    }))
      jobs.push(job);
  }
  const repaired: Record<string, number> = {};
  let errors = 0;
  const progress = progressBar(`sweep ${partition}`, { json });
  progress.start(jobs.length);
  for (const job of jobs) {
    try {
      const repair = await sweepJob(deps, job.jobId);
      if (repair !== undefined) repaired[repair] = (repaired[repair] ?? 0) + 1;
    } catch (error) {
      errors += 1;
      deps.log('sweep.job_failed', {
        job_id: job.jobId,
        by,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    progress.tick();
  }
  progress.stop();
  return { partition, examined: jobs.length, repaired, errors };
}

async function sweepOnce(
  env: CommandEnv,
  runtime: CliRuntime,
  kind: SweepKind,
  options: SweepOptions,
  by: string,
): Promise<void> {
  const json = options.json === true;
  if (options.partition !== undefined) {
    if (options.shard !== undefined) throw new UsageError('give --shard or --partition, not both');
    const summary = await sweepPartition(env, runtime, options.partition, by, json);
    print(env, json, summary, () => describeSummary(`partition ${summary.partition}`, summary));
    if (summary.errors > 0) env.exit(EXIT.partial);
    return;
  }
  const shards = parseShards(runtime, options.shard);
  const deps = sweepDeps(env, runtime, by);
  const summaries: SweepSummary[] = [];
  const progress = progressBar(`${kind} sweep`, { json });
  progress.start(shards.length);
  for (const shard of shards) {
    summaries.push(await sweepShards(deps, kind, [shard]));
    progress.tick();
  }
  progress.stop();
  const total = combine(kind, shards, summaries);
  print(env, json, total, () =>
    describeSummary(
      `${kind} sweep of ${shards.length === 1 ? `shard ${shards[0]}` : `${shards.length} shards`}`,
      total,
    ),
  );
  if (total.errors > 0) env.exit(EXIT.partial);
}

function combine(kind: SweepKind, shards: readonly number[], summaries: readonly SweepSummary[]) {
  const repaired: Record<string, number> = {};
  for (const s of summaries)
    for (const [k, n] of Object.entries(s.repaired)) repaired[k] = (repaired[k] ?? 0) + (n ?? 0);
  return {
    kind,
    shards,
    examined: summaries.reduce((n, s) => n + s.examined, 0),
    repaired,
    purged: summaries.reduce((n, s) => n + s.purged, 0),
    errors: summaries.reduce((n, s) => n + s.errors, 0),
  };
}

function describeSummary(
  what: string,
  s: { examined: number; repaired: Readonly<Record<string, number | undefined>>; errors: number },
): string {
  const repairs = Object.entries(s.repaired)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return `${what}: ${s.examined} examined, ${repairs === '' ? 'nothing repaired' : `repaired ${repairs}`}, ${s.errors} errors`;
}

async function loop(
  env: CommandEnv,
  options: SweepOptions & { interval?: string; owner?: string },
): Promise<void> {
  const runtime = env.runtime();
  const kind = parseKind(options.kind);
  const leaseSeconds = runtime.settings.sweep.shardLeaseSeconds;
  const json = options.json === true;
  const defaultInterval = Math.max(1, Math.floor(leaseSeconds / 3));
  const interval =
    options.interval === undefined
      ? defaultInterval
      : parsePositiveInt('--interval', options.interval, 86_400);
  const emit = (event: string, fields: Record<string, unknown>, human: string) =>
    env.io.stdout(
      json
        ? `${JSON.stringify({ at: new Date().toISOString(), event, ...fields })}\n`
        : `${new Date().toISOString()}  ${human}\n`,
    );
  const stopped = env.stopSignal();
  const wait = () => Promise.race([new Promise((resolve) => setTimeout(resolve, interval * 1000)), stopped]);

  if (options.partition !== undefined) {
    parsePartition(options.partition);
    while (!env.isStopped()) {
      const summary = await sweepPartition(env, runtime, options.partition, 'lucius loop', true);
      emit(
        'loop.partition_swept',
        { ...summary },
        describeSummary(`partition ${summary.partition}`, summary),
      );
      await wait();
    }
    return;
  }

  if (interval >= leaseSeconds)
    throw new UsageError(
      `--interval (${interval}s) must be less than LUCIUS_SHARD_LEASE_SECONDS (${leaseSeconds}s), or the leases lapse between rounds`,
    );
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const ownership = new ShardOwnership({
    leases: runtime.leases,
    clock: runtime.clock,
    owner,
    laneCount: runtime.settings.admission.laneCount,
    leaseSeconds,
  });
  const deps = sweepDeps(env, runtime, `lucius loop ${owner}`);
  emit(
    'loop.started',
    { owner, interval, leaseSeconds, kind },
    `loop ${owner} started: every ${interval}s, leases of ${leaseSeconds}s, ${kind} sweeps`,
  );
  let previous = '';
  try {
    while (!env.isStopped()) {
      let shards: readonly number[] = ownership.shards;
      try {
        shards = await ownership.claim();
      } catch (error) {
        deps.log('loop.claim_failed', {
          owner,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      const now = shards.join(',');
      if (now !== previous) {
        previous = now;
        emit('loop.owns', { owner, shards }, `owns shards [${now}]`);
      }
      if (shards.length > 0 && !env.isStopped()) {
        try {
          const summary = await sweepShards(deps, kind, shards);
          if (summary.examined > 0 || summary.errors > 0)
            emit(
              'loop.swept',
              { ...summary },
              describeSummary(`${kind} sweep of [${now}]`, { ...summary, repaired: summary.repaired }),
            );
        } catch (error) {
          deps.log('loop.sweep_failed', {
            owner,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      await wait();
    }
  } finally {
    await ownership.releaseAll();
    emit('loop.stopped', { owner }, `loop ${owner} stopped; its leases are released`);
  }
}
