/**
 * The security matrix on devhost, nothing faked: the launcher's `up` as a child process in
 * `LUCIUS_AUTH_MODE=dev` (workers off, so jobs wait where the test wants them), and every HTTP
 * endpoint called with every kind of credential: none, six forged tokens (test/e2e/support/
 * forged-tokens.ts), a token without the route's role, a token for another tenant, and the right
 * one. Each answer is checked for its status and problem code, its challenge (401), the security
 * headers, and a body that betrays no stack frame, source path or internal name.
 *
 * The right calls really act: the rows run in order, so cancel and delete use a job of their own,
 * and the worker callbacks ACK, heartbeat and finish the attempt the steps view shows.
 */
import { eventually, startUp, type Up } from '../support/devhost-up';
import { uniqueToken } from '../support/unique';
import { ROLE_FOR_ACTION, type Action } from '../../src/auth/roles';
import {
  EVERY_ROLE,
  FORGED_KINDS,
  TokenMint,
  leaksIn,
  missingSecurityHeaders,
  send,
  type Answer,
  type ForgedKind,
  type Who,
} from './support/forged-tokens';

const KEY = 'e2e-sec-matrix-key';
const T1 = `t1-${uniqueToken()}`;
const T2 = `t2-${uniqueToken()}`;

const RIGHT: Who = { subject: 'matrix-right', tenants: [T1], roles: EVERY_ROLE };
const OTHER_TENANT: Who = { subject: 'matrix-other', tenants: [T2], roles: EVERY_ROLE };

let up: Up;
let mint: TokenMint;
let rightToken: string;

/** The jobs the rows act on (all of tenant T1). */
const jobs = { read: '', control: '', worker: '' };
/** The worker job's first step as the steps view shows it once dispatched. */
let attempt: { stepId: string; attemptNo: number; leaseId: string };

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_AUTH_MODE: 'dev',
    // No worker ACKs but the test's own: no attempt may time out and be dispatched again.
    LUCIUS_ACK_TIMEOUT_SECONDS: '3600',
    LUCIUS_RATE_LIMIT_PRINCIPAL_BURST: '1000',
    LUCIUS_RATE_LIMIT_TENANT_BURST: '1000',
  });
  mint = await TokenMint.open(up.dataDir);
  rightToken = await mint.token(RIGHT);
  jobs.read = await submit('OCR->EMBEDDING');
  jobs.control = await submit('OCR');
  jobs.worker = await submit('OCR');
  attempt = await eventually('the worker job being dispatched', async () => {
    const steps = await call('GET', `/v1/jobs/${jobs.worker}/steps?tenant_id=${T1}`, { token: rightToken });
    const first = (steps.body?.steps ?? [])[0] as
      { stepId: string; attemptNo: number; leaseId?: string } | undefined;
    return first?.leaseId === undefined
      ? undefined
      : { stepId: first.stepId, attemptNo: first.attemptNo, leaseId: first.leaseId };
  });
}, 180_000);

afterAll(async () => {
  await up?.stop();
});

function call(method: string, path: string, options: Parameters<typeof send>[4] = {}): Promise<Answer> {
  return send(up.apiUrl, KEY, method, path, options);
}

function command(requestType: string, tenant = T1): Record<string, unknown> {
  const payloads: Record<string, unknown> = {
    ocr: { output_format: 'TEXT' },
    embedding: { model: 'text-embedding-3-large' },
  };
  const steps = requestType.split('->').map((t) => t.toLowerCase());
  return {
    tenant_id: tenant,
    request_type: requestType,
    input_ref: `blob://in/${uniqueToken()}.pdf`,
    output_ref: 'blob://out/e2e-sec',
    payload: { steps: Object.fromEntries(steps.map((s) => [s, payloads[s]])) },
    schema_version: 'v1',
  };
}

async function submit(requestType: string): Promise<string> {
  const answer = await call('POST', '/v1/commands', { token: rightToken, body: command(requestType) });
  if (answer.status !== 202)
    throw new Error(`admission answered ${answer.status}: ${answer.text}\n${up.output().slice(-3000)}`);
  return answer.body.jobId as string;
}

function echo(kind: string): Record<string, unknown> {
  return {
    schema_version: 'v1',
    kind,
    job_id: jobs.worker,
    step_id: attempt.stepId,
    attempt_no: attempt.attemptNo,
    lease_id: attempt.leaseId,
  };
}

