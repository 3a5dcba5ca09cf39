/**
 * Which jobs a `lucius jobs` command acts on: a tenant's jobs (or every tenant's, the tenants being
 * those the ledger keeps an in-flight counter for), filtered by status, request type and creation
 * time, read page by page newest first (so a `--created-after` bound ends the read early).
 */
import type { JobStatus } from '../domain/job';
import { isJobStatus } from '../domain/job';
import type { JobLedger, JobSummary } from '../ports/job-ledger';
import { UsageError } from './exit-codes';

export interface JobFilter {
  readonly tenantId?: string;
  readonly status?: JobStatus;
  readonly requestType?: string;
  /** Jobs created strictly before this instant. */
  readonly createdBefore?: Date;
  /** Jobs created at or after this instant. */
  readonly createdAfter?: Date;
  /** At most this many jobs in all. */
  readonly limit?: number;
}

export interface JobFilterOptions {
  readonly tenant?: string;
  readonly status?: string;
  readonly requestType?: string;
  readonly createdBefore?: string;
  readonly createdAfter?: string;
  readonly limit?: string;
}

export function parseJobFilter(options: JobFilterOptions): JobFilter {
  const status = options.status?.toUpperCase();
  if (status !== undefined && !isJobStatus(status))
    throw new UsageError(
      `--status must be one of ACCEPTED, RUNNING, SUCCEEDED, FAILED, CANCELLED (got ${options.status})`,
    );
  return {
    ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
    ...(status === undefined ? {} : { status }),
    ...(options.requestType === undefined ? {} : { requestType: options.requestType }),
    ...(options.createdBefore === undefined
      ? {}
      : { createdBefore: parseInstant('--created-before', options.createdBefore) }),
    ...(options.createdAfter === undefined
      ? {}
      : { createdAfter: parseInstant('--created-after', options.createdAfter) }),
    ...(options.limit === undefined ? {} : { limit: parsePositiveInt('--limit', options.limit, 1_000_000) }),
  };
}

export function parseInstant(option: string, value: string): Date {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw new UsageError(
      `${option} must be an ISO 8601 date or time, e.g. 2024-01-31T00:00:00Z (got ${value})`,
    );
  return new Date(ms);
}

export function parsePositiveInt(option: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw new UsageError(`${option} must be a whole number from 1 to ${max} (got ${value})`);
  return n;
}

/** The tenants to look at: the one named, or every tenant with an in-flight counter. */
export async function tenantsOf(ledger: JobLedger, filter: JobFilter): Promise<readonly string[]> {
  if (filter.tenantId !== undefined) return [filter.tenantId];
  const counters = await ledger.listInflightCounters();
  return [...new Set(counters.map((c) => c.tenantId))].sort();
}

export async function* selectJobs(ledger: JobLedger, filter: JobFilter): AsyncGenerator<JobSummary> {
  let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
  for (const tenantId of await tenantsOf(ledger, filter)) {
    let continuation: string | undefined;
    let olderOnly = false;
    do {
      const page = await ledger.listJobs({
        tenantId,
        limit: Math.min(1000, remaining),
        ...(filter.status === undefined ? {} : { status: filter.status }),
        ...(filter.requestType === undefined ? {} : { requestType: filter.requestType }),
        ...(continuation === undefined ? {} : { continuation }),
      });
      for (const job of page.items) {
        const created = Date.parse(job.createdAt);
        // Newest first: once a job is older than the bound, every later one is too.
        olderOnly = filter.createdAfter !== undefined && created < filter.createdAfter.getTime();
        if (olderOnly) break;
        if (filter.createdBefore !== undefined && created >= filter.createdBefore.getTime()) continue;
        yield job;
        remaining -= 1;
        if (remaining <= 0) return;
      }
      continuation = page.continuation;
    } while (continuation !== undefined && !olderOnly);
  }
}
