/**
 * Real HttpRequest/InvocationContext objects and in-memory services for handler tests: the app's own
 * wiring (`assembleServices`) over in-memory adapters, which the tests reach directly too.
 */
import { randomUUID } from 'node:crypto';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { ephemeralCallbackKeyRing } from '../../../src/config/callback-settings';
import { loadProtocolRegistry } from '../../../src/config/protocol-registry';
import { parseSettings, type Settings } from '../../../src/config/settings';
import { validateCommandEnvelope } from '../../../src/contracts/command-envelope';
import { validateStepPayload } from '../../../src/contracts/step-payloads';
import { assembleServices, type Adapters } from '../../../src/composition';
import { createAuthAdapters, type AuthAdapters } from '../../../src/composition-security';
import { parseAuthSettings } from '../../../src/config/auth-settings';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../../../src/auth/principal';
import type { Caller } from '../../../src/http/caller';
import { createCaller } from '../../../src/http/secure-route';
import type { Clock } from '../../../src/domain/clock';
import { isLiveInstance, type InstanceInfo, type InstanceState } from '../../../src/domain/instance';
import { handleAdmitCommand } from '../../../src/http/command-handlers';
import { MemoryJobLedger } from '../../../src/ledger/memory-job-ledger';
import { MemoryShardLeases } from '../../../src/ledger/memory-shard-leases';
import { MemoryDirectivePublisher } from '../../../src/messaging/memory-directive-publisher';
import { MemoryReplyQuarantine } from '../../../src/messaging/memory-reply-quarantine';
import { OrchestrationUnavailableError } from '../../../src/orchestration/errors';
import type { JobLedger } from '../../../src/ports/job-ledger';
import type { OrchestrationControl } from '../../../src/ports/orchestration-control';
import type { OrchestrationSignals } from '../../../src/ports/orchestration-signals';
import type { JobOrchestrationInput, OrchestrationStarter } from '../../../src/ports/orchestration-starter';
import type { Services } from '../../../src/services';

export const ORIGIN = 'http://localhost:7071';

export function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant_id: 't1',
    request_type: 'OCR->EMBEDDING',
    input_ref: 'blob://in/doc.pdf',
    output_ref: 'blob://out/doc',
    payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
    schema_version: 'v1',
    ...overrides,
  };
}

/** A durable backend stand-in that remembers started instances; `failNext` makes starts fail. */
export class RecordingStarter implements OrchestrationStarter {
  readonly started = new Map<string, JobOrchestrationInput>();
  failing = false;

  async start(input: JobOrchestrationInput): Promise<void> {
    await Promise.resolve();
    if (this.failing) throw new OrchestrationUnavailableError(input.jobId, new Error('durable backend down'));
    this.started.set(input.jobId, input);
  }

  async restart(input: JobOrchestrationInput): Promise<void> {
    await this.start(input);
  }
}

/** Remembers the events raised, in order; `failing` makes raising fail as an unreachable backend would. */
export class RecordingSignals implements OrchestrationSignals {
  readonly raised: Array<{ jobId: string; eventName: string; payload: unknown }> = [];
  failing = false;

  async raise(jobId: string, eventName: string, payload: unknown): Promise<void> {
    await Promise.resolve();
    if (this.failing)
      throw new OrchestrationUnavailableError(jobId, new Error('durable backend down'), 'signal');
    this.raised.push({ jobId, eventName, payload });
  }
}

/**
 * A durable backend stand-in for the control port: instances by job id (started ones run until a
 * test ends or purges them), with starts and raised events recorded by the starter and signals
 * above; `failing` makes inspect and purge fail as an unreachable backend would.
 */
export class MemoryOrchestrationControl implements OrchestrationControl {
  readonly instances = new Map<string, InstanceInfo>();
  readonly purged: string[] = [];
  failing = false;

  constructor(
    readonly starter: RecordingStarter = new RecordingStarter(),
    readonly signals: RecordingSignals = new RecordingSignals(),
  ) {}

  async start(input: JobOrchestrationInput): Promise<void> {
    await this.starter.start(input);
    if ((this.instances.get(input.jobId)?.state ?? 'Missing') === 'Missing')
      this.instances.set(input.jobId, { state: 'Running', drive: input.drive ?? 0 });
  }

  async restart(input: JobOrchestrationInput): Promise<void> {
    const existing = this.instances.get(input.jobId);
    if (existing !== undefined && isLiveInstance(existing.state)) {
      if ((existing.drive ?? 0) === (input.drive ?? 0)) return;
      throw new OrchestrationUnavailableError(input.jobId, new Error('an older run is still finishing'));
    }
    await this.starter.restart(input);
    this.instances.set(input.jobId, { state: 'Running', drive: input.drive ?? 0 });
  }