/** One endpoint: how to call it, which role it needs and what the right caller gets. */
interface Endpoint {
  readonly name: string;
  readonly action: Action;
  readonly method: string;
  readonly path: () => string;
  readonly body?: () => unknown;
  /** Another tenant's caller: 403 tenant_forbidden (commands, lists) or 404 job_not_found. */
  readonly otherTenant: 403 | 404;
  readonly right: number;
  /** Answers the right call may get first while the job gets there (polled, bounded). */
  readonly rightWhile?: readonly number[];
}

const ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'POST /v1/commands',
    action: 'submit',
    method: 'POST',
    path: () => '/v1/commands',
    body: () => command('OCR'),
    otherTenant: 403,
    right: 202,
  },
  {
    name: 'POST /v1/orchestrate',
    action: 'submit',
    method: 'POST',
    path: () => '/v1/orchestrate',
    body: () => command('OCR'),
    otherTenant: 403,
    right: 202,
  },
  {
    name: 'GET /v1/jobs',
    action: 'read',
    method: 'GET',
    path: () => `/v1/jobs?tenant_id=${T1}`,
    otherTenant: 403,
    right: 200,
  },
  {
    name: 'GET /v1/jobs/{id}',
    action: 'read',
    method: 'GET',
    path: () => `/v1/jobs/${jobs.read}?tenant_id=${T1}`,
    otherTenant: 404,
    right: 200,
  },
  {
    name: 'GET /v1/jobs/{id}/steps',
    action: 'read',
    method: 'GET',
    path: () => `/v1/jobs/${jobs.read}/steps?tenant_id=${T1}`,
    otherTenant: 404,
    right: 200,
  },
  {
    // A running job: redrive has nothing to do and says so with 200.
    name: 'POST /v1/jobs/{id}/redrive',
    action: 'operate',
    method: 'POST',
    path: () => `/v1/jobs/${jobs.read}/redrive?tenant_id=${T1}`,
    otherTenant: 404,
    right: 200,
  },
  {
    name: 'POST /v1/jobs/{id}/cancel',
    action: 'operate',
    method: 'POST',
    path: () => `/v1/jobs/${jobs.control}/cancel?tenant_id=${T1}`,
    body: () => ({ reason: 'security matrix' }),
    otherTenant: 404,
    right: 202,
  },
  {
    // The job cancelled by the row above; 409 while its orchestration is still ending.
    name: 'DELETE /v1/jobs/{id}',
    action: 'operate',
    method: 'DELETE',
    path: () => `/v1/jobs/${jobs.control}?tenant_id=${T1}`,
    otherTenant: 404,
    right: 204,
    rightWhile: [409],
  },
  {
    name: 'POST /v1/jobs/{id}/steps/{step}/ack',
    action: 'worker',
    method: 'POST',
    path: () => `/v1/jobs/${jobs.worker}/steps/${attempt.stepId}/ack`,
    body: () => ({ ...echo('ack'), worker_id: 'matrix-worker', acked_at: new Date().toISOString() }),
    otherTenant: 404,
    right: 202,
  },
  {
    name: 'POST /v1/jobs/{id}/steps/{step}/heartbeat',
    action: 'worker',
    method: 'POST',
    path: () => `/v1/jobs/${jobs.worker}/steps/${attempt.stepId}/heartbeat`,
    body: () => ({ ...echo('heartbeat'), progress: 0.5, sent_at: new Date().toISOString() }),
    otherTenant: 404,
    right: 202,
  },
  {
    name: 'POST /v1/jobs/{id}/steps/{step}/result',
    action: 'worker',
    method: 'POST',
    path: () => `/v1/jobs/${jobs.worker}/steps/${attempt.stepId}/result`,
    body: () => ({
      ...echo('result'),
      status: 'SUCCEEDED',
      output_ref: `blob://out/e2e-sec/${attempt.stepId}`,
      result: { pages: 1 },
      completed_at: new Date().toISOString(),
    }),
    otherTenant: 404,
    right: 202,
  },
];

type Credential = 'no credentials' | ForgedKind | 'missing role' | 'other tenant' | 'right';
const CREDENTIALS: readonly Credential[] = [
  'no credentials',
  ...FORGED_KINDS,
  'missing role',
  'other tenant',
  'right',
];

