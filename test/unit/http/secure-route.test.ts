/**
 * The security pipeline (src/http/secure-route.ts) in front of the real handlers, over the in-memory
 * wiring with LUCIUS_AUTH_MODE=dev: real ES256 tokens of a dev issuer in a temporary folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { DevIssuer } from '../../../src/auth/dev-issuer';
import { MemoryTenantGrants } from '../../../src/auth/memory-tenant-grants';
import type { Role } from '../../../src/auth/roles';
import { parseAuthSettings } from '../../../src/config/auth-settings';
import { assembleHttpSecurity, createAuthAdapters } from '../../../src/composition-security';
import type { Caller } from '../../../src/http/caller';
import { handleAdmitCommand } from '../../../src/http/command-handlers';
import { handleGetJob, handleListJobs } from '../../../src/http/job-handlers';
import { PROBLEM_CONTENT_TYPE } from '../../../src/http/problem';
import { secureRoute } from '../../../src/http/secure-route';
import { bodyOf, envelope, headerOf, ORIGIN, testServices, type TestServices } from './fixtures';

let dataDir: string;
let issuer: DevIssuer;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lucius-secure-route-'));
  issuer = await DevIssuer.open(dataDir);
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const ALL_ROLES: Role[] = ['Lucius.Submit', 'Lucius.Read', 'Lucius.Operate'];

function token(
  tenants: string[],
  roles: Role[] = ALL_ROLES,
  extra: { subject?: string; tenantsClaim?: string; now?: Date } = {},
): Promise<string> {
  return issuer.issueDevToken(
    {
      tenants,
      roles,
      ttlSeconds: 600,
      ...(extra.subject === undefined ? {} : { subject: extra.subject }),
      ...(extra.tenantsClaim === undefined ? {} : { tenantsClaim: extra.tenantsClaim }),
    },
    extra.now,
  );
}

/** The in-memory wiring with dev authentication; `env` adds settings (rate limits, CORS, ...). */
function devServices(env: Record<string, string> = {}, grants?: MemoryTenantGrants): TestServices {
  const all = { LUCIUS_AUTH_MODE: 'dev', LUCIUS_AUTH_DEV_DATA_DIR: dataDir, ...env };
  const base = testServices(all);
  if (grants === undefined) return base;
  const auth = { ...createAuthAdapters(parseAuthSettings(all), base.settings), grants };
  return testServices(all, { auth });
}

const admit = secureRoute<TestServices>({ action: 'submit' }, handleAdmitCommand);
const getJob = secureRoute<TestServices>({ action: 'read' }, handleGetJob);
const listJobs = secureRoute<TestServices>({ action: 'read' }, handleListJobs);

interface Sent {
  readonly method?: string;
  readonly path: string;
  readonly bearer?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly params?: Record<string, string>;
}

