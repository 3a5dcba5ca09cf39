/**
 * `lucius jobs`: list, get, watch, cancel, redrive. Cancel and redrive go through the same use
 * cases as the HTTP API (src/usecases/control-job.ts), with the orchestrations reached through the
 * Durable Functions HTTP API. With `--filter` they act on every job the filter options select
 * (bounded concurrency, `--dry-run` to only count), and end with applied/skipped/failed counts:
 * a job is skipped when it is not in a state the action applies to (cancel: ACCEPTED or RUNNING;
 * redrive: FAILED) or another writer got there first; exit 4 when some failed.
 */
import type { Command } from 'commander';
import { InvalidTransitionError } from '../../domain/errors';
import { isTerminalJobStatus, type Job } from '../../domain/job';
import { toJobSummary } from '../../ledger/ledger-rules';
import type { JobSummary, JobWithSteps } from '../../ports/job-ledger';
import { cancelTenantJob, redriveTenantJob, type ControlResult } from '../../usecases/control-job';
import { getTenantJob } from '../../usecases/read-jobs';
import { forEachBounded } from '../../usecases/bounded';
import { print, table, type CommandEnv } from '../command-env';
import { EXIT, NotFoundError, UsageError } from '../exit-codes';
import { parseJobFilter, parsePositiveInt, selectJobs, type JobFilterOptions } from '../job-selection';
import { progressBar } from '../progress';

interface JsonOption {
  readonly json?: boolean;
}

function addFilterOptions(command: Command, what: string, tenantRequired = false): Command {
  const withTenant = tenantRequired
    ? command.requiredOption('--tenant <tenant>', 'the tenant whose jobs to list')
    : command.option('--tenant <tenant>', `only this tenant's jobs (default: every tenant with jobs)`);
  return withTenant
    .option('--status <status>', `only jobs in this status (${what})`)
    .option('--request-type <type>', 'only jobs of this request type')
    .option('--created-before <iso>', 'only jobs created before this instant')
    .option('--created-after <iso>', 'only jobs created at or after this instant')
    .option('--limit <n>', 'at most this many jobs');
}

export function registerJobsCommands(program: Command, env: CommandEnv): void {
  const jobs = program.command('jobs').description('read and act on jobs in the ledger');

  addFilterOptions(jobs.command('list').description("list a tenant's jobs, newest first"), 'any', true)
    .option('--json', 'print JSON')
    .action(async (options: JobFilterOptions & JsonOption) => {
      const filter = parseJobFilter({ limit: '100', ...options });
      const items: JobSummary[] = [];
      for await (const job of selectJobs(env.runtime().ledger, filter)) items.push(job);
      print(env, options.json, { items }, () =>
        items.length === 0
          ? 'no jobs'
          : table([
              ['JOB', 'STATUS', 'REQUEST TYPE', 'CREATED', 'UPDATED'],
              ...items.map((j) => [j.jobId, j.status, j.requestType, j.createdAt, j.updatedAt]),
            ]),
      );
    });

  jobs
    .command('get <jobId>')
    .description('show a job with its steps and repairs')
    .option('--tenant <tenant>', "the job's tenant (another tenant's job is not found)")
    .option('--json', 'print JSON')
    .action(async (jobId: string, options: { tenant?: string } & JsonOption) => {
      const found = await readJob(env, jobId, options.tenant);
      print(env, options.json, found, () => describeJob(found));
    });

  jobs
    .command('watch <jobId>')
    .description("follow a job's steps until it ends (exit 0 when it succeeded, 1 otherwise)")
    .option('--tenant <tenant>', "the job's tenant")
    .option('--poll <ms>', 'how often to read the ledger, in milliseconds', '1000')
    .option('--json', 'print one JSON object per change')
    .action(async (jobId: string, options: { tenant?: string; poll: string } & JsonOption) => {
      const pollMs = parsePositiveInt('--poll', options.poll, 3_600_000);
      await watchJob(env, jobId, options.tenant, pollMs, options.json === true);
    });

  for (const action of ['cancel', 'redrive'] as const) {
    addFilterOptions(
      jobs
        .command(`${action} [jobId]`)
        .description(
          action === 'cancel'
            ? 'cancel a job, or with --filter every selected job that is ACCEPTED or RUNNING'
            : 'redrive a FAILED job, or with --filter every selected FAILED job',
        )
        .option('--filter', 'act on every job the filter options select instead of one job')
        .option('--dry-run', 'with --filter: only count what would be done')
        .option('--concurrency <n>', 'with --filter: jobs acted on at once', '4'),
      action === 'cancel' ? 'default: any' : 'default: any; only FAILED ones are redriven',
    )
      .option('--reason <text>', 'why (cancel only; recorded on the job)')
      .option('--json', 'print JSON')
      .action(async (jobId: string | undefined, options: BulkOptions) => {
        if (options.filter === true) {
          if (jobId !== undefined) throw new UsageError(`give a job id or --filter, not both`);
          await bulk(env, action, options);
          return;
        }
        if (jobId === undefined) throw new UsageError(`give the id of the job to ${action}, or --filter`);
        const result = await controlOne(env, action, jobId, options.tenant, options.reason);
        print(
          env,
          options.json,
          result,
          () =>
            `${jobId}: ${result.changed ? `${action === 'cancel' ? 'cancelled' : 'redriven'}` : `already ${result.job.status}`} (${result.job.status})`,
        );
      });
  }
}

