/**
 * One smoke job against a deployment, over its public HTTP API only (no settings, no storage
 * access), so it runs against any Lucius: Azure, `func start` or devhost.
 *
 * 1. `GET /api/healthz` (unless skipped): not ready is a failure, with the dependencies named.
 * 2. `POST /api/v1/commands` with a fresh idempotency key (every run is a new job), label
 *    `smoke: "true"` and correlation id `smoke-<uuid>`.
 * 3. `GET /api/v1/jobs/{id}?tenant_id=` every `intervalMs` until the job is terminal or `timeoutMs`
 *    has passed, reporting each status change of the job and its steps as seen (a change between
 *    two polls is not seen). A poll that fails (network, 5xx) is reported and polling goes on.
 *
 * Commands and reads carry `Authorization: Bearer <token>` when a token source is given
 * (smoke-token.ts); the readiness probe is anonymous. The outcome says whether the job SUCCEEDED
 * and, if not, why in one line. Transport, token source, clock and sleep come in as arguments.
 */
import { randomUUID } from 'node:crypto';

export interface SmokeOptions {
  /** The app's API base, ending in `/api`. */
  readonly apiUrl: string;
  readonly key?: string;
  readonly tenantId: string;
  readonly requestType: string;
  /** `payload.steps` of the command. */
  readonly steps: Readonly<Record<string, unknown>>;
  readonly routingKey?: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly checkHealth: boolean;
}

export interface SmokeDeps {
  readonly fetch: typeof fetch;
  /** The bearer token for each command and read; none: no Authorization header. */
  readonly bearerToken?: () => Promise<string>;
  /** A monotonic reading in ms. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Called for each event as it happens (the command prints it). */
  readonly onEvent: (event: SmokeEvent) => void;
}

export interface SmokeEvent {
  /** Since the run started. */
  readonly atMs: number;
  /** `health`, `submit`, `job`, `step <id>` or `poll`. */
  readonly subject: string;
  readonly status: string;
  readonly detail?: string;
}

export interface StepTiming {
  readonly stepId: string;
  readonly status: string;
  readonly attempts: number;
  /** From the step's start (its ACK) to its end, by the app's clock, when both are known. */
  readonly durationMs?: number;
}

export interface SmokeOutcome {
  readonly succeeded: boolean;
  /** SUCCEEDED, FAILED, CANCELLED, TIMEOUT, NOT_READY, REJECTED or UNREACHABLE. */
  readonly outcome: string;
  /** Why it did not succeed, in one line. */
  readonly reason?: string;
  readonly jobId?: string;
  readonly lane?: number;
  readonly elapsedMs: number;
  /** Admission to the terminal status, by the app's clock. */
  readonly jobDurationMs?: number;
  readonly steps: readonly StepTiming[];
  readonly events: readonly SmokeEvent[];
}

/** `payload.steps` entries the bundled protocols' steps accept (see schemas/steps/). */
export const SAMPLE_STEP_PAYLOADS: Readonly<Record<string, unknown>> = {
  ocr: { output_format: 'TEXT' },
  embedding: { model: 'text-embedding-3-large' },
  sis: { analysis: ['summary'] },
};

/**
 * The sample `payload.steps` of a request type named by its steps (`OCR->EMBEDDING`), or undefined
 * when a step has no sample (then the caller gives `--payload`).
 */
