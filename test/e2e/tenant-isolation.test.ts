/**
 * Tenant isolation on devhost, nothing faked (`up` as a child process, `LUCIUS_AUTH_MODE=dev`, workers
 * off so every job stays where it is): callers of tenant A, of tenant B and of both can never read,
 * list, cancel, redrive or delete each other's jobs: not by naming the other tenant, not by naming
 * their own, not through a continuation token taken from the other tenant's list, and not through
 * the list filters. Another tenant's job answers exactly like a job that does not exist, and every
 * refused attempt leaves the job as it was.
 *
 * (The HTTP API has no bulk operations or streams yet; when it does, they belong here.)
 */
import { randomUUID } from 'node:crypto';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { uniqueToken } from '../support/unique';
import { EVERY_ROLE, TokenMint, leaksIn, send, type Answer, type Who } from './support/forged-tokens';

const KEY = 'e2e-sec-isolation-key';
const A = `ta-${uniqueToken()}`;
const B = `tb-${uniqueToken()}`;

let up: Up;
const tokens = { a: '', b: '', both: '' };
/** Jobs per tenant: `running` ones (OCR and EMBEDDING) and one `ended` (cancelled by its owner). */
const jobsOf: Record<string, { running: string[]; ended: string }> = {
  [A]: { running: [], ended: '' },
  [B]: { running: [], ended: '' },
};

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_AUTH_MODE: 'dev',
    // No worker ACKs: no attempt may time out and be dispatched again while the test looks.
    LUCIUS_ACK_TIMEOUT_SECONDS: '3600',
    LUCIUS_RATE_LIMIT_PRINCIPAL_BURST: '1000',
    LUCIUS_RATE_LIMIT_TENANT_BURST: '1000',
  });
  const mint = await TokenMint.open(up.dataDir);
  const who = (subject: string, tenants: string[]): Who => ({ subject, tenants, roles: EVERY_ROLE });
  tokens.a = await mint.token(who('caller-a', [A]));
  tokens.b = await mint.token(who('caller-b', [B]));
  tokens.both = await mint.token(who('caller-ab', [A, B]));
  for (const [tenant, token] of [
    [A, tokens.a],
    [B, tokens.b],
  ] as const) {
    const owned = jobsOf[tenant] as { running: string[]; ended: string };
    for (const type of ['OCR', 'OCR', 'EMBEDDING']) owned.running.push(await submit(token, tenant, type));
    owned.ended = await submit(token, tenant, 'OCR');
    const cancelled = await call('POST', `/v1/jobs/${owned.ended}/cancel?tenant_id=${tenant}`, token);
    if (cancelled.status !== 202) throw new Error(`cancel answered ${cancelled.status}: ${cancelled.text}`);
  }
}, 180_000);

afterAll(async () => {
  await up?.stop();
});

function call(method: string, path: string, token: string): Promise<Answer> {
  return send(up.apiUrl, KEY, method, path, { token });
}

async function submit(token: string, tenant: string, requestType: string): Promise<string> {
  const payload = requestType === 'OCR' ? { output_format: 'TEXT' } : { model: 'text-embedding-3-large' };
  const answer = await send(up.apiUrl, KEY, 'POST', '/v1/commands', {
    token,
    body: {
      tenant_id: tenant,
      request_type: requestType,
      input_ref: `blob://in/${uniqueToken()}.pdf`,
      output_ref: 'blob://out/isolation',
      payload: { steps: { [requestType.toLowerCase()]: payload } },
      schema_version: 'v1',
    },
  });
  if (answer.status !== 202)
    throw new Error(`admission answered ${answer.status}: ${answer.text}\n${up.output().slice(-3000)}`);
  return answer.body.jobId as string;
}

/** Everything a tenant's own caller sees of its jobs (views only: no side effects). */
async function snapshot(tenant: string, token: string): Promise<unknown[]> {
  const owned = jobsOf[tenant] as { running: string[]; ended: string };
  const views = [];
  for (const jobId of [...owned.running, owned.ended]) {
    const answer = await call('GET', `/v1/jobs/${jobId}?tenant_id=${tenant}`, token);
    expect(answer.status).toBe(200);
    views.push(answer.body);
  }
  return views;
}

/** Every list page of `query` for `token`, following `links.next`. */
async function listAll(query: string, token: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let path: string | undefined = `/v1/jobs?${query}&limit=2`;
  for (let page = 0; path !== undefined && page < 50; page += 1) {
    const answer = await call('GET', path, token);
    expect(answer.status).toBe(200);
    items.push(...(answer.body.items as Array<Record<string, unknown>>));
    const next = answer.body.links?.next as string | undefined;
    path = next === undefined ? undefined : next.slice(next.indexOf('/v1/jobs'));
  }
  return items;
}