interface BulkOptions extends JobFilterOptions, JsonOption {
  readonly filter?: boolean;
  readonly dryRun?: boolean;
  readonly concurrency: string;
  readonly reason?: string;
}

async function readJob(env: CommandEnv, jobId: string, tenantId: string | undefined): Promise<JobWithSteps> {
  const { ledger } = env.runtime();
  if (tenantId !== undefined) return getTenantJob({ ledger }, tenantId, jobId);
  const found = /^[A-Za-z0-9-]{1,128}$/.test(jobId) ? await ledger.getJob(jobId) : undefined;
  if (found === undefined) throw new NotFoundError(`job ${jobId} does not exist`);
  return found;
}

async function controlOne(
  env: CommandEnv,
  action: 'cancel' | 'redrive',
  jobId: string,
  tenantId: string | undefined,
  reason: string | undefined,
): Promise<ControlResult> {
  const runtime = env.runtime();
  const tenant = tenantId ?? (await readJob(env, jobId, undefined)).job.tenantId;
  const { ledger, clock, control, settings } = runtime;
  if (action === 'cancel') return cancelTenantJob({ ledger, clock, signals: control }, tenant, jobId, reason);
  return redriveTenantJob(
    { ledger, clock, starter: control, maxInflightPerTenant: settings.admission.maxInflightPerTenant },
    tenant,
    jobId,
  );
}

function appliesTo(action: 'cancel' | 'redrive', job: JobSummary): boolean {
  return action === 'cancel' ? !isTerminalJobStatus(job.status) : job.status === 'FAILED';
}

type Outcome = 'applied' | 'skipped' | 'failed';

async function bulk(env: CommandEnv, action: 'cancel' | 'redrive', options: BulkOptions): Promise<void> {
  const filter = parseJobFilter(options);
  const concurrency = parsePositiveInt('--concurrency', options.concurrency, 64);
  const dryRun = options.dryRun === true;
  const selected: JobSummary[] = [];
  for await (const job of selectJobs(env.runtime().ledger, filter)) selected.push(job);

  const items: { jobId: string; tenantId: string; status: string; outcome: Outcome; error?: string }[] = [];
  const progress = progressBar(`${action}`, { json: options.json === true || dryRun });
  progress.start(selected.length);
  await forEachBounded(selected, concurrency, async (job) => {
    let outcome: Outcome = appliesTo(action, job) ? 'applied' : 'skipped';
    let error: string | undefined;
    if (outcome === 'applied' && !dryRun) {
      try {
        const result = await controlOne(env, action, job.jobId, job.tenantId, options.reason);
        if (!result.changed) outcome = 'skipped';
      } catch (failure) {
        // Another writer moved the job first: nothing left to do for it.
        outcome = failure instanceof InvalidTransitionError ? 'skipped' : 'failed';
        error = failure instanceof Error ? failure.message : String(failure);
      }
    }
    items.push({
      jobId: job.jobId,
      tenantId: job.tenantId,
      status: job.status,
      outcome,
      ...(error === undefined ? {} : { error }),
    });
    progress.tick();
  });
  progress.stop();

  const count = (outcome: Outcome) => items.filter((i) => i.outcome === outcome).length;
  const summary = {
    action,
    dryRun,
    matched: selected.length,
    applied: count('applied'),
    skipped: count('skipped'),
    failed: count('failed'),
  };
  print(env, options.json, { ...summary, items }, () => {
    const verb = action === 'cancel' ? 'cancelled' : 'redriven';
    const lines = items
      .filter((i) => i.outcome !== 'skipped' || dryRun)
      .map(
        (i) =>
          `${i.jobId}  ${i.status}  ${dryRun ? (i.outcome === 'applied' ? `would be ${verb}` : 'skipped') : i.outcome}${i.error === undefined ? '' : `: ${i.error}`}`,
      );
    const total = dryRun
      ? `dry run: ${summary.matched} matched, ${summary.applied} would be ${verb}, ${summary.skipped} skipped`
      : `${summary.matched} matched: ${summary.applied} ${verb}, ${summary.skipped} skipped, ${summary.failed} failed`;
    return [...lines, total].join('\n');
  });
  if (summary.failed > 0) env.exit(EXIT.partial);
}