export function sampleSteps(requestType: string): Record<string, unknown> | undefined {
  const steps: Record<string, unknown> = {};
  for (const part of requestType.split('->')) {
    const stepId = part.trim().toLowerCase();
    const sample = SAMPLE_STEP_PAYLOADS[stepId];
    if (sample === undefined) return undefined;
    steps[stepId] = sample;
  }
  return steps;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

interface StepView {
  readonly stepId: string;
  readonly status: string;
  readonly attemptNo?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly failure?: { readonly failureClass?: string; readonly message?: string };
}

interface JobView {
  readonly jobId: string;
  readonly status: string;
  readonly lane?: number;
  readonly createdAt?: string;
  readonly finishedAt?: string;
  readonly failure?: { readonly stepId?: string; readonly failureClass?: string; readonly message?: string };
  readonly cancelReason?: string;
  readonly steps?: readonly StepView[];
}

export async function runSmoke(options: SmokeOptions, deps: SmokeDeps): Promise<SmokeOutcome> {
  const started = deps.now();
  const events: SmokeEvent[] = [];
  const elapsed = () => Math.round(deps.now() - started);
  const emit = (subject: string, status: string, detail?: string) => {
    const event: SmokeEvent = {
      atMs: elapsed(),
      subject,
      status,
      ...(detail === undefined ? {} : { detail }),
    };
    events.push(event);
    deps.onEvent(event);
  };
  const end = (outcome: string, rest: Partial<SmokeOutcome> = {}): SmokeOutcome => ({
    succeeded: outcome === 'SUCCEEDED',
    outcome,
    elapsedMs: elapsed(),
    steps: [],
    events,
    ...rest,
  });
  const headers: Record<string, string> = options.key === undefined ? {} : { 'x-functions-key': options.key };
  /** A request to the API; `anonymous` ones (the readiness probe) carry no bearer token. */
  const call = async (path: string, init: RequestInit = {}, anonymous = false): Promise<Answer> => {
    const url = `${options.apiUrl}${path}`;
    // Outside the try: a token that cannot be had is not an unreachable app.
    const token = anonymous || deps.bearerToken === undefined ? undefined : await deps.bearerToken();
    const authorization: Record<string, string> =
      token === undefined ? {} : { authorization: `Bearer ${token}` };
    try {
      const response = await deps.fetch(url, {
        ...init,
        headers: { ...headers, ...authorization, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(Math.max(1000, Math.min(30_000, options.timeoutMs))),
      });
      const text = await response.text();
      return { status: response.status, body: parseJson(text), text };
    } catch (error) {
      throw new Unreachable(`cannot reach ${url}: ${describeError(error)}`);
    }
  };

  try {
    if (options.checkHealth) {
      const health = await call('/healthz', {}, true);
      if (health.status !== 200) {
        const reason = `not ready: /healthz answered ${health.status}${problemDetail(health)}`;
        emit('health', 'NOT_READY', reason);
        return end('NOT_READY', { reason });
      }
      emit('health', 'ok', latencies(health.body));
    }

    const submitted = await call('/v1/commands', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant_id: options.tenantId,
        request_type: options.requestType,
        input_ref: 'smoke://lucius/input',
        output_ref: 'smoke://lucius/output',
        payload: { steps: options.steps },
        schema_version: 'v1',
        idempotency_key: `smoke-${randomUUID()}`,
        correlation_id: `smoke-${randomUUID()}`,
        labels: { smoke: 'true' },
        ...(options.routingKey === undefined ? {} : { routing_key: options.routingKey }),
      }),
    });
    const admitted = submitted.body as Partial<JobView> | undefined;
    if (submitted.status !== 202 || typeof admitted?.jobId !== 'string') {
      const reason = `the command was refused: ${submitted.status}${problemDetail(submitted)}${hintFor(submitted, options, deps.bearerToken !== undefined)}`;
      emit('submit', 'REJECTED', reason);
      return end('REJECTED', { reason });
    }
    const jobId = admitted.jobId;
    const lane = typeof admitted.lane === 'number' ? admitted.lane : undefined;
    emit('submit', 'ACCEPTED', `job ${jobId}${lane === undefined ? '' : ` on lane ${lane}`}`);

    // What admission answered is the starting point: only changes from it are reported.
    const seen = new Map<string, string>([['job', 'ACCEPTED']]);
    for (const step of admitted.steps ?? [])
      seen.set(`step ${step.stepId}`, `${step.status}#${step.attemptNo ?? 0}`);
    let last: JobView | undefined;
    let lastPollProblem: string | undefined;
    const deadline = started + options.timeoutMs;
    for (;;) {
      let view: JobView | undefined;
      try {
        const answer = await call(
          `/v1/jobs/${encodeURIComponent(jobId)}?tenant_id=${encodeURIComponent(options.tenantId)}`,
        );
        if (answer.status === 200) view = answer.body as JobView;
        else {
          const problem = `GET job answered ${answer.status}${problemDetail(answer)}`;
          if (problem !== lastPollProblem) emit('poll', 'FAILED', problem);
          lastPollProblem = problem;
        }
      } catch (error) {
        const problem = error instanceof Error ? error.message : String(error);
        if (problem !== lastPollProblem) emit('poll', 'FAILED', problem);
        lastPollProblem = problem;
      }
      if (view !== undefined) {
        lastPollProblem = undefined;
        last = view;
        const job = view;
        const finished = TERMINAL.has(job.status);
        // A job's change reads before its steps' (RUNNING, then a step dispatched), but its terminal
        // status after them: the steps ended first, even when one poll sees both.
        if (!finished) note(seen, 'job', job.status, () => emit('job', job.status));
        for (const step of job.steps ?? []) {
          const subject = `step ${step.stepId}`;
          const attempt = step.attemptNo ? `attempt ${step.attemptNo}` : undefined;
          note(seen, subject, `${step.status}#${step.attemptNo ?? 0}`, () =>
            emit(subject, step.status, attempt),
          );
        }
        if (finished) {
          note(seen, 'job', job.status, () => emit('job', job.status));
          break;
        }
      }
      const left = deadline - deps.now();
      if (left <= 0) break;
      await deps.sleep(Math.min(options.intervalMs, left));
    }

    const timings = (last?.steps ?? []).map(stepTiming);
    const jobDurationMs = between(last?.createdAt, last?.finishedAt);
    const common = {
      jobId,
      ...(lane === undefined ? {} : { lane }),
      steps: timings,
      ...(jobDurationMs === undefined ? {} : { jobDurationMs }),
    };
    if (last?.status === 'SUCCEEDED') return end('SUCCEEDED', common);
    if (last !== undefined && TERMINAL.has(last.status))
      return end(last.status, { ...common, reason: `job ${last.status}: ${whyEnded(last)}` });
    const waiting =
      last === undefined ? 'the job was never read back' : `last seen ${last.status}${pending(last)}`;
    return end('TIMEOUT', {
      ...common,
      reason: `the job did not finish within ${Math.round(options.timeoutMs / 1000)} s (${waiting}); it is left running: cancel it with POST /api/v1/jobs/${jobId}/cancel?tenant_id=${options.tenantId}`,
    });
  } catch (error) {
    if (error instanceof Unreachable) return end('UNREACHABLE', { reason: error.message });
    throw error;
  }
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

