/**
 * Rate limits end to end on devhost, nothing faked: `up` as a child process in `LUCIUS_AUTH_MODE=dev`
 * with small buckets (5 requests, refilled at 1 a second, per tenant and per principal) and the
 * workers off. A burst of 30 admissions, each with its own idempotency key, is partly refused with
 * 429 + Retry-After + RateLimit + RateLimit-Policy; afterwards the tenant's list holds exactly the
 * jobs answered 202 (a refusal created nothing, an acceptance exactly one job), a resent accepted
 * command is the 200 duplicate of its job, and a resent refused one is admitted as new.
 * Waiting for a bucket to refill honours Retry-After, with a bounded number of tries; nothing
 * asserts on elapsed time or on how many of the burst got through.
 */
import { sleep, startUp, type Up } from '../support/devhost-up';
import { uniqueToken } from '../support/unique';
import { TokenMint, leaksIn, missingSecurityHeaders, send, type Answer } from './support/forged-tokens';

const KEY = 'e2e-sec-rate-key';
const TENANT = `tr-${uniqueToken()}`;
const BURST = 30;
/** Tries of a call that waits for its bucket (each after the Retry-After asked, at most 5 s). */
const PATIENCE = 40;

let up: Up;
let submitter: string;
let reader: string;

beforeAll(async () => {
  up = await startUp(['--no-workers'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_AUTH_MODE: 'dev',
    LUCIUS_ACK_TIMEOUT_SECONDS: '3600',
    LUCIUS_RATE_LIMITS: 'on',
    LUCIUS_RATE_LIMIT_TENANT_BURST: '5',
    LUCIUS_RATE_LIMIT_TENANT_PER_SECOND: '1',
    LUCIUS_RATE_LIMIT_PRINCIPAL_BURST: '5',
    LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND: '1',
  });
  const mint = await TokenMint.open(up.dataDir);
  submitter = await mint.token({ subject: 'burst-submitter', tenants: [TENANT], roles: ['Lucius.Submit'] });
  reader = await mint.token({ subject: 'burst-reader', tenants: [TENANT], roles: ['Lucius.Read'] });
}, 180_000);

afterAll(async () => {
  await up?.stop();
});

interface Sent {
  readonly key: string;
  readonly body: Record<string, unknown>;
  readonly answer: Answer;
}

function admission(key: string): Record<string, unknown> {
  return {
    tenant_id: TENANT,
    request_type: 'OCR',
    input_ref: `blob://in/${key}.pdf`,
    output_ref: 'blob://out/rate',
    payload: { steps: { ocr: { output_format: 'TEXT' } } },
    schema_version: 'v1',
  };
}

function admit(key: string, body: Record<string, unknown>): Promise<Answer> {
  return send(up.apiUrl, KEY, 'POST', '/v1/commands', {
    token: submitter,
    body,
    headers: { 'Idempotency-Key': key },
  });
}

/** `call` again after each 429's Retry-After, until it answers something else (bounded). */
async function patiently(call: () => Promise<Answer>): Promise<Answer> {
  for (let attempt = 0; attempt < PATIENCE; attempt += 1) {
    const answer = await call();
    if (answer.status !== 429) return answer;
    const retryAfter = Number(answer.headers.get('retry-after') ?? '1');
    await sleep(Math.min(Math.max(retryAfter, 1), 5) * 1000);
  }
  throw new Error(`still 429 after ${PATIENCE} tries`);
}

/** Every job of the tenant, following `links.next`, each page waiting for the bucket if need be. */
async function tenantJobs(): Promise<string[]> {
  const jobIds: string[] = [];
  let path: string | undefined = `/v1/jobs?tenant_id=${TENANT}&limit=100`;
  for (let page = 0; path !== undefined && page < 20; page += 1) {
    const current: string = path;
    const answer = await patiently(() => send(up.apiUrl, KEY, 'GET', current, { token: reader }));
    expect(answer.status).toBe(200);
    jobIds.push(...(answer.body.items as Array<{ jobId: string }>).map((item) => item.jobId));
    const next = answer.body.links?.next as string | undefined;
    path = next === undefined ? undefined : next.slice(next.indexOf('/v1/jobs'));
  }
  return jobIds;
}

describe('rate limits', () => {
  let sent: Sent[];
  let accepted: Sent[];
  let refused: Sent[];

  beforeAll(async () => {
    sent = await Promise.all(
      Array.from({ length: BURST }, async (_, n) => {
        const key = `burst-${n}-${uniqueToken()}`;
        const body = admission(key);
        return { key, body, answer: await admit(key, body) };
      }),
    );
    accepted = sent.filter((s) => s.answer.status === 202);
    refused = sent.filter((s) => s.answer.status === 429);
  }, 120_000);

  it('answers a burst with 202s and 429s only, some of each', () => {
    expect(sent.filter((s) => ![202, 429].includes(s.answer.status)).map((s) => s.answer.text)).toEqual([]);
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
  });

  it('says on every refusal when to come back and which policy refused', () => {
    for (const { answer } of refused) {
      expect(answer.body).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(answer.headers.get('ratelimit-policy')).toMatch(/"(tenant|principal)";q=5;w=\d+/);
      expect(answer.headers.get('ratelimit')).toMatch(/"(tenant|principal)";r=0;t=[1-9]\d*/);
      expect(missingSecurityHeaders(answer)).toEqual([]);
      expect(leaksIn(answer.text)).toEqual([]);
    }
  });

  it('tells accepted callers what is left', () => {
    for (const { answer } of accepted) {
      expect(answer.headers.get('ratelimit-policy')).toMatch(/"tenant";q=5;w=\d+/);
      expect(answer.headers.get('ratelimit')).toMatch(/"tenant";r=\d+;t=\d+/);
    }
  });

  it('admitted exactly the jobs it answered 202 for: none lost, none doubled', async () => {
    const listed = await tenantJobs();
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(accepted.map((s) => s.answer.body.jobId as string).sort());
  });

  it('answers a resent accepted command with its job (200 duplicate), not a new one', async () => {
    const first = accepted[0] as Sent;
    const resent = await patiently(() => admit(first.key, first.body));
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ jobId: first.answer.body.jobId, duplicate: true });
    const listed = await tenantJobs();
    expect(listed).toHaveLength(accepted.length);
  });

  it('admits a resent refused command as a new job: the refusal had created nothing', async () => {
    const first = refused[0] as Sent;
    const resent = await patiently(() => admit(first.key, first.body));
    expect(resent.status).toBe(202);
    expect(resent.body.duplicate).toBe(false);
    const listed = await tenantJobs();
    expect([...listed].sort()).toEqual(
      [...accepted.map((s) => s.answer.body.jobId as string), resent.body.jobId as string].sort(),
    );
  });
});