  raise(jobId: string, eventName: string, payload: unknown): Promise<void> {
    return this.signals.raise(jobId, eventName, payload);
  }

  async inspect(jobId: string): Promise<InstanceInfo> {
    await Promise.resolve();
    if (this.failing)
      throw new OrchestrationUnavailableError(jobId, new Error('durable backend down'), 'control');
    return this.instances.get(jobId) ?? { state: 'Missing' };
  }

  async purge(jobId: string): Promise<boolean> {
    await Promise.resolve();
    if (this.failing)
      throw new OrchestrationUnavailableError(jobId, new Error('durable backend down'), 'control');
    this.purged.push(jobId);
    return this.instances.delete(jobId);
  }

  /** The instance ends as the durable backend would show it (terminated by an operator, failed, ...). */
  end(jobId: string, state: InstanceState): void {
    this.instances.set(jobId, { ...(this.instances.get(jobId) ?? {}), state });
  }
}

/** Advances one millisecond per reading, so jobs admitted in sequence sort deterministically. */
export class SteppingClock implements Clock {
  private t: number;
  constructor(start = Date.parse('2026-05-01T12:00:00.000Z')) {
    this.t = start;
  }
  now(): Date {
    this.t += 1;
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestServices extends Services, Adapters {
  readonly starter: RecordingStarter;
  readonly signals: RecordingSignals;
  readonly control: MemoryOrchestrationControl;
  readonly publisher: MemoryDirectivePublisher;
  readonly quarantine: MemoryReplyQuarantine;
  readonly clock: SteppingClock;
}

/**
 * `parts` replaces an adapter: a ledger under test, a clock the test controls, the API's
 * authentication. Without `auth`, it is the one `env` names, LUCIUS_AUTH_MODE=none by default (every
 * request is the anonymous principal, with every role and tenant).
 */
export function testServices(
  env: Record<string, string> = {},
  parts: { readonly ledger?: JobLedger; readonly clock?: Clock; readonly auth?: AuthAdapters } = {},
): TestServices {
  const settings: Settings = parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory', ...env });
  const auth =
    parts.auth ?? createAuthAdapters(parseAuthSettings({ LUCIUS_AUTH_MODE: 'none', ...env }), settings);
  const starter = new RecordingStarter();
  const signals = new RecordingSignals();
  const control = new MemoryOrchestrationControl(starter, signals);
  let next = 0;
  const adapters = {
    settings,
    ledger: parts.ledger ?? new MemoryJobLedger(),
    registry: loadProtocolRegistry(),
    validateEnvelope: validateCommandEnvelope,
    validateStepPayload,
    // A clock a test passes in (the orchestration harness's) is never stepped by the tests.
    clock: (parts.clock ?? new SteppingClock()) as SteppingClock,
    newJobId: () => `00000000-0000-4000-8000-${String(++next).padStart(12, '0')}`,
    starterFor: () => starter,
    signalsFor: () => signals,
    controlFor: () => control,
    shardLeases: new MemoryShardLeases(),
    publisher: new MemoryDirectivePublisher(settings.serviceBus.topicPrefix),
    quarantine: new MemoryReplyQuarantine(),
    callbackKeys: ephemeralCallbackKeyRing(),
    auth,
  };
  return { ...adapters, ...assembleServices(adapters), starter, signals, control };
}

export function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): HttpRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new HttpRequest({ method: 'POST', url: `${ORIGIN}${path}`, headers, body: { string: text } });
}

export function get(path: string, params: Record<string, string> = {}): HttpRequest {
  const url = new URL(`${ORIGIN}${path}`);
  return new HttpRequest({
    method: 'GET',
    url: url.toString(),
    params,
    query: Object.fromEntries(url.searchParams),
  });
}

export function context(functionName = 'test'): InvocationContext {
  return new InvocationContext({ invocationId: 'inv-1', functionName, logHandler: () => undefined });
}

/** The parsed JSON body of a handler's response (jsonBody or a string body). */
export function bodyOf(response: HttpResponseInit): Record<string, unknown> {
  if (response.jsonBody !== undefined)
    return JSON.parse(JSON.stringify(response.jsonBody)) as Record<string, unknown>;
  return JSON.parse(String(response.body)) as Record<string, unknown>;
}