function request(sent: Sent): HttpRequest {
  const url = new URL(`${ORIGIN}${sent.path}`);
  const method = sent.method ?? (sent.body === undefined ? 'GET' : 'POST');
  return new HttpRequest({
    method,
    url: url.toString(),
    headers: {
      ...(sent.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(sent.bearer === undefined ? {} : { authorization: `Bearer ${sent.bearer}` }),
      ...sent.headers,
    },
    query: Object.fromEntries(url.searchParams),
    ...(sent.params === undefined ? {} : { params: sent.params }),
    ...(sent.body === undefined ? {} : { body: { string: JSON.stringify(sent.body) } }),
  });
}

/** An invocation context whose warnings are kept, to read the audit lines. */
function recordingContext(): { context: InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const context = new InvocationContext({
    invocationId: 'inv-1',
    functionName: 'submitCommand',
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
  return { context, lines };
}

async function send(
  route: typeof admit,
  services: TestServices,
  sent: Sent,
): Promise<{ response: HttpResponseInit; lines: string[] }> {
  const { context, lines } = recordingContext();
  return { response: await route(services, request(sent), context), lines };
}

function expectProblem(response: HttpResponseInit, status: number, code: string): Record<string, unknown> {
  expect(response.status).toBe(status);
  expect(headerOf(response, 'content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = bodyOf(response);
  expect(body).toMatchObject({ status, code });
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |\.ts:\d+/);
  return body;
}

function expectSecurityHeaders(response: HttpResponseInit): void {
  expect(headerOf(response, 'x-content-type-options')).toBe('nosniff');
  expect(headerOf(response, 'cache-control')).toBe('no-store');
  expect(headerOf(response, 'content-security-policy')).toContain("default-src 'none'");
  expect(headerOf(response, 'x-frame-options')).toBe('DENY');
  expect(headerOf(response, 'strict-transport-security')).toMatch(/^max-age=31536000/);
}

const refusals = (lines: string[]) =>
  lines
    .filter((line) => line.includes('"http.refused"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('secureRoute: authentication', () => {
  it('answers 401 unauthenticated with a bare challenge and the security headers when no token comes', async () => {
    const { response, lines } = await send(admit, devServices(), {
      path: '/api/v1/commands',
      body: envelope(),
    });
    expectProblem(response, 401, 'unauthenticated');
    expect(headerOf(response, 'www-authenticate')).toBe('Bearer realm="lucius"');
    expectSecurityHeaders(response);
    expect(refusals(lines)).toEqual([
      expect.objectContaining({ code: 'unauthenticated', status: 401, path: '/api/v1/commands' }),
    ]);
  });

  it('answers 401 invalid_token for a malformed, foreign or expired token, never logging the token', async () => {
    const services = devServices();
    const otherDir = await mkdtemp(join(tmpdir(), 'lucius-other-issuer-'));
    try {
      const foreign = await (
        await DevIssuer.open(otherDir)
      ).issueDevToken({ tenants: ['t1'], roles: ALL_ROLES, ttlSeconds: 600 });
      const expired = await token(['t1'], ALL_ROLES, { now: new Date(Date.now() - 3_600_000) });
      for (const bearer of ['not-a-jwt', foreign, expired]) {
        const { response, lines } = await send(admit, services, {
          path: '/api/v1/commands',
          body: envelope(),
          bearer,
        });
        expectProblem(response, 401, 'invalid_token');
        expect(headerOf(response, 'www-authenticate')).toMatch(
          /^Bearer realm="lucius", error="invalid_token"/,
        );
        expect(lines.join('\n')).not.toContain(bearer);
      }
      expect(await services.ledger.listJobs({ tenantId: 't1', limit: 10 })).toEqual({ items: [] });
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('answers 403 missing_role when the token lacks the role of the action', async () => {
    const services = devServices();
    const { response, lines } = await send(admit, services, {
      path: '/api/v1/commands',
      body: envelope(),
      bearer: await token(['t1'], ['Lucius.Read'], { subject: 'reader-1' }),
    });
    expectProblem(response, 403, 'missing_role');
    expect(headerOf(response, 'www-authenticate')).toContain('error="insufficient_scope"');
    expect(refusals(lines)).toEqual([
      expect.objectContaining({ code: 'missing_role', status: 403, principal: 'reader-1' }),
    ]);
  });

  it('accepts a valid token and admits the command for its tenant', async () => {
    const { response } = await send(admit, devServices(), {
      path: '/api/v1/commands',
      body: envelope(),
      bearer: await token(['t1']),
    });
    expect(response.status).toBe(202);
    expect(bodyOf(response)).toMatchObject({ tenantId: 't1' });
    expectSecurityHeaders(response);
  });

  it('answers 503 auth_unavailable (fail closed) when the services were assembled without authentication', async () => {
    const base = testServices();
    const services = { ...base, security: assembleHttpSecurity(base.settings, base.clock) };
    const { response } = await send(admit, services, { path: '/api/v1/commands', body: envelope() });
    expectProblem(response, 503, 'auth_unavailable');
  });
});

describe('secureRoute: tenants', () => {
  it('answers 403 tenant_forbidden for a command for another tenant, writing nothing', async () => {
    const services = devServices();
    const { response, lines } = await send(admit, services, {
      path: '/api/v1/commands',
      body: envelope({ tenant_id: 't2' }),
      bearer: await token(['t1']),
    });
    expectProblem(response, 403, 'tenant_forbidden');
    expect(await services.ledger.listJobs({ tenantId: 't2', limit: 10 })).toEqual({ items: [] });
    expect(refusals(lines)).toEqual([expect.objectContaining({ code: 'tenant_forbidden', status: 403 })]);
  });

  it("fills in the caller's only tenant when the command omits tenant_id", async () => {
    const { tenant_id: _omitted, ...command } = envelope();
    const { response } = await send(admit, devServices(), {
      path: '/api/v1/commands',
      body: command,
      bearer: await token(['t7']),
    });
    expect(response.status).toBe(202);
    expect(bodyOf(response)).toMatchObject({ tenantId: 't7' });
  });

  it('answers 400 tenant_required when a caller of several tenants omits tenant_id', async () => {
    const services = devServices();
    const bearer = await token(['t1', 't2']);
    const { tenant_id: _omitted, ...command } = envelope();
    expectProblem(
      (await send(admit, services, { path: '/api/v1/commands', body: command, bearer })).response,
      400,
      'tenant_required',
    );
    expectProblem(
      (await send(listJobs, services, { path: '/api/v1/jobs', bearer })).response,
      400,
      'tenant_required',
    );
  });

  it("answers another tenant's job exactly like an unknown one (404), and refuses listing it (403)", async () => {
    const services = devServices();
    const owner = await send(admit, services, {
      path: '/api/v1/commands',
      body: envelope({ tenant_id: 't2' }),
      bearer: await token(['t2']),
    });
    const jobId = bodyOf(owner.response).jobId as string;
    const stranger = await token(['t1']);
    const foreign = await send(getJob, services, {
      path: `/api/v1/jobs/${jobId}?tenant_id=t2`,
      params: { jobId },
      bearer: stranger,
    });
    const unknownId = '00000000-0000-4000-8000-999999999999';
    const unknown = await send(getJob, services, {
      path: `/api/v1/jobs/${unknownId}?tenant_id=t1`,
      params: { jobId: unknownId },
      bearer: stranger,
    });
    const foreignBody = expectProblem(foreign.response, 404, 'job_not_found');
    const unknownBody = expectProblem(unknown.response, 404, 'job_not_found');
    expect(Object.keys(foreignBody).sort()).toEqual(Object.keys(unknownBody).sort());
    expect(JSON.stringify(foreignBody)).not.toContain('t2');
    expectProblem(
      (await send(listJobs, services, { path: '/api/v1/jobs?tenant_id=t2', bearer: stranger })).response,
      403,
      'tenant_forbidden',
    );
    // The owner reads it without naming the tenant (its only one).
    const own = await send(getJob, services, {
      path: `/api/v1/jobs/${jobId}`,
      params: { jobId },
      bearer: await token(['t2']),
    });
    expect(own.response.status).toBe(200);
  });

  it('takes the tenants of a token without the tenants claim from the grants', async () => {
    const grants = new MemoryTenantGrants({ 'granted-app': ['t3'] });
    const services = devServices({}, grants);
    const bearer = await token(['ignored'], ALL_ROLES, {
      subject: 'granted-app',
      tenantsClaim: 'other_claim',
    });
    const ok = await send(admit, services, {
      path: '/api/v1/commands',
      body: envelope({ tenant_id: 't3' }),
      bearer,
    });
    expect(ok.response.status).toBe(202);
    const refused = await send(admit, services, {
      path: '/api/v1/commands',
      body: envelope({ tenant_id: 't1' }),
      bearer,
    });
    expectProblem(refused.response, 403, 'tenant_forbidden');
  });
});

describe('secureRoute: rate limits', () => {
  it('answers 429 rate_limited with Retry-After once the principal has spent its burst', async () => {
    const services = devServices({
      LUCIUS_RATE_LIMIT_PRINCIPAL_BURST: '2',
      LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND: '0.5',
    });
    const bearer = await token(['t1']);
    const answers = [];
    for (let i = 0; i < 3; i += 1)
      answers.push((await send(listJobs, services, { path: '/api/v1/jobs?tenant_id=t1', bearer })).response);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(headerOf(answers[0] as HttpResponseInit, 'ratelimit-policy')).toBe(
      '"principal";q=2;w=4, "tenant";q=100;w=5',
    );
    expect(headerOf(answers[0] as HttpResponseInit, 'ratelimit')).toMatch(
      /^"principal";r=1;t=\d+, "tenant";r=99;t=\d+$/,
    );
    const refused = answers[2] as HttpResponseInit;
    expectProblem(refused, 429, 'rate_limited');
    expect(Number(headerOf(refused, 'retry-after'))).toBeGreaterThanOrEqual(1);
    expect(headerOf(refused, 'ratelimit')).toMatch(/^"principal";r=0;t=\d+$/);
    expect(headerOf(refused, 'ratelimit-policy')).toBe('"principal";q=2;w=4');
    expectSecurityHeaders(refused);
  });

  it('answers 429 once the tenant has spent its burst, whoever calls for it', async () => {
    const services = devServices({
      LUCIUS_RATE_LIMIT_TENANT_BURST: '1',
      LUCIUS_RATE_LIMIT_TENANT_PER_SECOND: '0.1',
    });
    const first = await send(listJobs, services, {
      path: '/api/v1/jobs?tenant_id=t1',
      bearer: await token(['t1'], ALL_ROLES, { subject: 'a' }),
    });
    const second = await send(listJobs, services, {
      path: '/api/v1/jobs?tenant_id=t1',
      bearer: await token(['t1'], ALL_ROLES, { subject: 'b' }),
    });
    expect(first.response.status).toBe(200);
    const body = expectProblem(second.response, 429, 'rate_limited');
    expect(body.detail).toContain('tenant');
    expect(headerOf(second.response, 'retry-after')).toBe('10');
    expect(headerOf(second.response, 'ratelimit')).toMatch(/"tenant";r=0;t=10/);
    expect(refusals(second.lines)).toEqual([
      expect.objectContaining({ code: 'rate_limited', principal: 'b' }),
    ]);
  });

  it('sends no RateLimit headers with LUCIUS_RATE_LIMITS=off', async () => {
    const { response } = await send(listJobs, devServices({ LUCIUS_RATE_LIMITS: 'off' }), {
      path: '/api/v1/jobs?tenant_id=t1',
      bearer: await token(['t1']),
    });
    expect(response.status).toBe(200);
    expect(headerOf(response, 'ratelimit')).toBeUndefined();
  });
});

describe('secureRoute: CORS', () => {
  const cors = { LUCIUS_CORS_ALLOWED_ORIGINS: 'https://portal.example.com' };

  it('answers an allowed preflight 204 before authentication', async () => {
    const { response } = await send(listJobs, devServices(cors), {
      method: 'OPTIONS',
      path: '/api/v1/jobs',
      headers: {
        origin: 'https://portal.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(response.status).toBe(204);
    expect(headerOf(response, 'access-control-allow-origin')).toBe('https://portal.example.com');
    expect(headerOf(response, 'access-control-allow-headers')).toContain('Authorization');
    expect(headerOf(response, 'access-control-max-age')).toBe('600');
    expectSecurityHeaders(response);
  });

  it('refuses a preflight from another origin with 403 and no CORS grant', async () => {
    const { response } = await send(listJobs, devServices(cors), {
      method: 'OPTIONS',
      path: '/api/v1/jobs',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'GET' },
    });
    expectProblem(response, 403, 'cors_refused');
    expect(headerOf(response, 'access-control-allow-origin')).toBeUndefined();
  });

  it('adds the CORS headers to an actual request of an allowed origin, errors included', async () => {
    const services = devServices(cors);
    const ok = await send(listJobs, services, {
      path: '/api/v1/jobs?tenant_id=t1',
      bearer: await token(['t1']),
      headers: { origin: 'https://portal.example.com' },
    });
    expect(ok.response.status).toBe(200);
    expect(headerOf(ok.response, 'access-control-allow-origin')).toBe('https://portal.example.com');
    expect(headerOf(ok.response, 'access-control-expose-headers')).toContain('RateLimit');
    expect(headerOf(ok.response, 'vary')).toBe('Origin');
    const refused = await send(listJobs, services, {
      path: '/api/v1/jobs?tenant_id=t1',
      headers: { origin: 'https://portal.example.com' },
    });
    expect(refused.response.status).toBe(401);
    expect(headerOf(refused.response, 'access-control-allow-origin')).toBe('https://portal.example.com');
  });
});

describe('secureRoute: request limits and failures', () => {
  it('answers 414 for a query string over LUCIUS_MAX_QUERY_BYTES and 431 for too many headers, before authentication', async () => {
    const services = devServices({ LUCIUS_MAX_QUERY_BYTES: '256', LUCIUS_MAX_HEADER_COUNT: '10' });
    const long = await send(listJobs, services, { path: `/api/v1/jobs?tenant_id=t1&x=${'a'.repeat(300)}` });
    expectProblem(long.response, 414, 'uri_too_long');
    expectSecurityHeaders(long.response);
    const headers = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`x-filler-${i}`, 'v']));
    const many = await send(listJobs, services, { path: '/api/v1/jobs?tenant_id=t1', headers });
    expectProblem(many.response, 431, 'request_header_fields_too_large');
  });

  it('answers 413 for a declared body over LUCIUS_MAX_BODY_BYTES', async () => {
    const services = devServices({ LUCIUS_MAX_BODY_BYTES: '1024' });
    const { response } = await send(admit, services, {
      path: '/api/v1/commands',
      body: envelope(),
      headers: { 'content-length': '5000' },
    });
    expectProblem(response, 413, 'payload_too_large');
  });

  it('answers an unexpected failure 500 with a generic problem, no stack, the headers still set', async () => {
    const broken = secureRoute<TestServices>({ action: 'read' }, () => {
      throw new Error('secret internal detail at Object.<anonymous> (/app/src/x.ts:1:1)');
    });
    const { response } = await send(broken, devServices(), {
      path: '/api/v1/jobs',
      bearer: await token(['t1']),
    });
    const body = expectProblem(response, 500, 'internal_error');
    expect(JSON.stringify(body)).not.toContain('secret');
    expectSecurityHeaders(response);
  });
});

describe('secureRoute: worker callback routes', () => {
  it('passes a Lucius-Callback-Token to the handler without bearer authentication or role', async () => {
    const seen: Caller[] = [];
    const route = secureRoute<TestServices>(
      { action: 'worker', callbackToken: true },
      async (_s, _r, _c, caller) => {
        seen.push(caller);
        return Promise.resolve({ status: 202 });
      },
    );
    const { response } = await send(route, devServices(), {
      path: '/api/v1/jobs/j1/steps/ocr/ack',
      params: { jobId: 'j1', stepId: 'ocr' },
      body: {},
      headers: { 'lucius-callback-token': 'lcb1.k.p.m' },
    });
    expect(response.status).toBe(202);
    expect(seen[0]?.callbackToken).toBe('lcb1.k.p.m');
    expect(seen[0]?.principal).toBeUndefined();
    expect(await seen[0]?.mayUse('t1')).toBe(false);
  });

  it('asks for Lucius.Worker without a callback token, and tells the handler which tenants the worker has', async () => {
    const seen: Caller[] = [];
    const route = secureRoute<TestServices>(
      { action: 'worker', callbackToken: true },
      async (_s, _r, _c, caller) => {
        seen.push(caller);
        return Promise.resolve({ status: 202 });
      },
    );
    const sent = { path: '/api/v1/jobs/j1/steps/ocr/ack', params: { jobId: 'j1', stepId: 'ocr' }, body: {} };
    const admin = await send(route, devServices(), {
      ...sent,
      bearer: await token(['t1'], ['Lucius.Admin']),
    });
    expectProblem(admin.response, 403, 'missing_role');
    const worker = await send(route, devServices(), {
      ...sent,
      bearer: await token(['t1'], ['Lucius.Worker']),
    });
    expect(worker.response.status).toBe(202);
    expect(await seen[0]?.mayUse('t1')).toBe(true);
    expect(await seen[0]?.mayUse('t2')).toBe(false);
  });
});