class Unreachable extends Error {}

/** Runs `report` when `subject`'s state differs from the one last seen. */
function note(seen: Map<string, string>, subject: string, state: string, report: () => void): void {
  if (seen.get(subject) === state) return;
  seen.set(subject, state);
  report();
}

function stepTiming(step: StepView): StepTiming {
  const durationMs = between(step.startedAt, step.finishedAt);
  return {
    stepId: step.stepId,
    status: step.status,
    attempts: step.attemptNo ?? 0,
    ...(durationMs === undefined ? {} : { durationMs }),
  };
}

function between(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? undefined : ms;
}

function whyEnded(job: JobView): string {
  if (job.failure !== undefined) {
    const where = job.failure.stepId === undefined ? '' : `step ${job.failure.stepId} `;
    return `${where}${job.failure.failureClass ?? 'failed'}: ${job.failure.message ?? '(no message)'}`;
  }
  if (job.cancelReason !== undefined) return `cancelled: ${job.cancelReason}`;
  const failed = job.steps?.find((step) => step.failure !== undefined);
  return failed?.failure === undefined
    ? 'no reason recorded'
    : `step ${failed.stepId} ${failed.failure.failureClass ?? 'failed'}: ${failed.failure.message ?? ''}`;
}

function pending(job: JobView): string {
  const open = job.steps?.find((step) => !['SUCCEEDED', 'CANCELLED', 'FAILED_FINAL'].includes(step.status));
  return open === undefined
    ? ''
    : `, step ${open.stepId} ${open.status}${open.attemptNo ? ` attempt ${open.attemptNo}` : ''}`;
}

function latencies(body: unknown): string {
  const record = (body ?? {}) as Record<string, unknown>;
  const parts = Object.entries(record)
    .filter(([, value]) => typeof (value as { latency_ms?: unknown } | null)?.latency_ms === 'number')
    .map(([name, value]) => `${name} ${(value as { latency_ms: number }).latency_ms} ms`);
  return parts.length === 0 ? 'ready' : parts.join(', ');
}

function problemDetail(answer: Answer): string {
  const body = answer.body as { code?: unknown; detail?: unknown } | undefined;
  if (typeof body?.detail === 'string')
    return `: ${typeof body.code === 'string' ? `${body.code}: ` : ''}${body.detail}`;
  const text = answer.text.trim();
  return text === '' ? '' : `: ${text.slice(0, 200)}`;
}

/** Problem codes of a refused bearer token (the app's 401s); the host's function-key 401 has others. */
const TOKEN_REFUSED = new Set(['unauthenticated', 'invalid_token']);
const TOKEN_SHORT = new Set(['missing_role', 'tenant_forbidden']);

function hintFor(answer: Answer, options: SmokeOptions, withToken: boolean): string {
  const code = (answer.body as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && TOKEN_REFUSED.has(code))
    return withToken
      ? " (is the token for this app's audience, from its issuer and not expired?)"
      : ' (pass a bearer token: --token or LUCIUS_TOKEN, --scope api://<app id>/.default, or --dev-token against npm start)';
  if (typeof code === 'string' && TOKEN_SHORT.has(code))
    return ` (the token needs the roles Lucius.Submit and Lucius.Read and the tenant ${options.tenantId})`;
  if (answer.status === 401 || answer.status === 403)
    return options.key === undefined
      ? ' (pass the function key with --key or LUCIUS_FUNCTION_KEY)'
      : ' (is --key a key of this function app?)';
  if (answer.status === 404) return ' (is --url the function app, e.g. https://<app>.azurewebsites.net?)';
  return '';
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