export function headerOf(response: HttpResponseInit, name: string): string | undefined {
  const headers = (response.headers ?? {}) as Record<string, string>;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

/** A POST to a route with path parameters (`request.params`, as the host fills them); no body when `body` is undefined. */
export function postTo(
  path: string,
  params: Record<string, string>,
  body?: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): HttpRequest {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return new HttpRequest({
    method: 'POST',
    url: `${ORIGIN}${path}`,
    headers,
    params,
    body: { string: text },
  });
}

/**
 * The caller a handler gets from the security pipeline for `principal` (default the anonymous
 * principal of LUCIUS_AUTH_MODE=none: every role and tenant), over the services' grants.
 */
export function callerFor(
  services: Pick<TestServices, 'security'>,
  principal: Principal = ANONYMOUS_PRINCIPAL,
): Caller {
  return createCaller(services.security.grants, principal);
}

/** Admits a command (by default the two-step OCR->EMBEDDING of `envelope()`) through the real handler; its job id. */
export async function admitJob(
  services: TestServices,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const response = await handleAdmitCommand(
    services,
    post('/api/v1/commands', envelope(overrides)),
    context(),
    callerFor(services),
  );
  if (response.status !== 202)
    throw new Error(`admission answered ${response.status}: ${JSON.stringify(bodyOf(response))}`);
  return bodyOf(response).jobId as string;
}

/** The attempt a reply must echo. */
export interface AttemptKey {
  readonly jobId: string;
  readonly stepId: string;
  readonly attemptNo: number;
  readonly leaseId: string;
}

/**
 * Dispatches the next attempt of a step in the ledger (a fresh lease, ACK deadline in 30 s) and,
 * unless `published` is false, records its directive as published (AWAITING_ACK).
 */
export async function dispatchStep(
  services: TestServices,
  jobId: string,
  stepId = 'ocr',
  options: { readonly published?: boolean } = {},
): Promise<AttemptKey> {
  const step = (await services.ledger.getJob(jobId))?.steps.find((s) => s.stepId === stepId);
  if (step === undefined) throw new Error(`no step ${stepId} in job ${jobId}`);
  const attempt = { jobId, stepId, attemptNo: step.attemptNo + 1, leaseId: randomUUID() };
  const now = services.clock.now();
  await services.ledger.applyStepEvent(
    jobId,
    stepId,
    {
      type: 'DISPATCH',
      attemptNo: attempt.attemptNo,
      leaseId: attempt.leaseId,
      ackDeadline: new Date(now.getTime() + 30_000).toISOString(),
    },
    now,
  );
  if (options.published !== false) {
    await services.ledger.applyStepEvent(
      jobId,
      stepId,
      { type: 'PUBLISHED', attemptNo: attempt.attemptNo, leaseId: attempt.leaseId },
      services.clock.now(),
    );
  }
  return attempt;
}

/** Drives an admitted job to FAILED as its orchestration would: START, attempt 1 of `ocr` fails PERMANENT, job FAIL. */
export async function failJob(services: TestServices, jobId: string): Promise<void> {
  const { ledger, clock } = services;
  await ledger.applyJobEvent(jobId, { type: 'START' }, clock.now());
  const attempt = await dispatchStep(services, jobId, 'ocr');
  await ledger.applyStepEvent(
    jobId,
    'ocr',
    {
      type: 'FAIL',
      ...leaseOf(attempt),
      failureClass: 'PERMANENT',
      message: 'unreadable scan',
      maxAttempts: 3,
    },
    clock.now(),
  );
  await ledger.applyJobEvent(
    jobId,
    { type: 'FAIL', failure: { stepId: 'ocr', failureClass: 'PERMANENT', message: 'unreadable scan' } },
    clock.now(),
  );
}

function leaseOf(attempt: AttemptKey): { attemptNo: number; leaseId: string } {
  return { attemptNo: attempt.attemptNo, leaseId: attempt.leaseId };
}

/** A wire-format worker reply (ack.v1, heartbeat.v1, result.v1) for an attempt; `overrides` replace fields. */
export function replyBody(
  kind: 'ack' | 'heartbeat' | 'result',
  attempt: AttemptKey,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const common = {
    schema_version: 'v1',
    kind,
    job_id: attempt.jobId,
    step_id: attempt.stepId,
    attempt_no: attempt.attemptNo,
    lease_id: attempt.leaseId,
  };
  const at = '2026-05-01T12:00:00.000Z';
  const own =
    kind === 'ack'
      ? { acked_at: at }
      : kind === 'heartbeat'
        ? { sent_at: at }
        : { status: 'SUCCEEDED', output_ref: `blob://out/${attempt.stepId}`, completed_at: at };
  return { ...common, ...own, ...overrides };
}