const UNKNOWN_JOB = randomUUID();

/** The answer with the job id taken out, to compare with an unknown job's. */
function shapeOf(answer: Answer, jobId: string): unknown {
  return { status: answer.status, body: JSON.parse(answer.text.split(jobId).join('<job>')) as unknown };
}

type Attack = {
  readonly name: string;
  readonly method: string;
  readonly path: (job: string, t: string) => string;
};
const JOB_ATTACKS: readonly Attack[] = [
  { name: 'read', method: 'GET', path: (job, t) => `/v1/jobs/${job}${t}` },
  { name: 'read the steps of', method: 'GET', path: (job, t) => `/v1/jobs/${job}/steps${t}` },
  { name: 'cancel', method: 'POST', path: (job, t) => `/v1/jobs/${job}/cancel${t}` },
  { name: 'redrive', method: 'POST', path: (job, t) => `/v1/jobs/${job}/redrive${t}` },
  { name: 'delete', method: 'DELETE', path: (job, t) => `/v1/jobs/${job}${t}` },
];

/** [caller, its token, the victim tenant, the tenant_id the caller names] */
const CASES: ReadonlyArray<readonly [string, () => string, string, string | undefined]> = [
  ['caller of B naming A', () => tokens.b, A, A],
  ['caller of B naming B', () => tokens.b, A, B],
  ['caller of B naming no tenant', () => tokens.b, A, undefined],
  ['caller of A naming B', () => tokens.a, B, B],
  ['caller of A naming A', () => tokens.a, B, A],
  ['caller of A naming no tenant', () => tokens.a, B, undefined],
  ['caller of A and B naming A for a job of B', () => tokens.both, B, A],
  ['caller of A and B naming B for a job of A', () => tokens.both, A, B],
];

describe('a job of another tenant', () => {
  let before: Record<string, unknown[]>;

  beforeAll(async () => {
    // Once the cancelled jobs have settled, two snapshots in a row agree.
    before = await eventually(
      'the jobs settling',
      async () => {
        const first = { [A]: await snapshot(A, tokens.a), [B]: await snapshot(B, tokens.b) };
        const second = { [A]: await snapshot(A, tokens.a), [B]: await snapshot(B, tokens.b) };
        const ended = [A, B].every((t) =>
          (second[t] as Array<{ jobId: string; status: string }>).some(
            (view) => view.jobId === jobsOf[t]?.ended && view.status === 'CANCELLED',
          ),
        );
        return ended && JSON.stringify(first) === JSON.stringify(second) ? second : undefined;
      },
      100,
    );
  }, 60_000);

  describe.each(JOB_ATTACKS)('$name', (attack) => {
    test.each(CASES)('%s answers like an unknown job', async (_name, token, victim, named) => {
      const query = named === undefined ? '' : `?tenant_id=${named}`;
      const owned = jobsOf[victim] as { running: string[]; ended: string };
      for (const jobId of [...owned.running, owned.ended]) {
        const answer = await call(attack.method, attack.path(jobId, query), token());
        const unknown = await call(attack.method, attack.path(UNKNOWN_JOB, query), token());
        expect(leaksIn(answer.text)).toEqual([]);
        expect(answer.status).toBe(404);
        expect(answer.body.code).toBe('job_not_found');
        expect(shapeOf(answer, jobId)).toEqual(shapeOf(unknown, UNKNOWN_JOB));
      }
    });
  });

  it('is left exactly as it was by every refused attempt', async () => {
    expect(await snapshot(A, tokens.a)).toEqual(before[A]);
    expect(await snapshot(B, tokens.b)).toEqual(before[B]);
  });

  it('is still there for its owner, and for a caller of both tenants naming it', async () => {
    for (const tenant of [A, B]) {
      const owned = jobsOf[tenant] as { running: string[]; ended: string };
      const answer = await call('GET', `/v1/jobs/${owned.running[0]}?tenant_id=${tenant}`, tokens.both);
      expect(answer.status).toBe(200);
      expect(answer.body.tenantId).toBe(tenant);
    }
  });

  it('needs a tenant named by a caller of several tenants', async () => {
    const answer = await call('GET', `/v1/jobs/${jobsOf[A]?.running[0]}`, tokens.both);
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('tenant_required');
  });
});

