/**
 * What the function handlers get from the composition root (src/composition.ts): each use case's
 * own dependencies, built once per process. Parts that belong to one invocation (the durable client
 * comes from the invocation's input binding; the sweep's logger and name) come through a small
 * factory taking the InvocationContext. Tests assemble the same from in-memory adapters.
 */
import type { InvocationContext } from '@azure/functions';
import type { ReplyMessageDeps } from './bus/reply-message-handler';
import type { Settings } from './config/settings';
import type { AdmitCommandDeps } from './usecases/admit-command';
import type { CheckReadinessDeps } from './usecases/check-readiness';
import type { ControlJobDeps } from './usecases/control-job';
import type { DeleteJobDeps } from './usecases/delete-job';
import type { IngestReplyDeps } from './usecases/ingest-reply';
import type { JobActivityDeps } from './usecases/job-activities';
import type { ReadJobsDeps } from './usecases/read-jobs';
import type { LeasedSweepDeps } from './usecases/sweep';
import type { Telemetry } from './ports/telemetry';
import type { AuthMode, Authenticator } from './auth/authenticator';
import type { TenantGrants } from './auth/tenant-grants';
import type { CorsPolicy } from './guards/cors';
import type { TokenBucketLimiter } from './guards/rate-limiter';
import type { RequestLimits } from './guards/request-limits';
import type { SecurityHeaderOptions } from './guards/security-headers';
import type { CallbackKeyRing } from './guards/callback-token';

/** What the HTTP edge itself needs, before and after any use case. */
export interface HttpEdgeSettings {
  /** `LUCIUS_MAX_BODY_BYTES`: the largest command body accepted. */
  readonly maxBodyBytes: number;
  /** `LUCIUS_BACKPRESSURE_RETRY_AFTER_SECONDS`: the Retry-After of a 429 or 503. */
  readonly backpressureRetryAfterSeconds: number;
}

/**
 * What the security pipeline of every API route needs (src/http/secure-route.ts), built once per
 * process from the settings.
 */
export interface HttpSecurity {
  readonly mode: AuthMode;
  /** The authenticator of LUCIUS_AUTH_MODE, created on first use and kept for the process. */
  readonly authenticator: () => Promise<Authenticator>;
  /** The tenants of principals whose tokens carry no tenants claim. */
  readonly grants: TenantGrants;
  /** The per-process rate limits; absent with LUCIUS_RATE_LIMITS=off. */
  readonly limiters?: { readonly principal: TokenBucketLimiter; readonly tenant: TokenBucketLimiter };
  readonly cors: CorsPolicy;
  readonly requestLimits: RequestLimits;
  readonly headers: SecurityHeaderOptions;
  /** The dev issuer's public JWKS (LUCIUS_AUTH_MODE=dev only, served at GET /api/dev/jwks.json). */
  readonly devJwks?: () => Promise<unknown>;
}

/**
 * What the readiness probe asks (usecases/check-readiness.ts): the ledger, Service Bus and the
 * durable task hub (through the invocation's durable client), each within `timeoutMs`.
 */
export interface ReadinessDeps extends Omit<CheckReadinessDeps, 'durable'> {
  readonly backend: Settings['storage']['backend'];
  readonly taskHub: string;
  readonly durableFor: (context: InvocationContext) => CheckReadinessDeps['durable'];
}

export interface Services {
  /** Read while the functions register: the sweep schedules and the reply topics. */
  readonly settings: Settings;
  readonly http: HttpEdgeSettings;
  readonly security: HttpSecurity;
  readonly readiness: ReadinessDeps;
  readonly admitCommand: (context: InvocationContext) => AdmitCommandDeps;
  readonly readJobs: ReadJobsDeps;
  /** Cancel and redrive. */
  readonly controlJob: (context: InvocationContext) => ControlJobDeps;
  readonly deleteJob: (context: InvocationContext) => DeleteJobDeps;
  /** A reply over an HTTP callback. */
  readonly ingestReply: (context: InvocationContext) => IngestReplyDeps;
  /** Verifies the `Lucius-Callback-Token` of HTTP callbacks (the same keys sign the directives' tokens). */
  readonly callbackKeys: CallbackKeyRing;
  /** A reply over Service Bus: ingestion, and the quarantine for one that can never be processed. */
  readonly replyMessage: (context: InvocationContext) => ReplyMessageDeps;
  /** The orchestration's activities. */
  readonly jobActivities: JobActivityDeps;
  /** A sweeper timer's run: named and logging after the invocation. */
  readonly sweeper: (context: InvocationContext) => LeasedSweepDeps;
  /** Lifecycle events, metrics and spans (the HTTP and Service Bus edges open the spans). */
  readonly telemetry?: Telemetry;
  /** Releases what the process holds (the Service Bus client of the publisher and quarantine). */
  readonly close: () => Promise<void>;
}