async function tokenFor(endpoint: Endpoint, credential: Credential): Promise<string | undefined> {
  switch (credential) {
    case 'no credentials':
      return undefined;
    case 'missing role':
      return mint.token({
        subject: 'matrix-no-role',
        tenants: [T1],
        roles: EVERY_ROLE.filter((role) => role !== ROLE_FOR_ACTION[endpoint.action]),
      });
    case 'other tenant':
      return mint.token(OTHER_TENANT);
    case 'right':
      return rightToken;
    default:
      return mint.forged(credential, RIGHT);
  }
}

/** Every answer of the API, whatever its status. */
function expectWellFormed(answer: Answer): void {
  expect({ missing: missingSecurityHeaders(answer), status: answer.status }).toEqual({
    missing: [],
    status: answer.status,
  });
  expect(leaksIn(answer.text)).toEqual([]);
  if (answer.status >= 400) {
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status: answer.status, code: expect.any(String) });
  }
}

describe.each(ENDPOINTS)('$name', (endpoint) => {
  test.each(CREDENTIALS)('with %s', async (credential) => {
    const token = await tokenFor(endpoint, credential);
    const attemptCall = () =>
      call(endpoint.method, endpoint.path(), {
        ...(token === undefined ? {} : { token }),
        ...(endpoint.body === undefined ? {} : { body: endpoint.body() }),
      });
    const answer =
      credential === 'right' && endpoint.rightWhile !== undefined
        ? await eventually(`${endpoint.name} answering ${endpoint.right}`, async () => {
            const a = await attemptCall();
            return endpoint.rightWhile?.includes(a.status) === true ? undefined : a;
          })
        : await attemptCall();
    expectWellFormed(answer);
    switch (credential) {
      case 'no credentials':
        expect(answer.status).toBe(401);
        expect(answer.body.code).toBe('unauthenticated');
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="lucius"/);
        break;
      case 'missing role':
        expect(answer.status).toBe(403);
        expect(answer.body.code).toBe('missing_role');
        break;
      case 'other tenant':
        expect(answer.status).toBe(endpoint.otherTenant);
        expect(answer.body.code).toBe(endpoint.otherTenant === 403 ? 'tenant_forbidden' : 'job_not_found');
        break;
      case 'right':
        expect({ status: answer.status, body: answer.body }).toEqual({
          status: endpoint.right,
          body: answer.body,
        });
        break;
      default:
        expect(answer.status).toBe(401);
        expect(answer.body.code).toBe('invalid_token');
        expect(answer.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="lucius", error="invalid_token"/,
        );
    }
  });
});

describe('around the matrix', () => {
  it('finished the worker job through the right callbacks', async () => {
    const view = await eventually('the worker job succeeding', async () => {
      const answer = await call('GET', `/v1/jobs/${jobs.worker}?tenant_id=${T1}`, { token: rightToken });
      return answer.body?.status === 'SUCCEEDED' ? answer.body : undefined;
    });
    expect(view.steps[0]).toMatchObject({ status: 'SUCCEEDED', attemptNo: attempt.attemptNo });
  });

  it('deleted the cancelled job, and left the redriven one running', async () => {
    const deleted = await call('GET', `/v1/jobs/${jobs.control}?tenant_id=${T1}`, { token: rightToken });
    expect(deleted.status).toBe(404);
    const running = await call('GET', `/v1/jobs/${jobs.read}?tenant_id=${T1}`, { token: rightToken });
    expect(running.body.status).toBe('RUNNING');
  });

  it.each(['/health', '/healthz'])('answers %s without any credentials', async (path) => {
    const answer = await fetch(`${up.apiUrl}${path}`);
    expect(answer.status).toBe(200);
    expect(leaksIn(await answer.text())).toEqual([]);
  });

  it('never puts the function key into links.next', async () => {
    const url = `${up.apiUrl}/v1/jobs?tenant_id=${T1}&limit=1&code=${KEY}`;
    const answer = await fetch(url, { headers: { authorization: `Bearer ${rightToken}` } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { links: { next?: string }; continuation?: string };
    expect(body.links.next).toEqual(expect.stringContaining('continuation='));
    expect(body.links.next).not.toMatch(/[?&]code=/);
    expect(body.links.next).not.toContain(KEY);
  });

  it('answers a garbage bearer token like a forged one', async () => {
    const answer = await call('GET', `/v1/jobs?tenant_id=${T1}`, { token: 'not.a.jwt' });
    expectWellFormed(answer);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('invalid_token');
  });
});