function describeJob({ job, steps }: JobWithSteps): string {
  const lines = [
    `job ${job.jobId}  ${job.status}`,
    `  tenant ${job.tenantId}  request ${job.requestType}  lane ${job.lane}  redrives ${job.redrives}`,
    `  created ${job.createdAt}  updated ${job.updatedAt}${job.deadlineAt === undefined ? '' : `  deadline ${job.deadlineAt}`}`,
  ];
  if (job.failure !== undefined)
    lines.push(
      `  failure ${job.failure.failureClass}${job.failure.stepId === undefined ? '' : ` at ${job.failure.stepId}`}: ${job.failure.message}`,
    );
  if (job.cancelReason !== undefined) lines.push(`  cancel reason: ${job.cancelReason}`);
  lines.push(
    '',
    table([
      ['STEP', 'TYPE', 'STATUS', 'ATTEMPT', 'UPDATED', 'FAILURE'],
      ...steps.map((s) => [
        s.stepId,
        s.type,
        s.status,
        String(s.attemptNo),
        s.updatedAt,
        s.failure === undefined ? '' : `${s.failure.failureClass}: ${s.failure.message}`,
      ]),
    ]),
  );
  const repairs = job.repairs ?? [];
  if (repairs.length > 0) {
    lines.push('', 'repairs:');
    for (const r of repairs) lines.push(`  ${r.at}  ${r.kind}  ${r.reason}  (by ${r.by})`);
  }
  return lines.join('\n');
}

/** One line per step (status or attempt) change and per job status change, until the job ends. */
async function watchJob(
  env: CommandEnv,
  jobId: string,
  tenantId: string | undefined,
  pollMs: number,
  json: boolean,
): Promise<void> {
  const seen = new Map<string, string>();
  const stopped = env.stopSignal();
  let job: Job | undefined;
  for (;;) {
    const found = await readJob(env, jobId, tenantId);
    job = found.job;
    const changes: { subject: string; state: string; detail: Record<string, unknown> }[] = [];
    for (const step of found.steps) {
      const state = `${step.status}#${step.attemptNo}`;
      if (seen.get(step.stepId) !== state) {
        seen.set(step.stepId, state);
        changes.push({
          subject: `step ${step.stepId}`,
          state: step.status,
          detail: {
            stepId: step.stepId,
            status: step.status,
            attemptNo: step.attemptNo,
            ...(step.failure === undefined ? {} : { failure: step.failure }),
          },
        });
      }
    }
    if (seen.get('') !== job.status) {
      seen.set('', job.status);
      changes.push({ subject: `job ${job.jobId}`, state: job.status, detail: { job: toJobSummary(job) } });
    }
    for (const change of changes) {
      env.io.stdout(
        json
          ? `${JSON.stringify({ at: new Date().toISOString(), ...change.detail })}\n`
          : `${new Date().toISOString()}  ${change.subject}  ${change.state}${'attemptNo' in change.detail ? `  attempt ${String(change.detail['attemptNo'])}` : ''}\n`,
      );
    }
    if (isTerminalJobStatus(job.status) || env.isStopped()) break;
    await Promise.race([new Promise((resolve) => setTimeout(resolve, pollMs)), stopped]);
  }
  if (job.status !== 'SUCCEEDED') env.exit(EXIT.failure);
}