describe("another tenant's list", () => {
  it.each([
    ['caller of B', () => tokens.b, A],
    ['caller of A', () => tokens.a, B],
  ] as const)('is refused to a %s with 403 tenant_forbidden', async (_name, token, victim) => {
    for (const filters of ['', '&status=RUNNING', '&request_type=OCR', '&status=CANCELLED']) {
      const answer = await call('GET', `/v1/jobs?tenant_id=${victim}${filters}`, token());
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('tenant_forbidden');
      expect(answer.text).not.toContain(jobsOf[victim]?.running[0]);
    }
  });

  it.each([
    ['caller of A, naming no tenant', () => tokens.a, A, ''],
    ['caller of A', () => tokens.a, A, `tenant_id=${A}`],
    ['caller of B', () => tokens.b, B, `tenant_id=${B}`],
    ['caller of A and B naming A', () => tokens.both, A, `tenant_id=${A}`],
    ['caller of A and B naming B', () => tokens.both, B, `tenant_id=${B}`],
  ] as const)(
    "never shows a %s another tenant's job, whatever the filters",
    async (_name, token, own, query) => {
      const owned = jobsOf[own] as { running: string[]; ended: string };
      const cases: ReadonlyArray<readonly [string, string[]]> = [
        ['', [...owned.running, owned.ended]],
        ['status=RUNNING', owned.running],
        ['status=CANCELLED', [owned.ended]],
        ['request_type=OCR', [owned.running[0] as string, owned.running[1] as string, owned.ended]],
        ['request_type=EMBEDDING', [owned.running[2] as string]],
        ['status=RUNNING&request_type=OCR', [owned.running[0] as string, owned.running[1] as string]],
      ];
      for (const [filters, expected] of cases) {
        const items = await listAll([query, filters].filter((p) => p !== '').join('&'), token());
        expect({ filters, jobs: items.map((item) => item.jobId).sort() }).toEqual({
          filters,
          jobs: [...expected].sort(),
        });
        expect(items.every((item) => item.tenantId === own)).toBe(true);
      }
    },
  );

  it('cannot be continued by another tenant with a continuation token taken from it', async () => {
    const first = await call('GET', `/v1/jobs?tenant_id=${A}&limit=1`, tokens.a);
    expect(first.status).toBe(200);
    const continuation = first.body.continuation as string;
    const next = first.body.links.next as string;
    expect(typeof continuation).toBe('string');
    const token = encodeURIComponent(continuation);
    // Replayed by a caller of B, as its own tenant's continuation: refused as a bad query.
    for (const [caller, query] of [
      [tokens.b, `tenant_id=${B}&limit=1&continuation=${token}`],
      [tokens.b, `limit=1&continuation=${token}`],
      [tokens.both, `tenant_id=${B}&limit=1&continuation=${token}`],
      [tokens.b, `tenant_id=${B}&limit=1&status=RUNNING&continuation=${token}`],
    ] as const) {
      const answer = await call('GET', `/v1/jobs?${query}`, caller);
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('invalid_query');
      expect(answer.body.errors).toEqual([expect.objectContaining({ parameter: 'continuation' })]);
      expect(answer.text).not.toContain(A);
    }
    // Followed as it is (it names tenant A): the caller of B may not list A at all.
    const followed = await call('GET', next.slice(next.indexOf('/v1/jobs')), tokens.b);
    expect(followed.status).toBe(403);
    expect(followed.body.code).toBe('tenant_forbidden');
    // Its owner (and a caller of both naming A) can follow it.
    for (const caller of [tokens.a, tokens.both]) {
      const own = await call('GET', next.slice(next.indexOf('/v1/jobs')), caller);
      expect(own.status).toBe(200);
      expect((own.body.items as Array<{ tenantId: string }>).every((i) => i.tenantId === A)).toBe(true);
    }
  });

  it('keeps every job of each tenant in place after all of this', async () => {
    for (const [tenant, token] of [
      [A, tokens.a],
      [B, tokens.b],
    ] as const) {
      const owned = jobsOf[tenant] as { running: string[]; ended: string };
      const statuses = await eventually(
        `the jobs of ${tenant}`,
        async () => {
          const items = await listAll(`tenant_id=${tenant}`, token);
          return items.length === owned.running.length + 1 ? items : undefined;
        },
        20,
      );
      expect(
        statuses
          .filter((i) => i.status === 'RUNNING')
          .map((i) => i.jobId)
          .sort(),
      ).toEqual([...owned.running].sort());
    }
  });
});
