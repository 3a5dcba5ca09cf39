import { corsPolicy, evaluateCors } from '../../../src/guards/cors';
import { GuardConfigError } from '../../../src/guards/errors';

const portal = 'https://portal.example.com';
const policy = corsPolicy({ allowedOrigins: [portal, 'http://localhost:5173'], allowCredentials: true });

const preflight = (origin: string, method: string, headers?: string) => ({
  method: 'OPTIONS',
  headers: {
    Origin: origin,
    'Access-Control-Request-Method': method,
    ...(headers === undefined ? {} : { 'Access-Control-Request-Headers': headers }),
  },
});

describe('corsPolicy', () => {
  it('refuses a wildcard together with credentials', () => {
    expect(() => corsPolicy({ allowedOrigins: ['*'], allowCredentials: true })).toThrow(GuardConfigError);
    expect(() => corsPolicy({ allowedOrigins: ['*'], allowCredentials: true })).toThrow(/wildcard/);
    expect(() => corsPolicy({ allowedOrigins: ['*', portal], allowCredentials: false })).toThrow(/combined/);
  });

  it('accepts only exact origins, naming the canonical form', () => {
    for (const bad of [
      'portal.example.com',
      'https://portal.example.com/',
      'https://portal.example.com/app',
      'https://portal.example.com?x=1',
      'HTTPS://Portal.example.com',
      'https://*.example.com',
      'ftp://files.example.com',
      'null',
      '',
    ])
      expect(() => corsPolicy({ allowedOrigins: [bad], allowCredentials: false })).toThrow(GuardConfigError);
    expect(() =>
      corsPolicy({ allowedOrigins: ['https://portal.example.com/'], allowCredentials: false }),
    ).toThrow(/write it as "https:\/\/portal.example.com"/);
    expect(
      corsPolicy({ allowedOrigins: ['https://portal.example.com:8443'], allowCredentials: false }).origins,
    ).toEqual(new Set(['https://portal.example.com:8443']));
  });

  it('refuses methods and headers that are not HTTP tokens, and a max age out of range', () => {
    expect(() =>
      corsPolicy({ allowedOrigins: [portal], allowCredentials: false, allowedMethods: ['GET POST'] }),
    ).toThrow(GuardConfigError);
    expect(() =>
      corsPolicy({ allowedOrigins: [portal], allowCredentials: false, allowedHeaders: ['X-A:b'] }),
    ).toThrow(GuardConfigError);
    expect(() =>
      corsPolicy({ allowedOrigins: [portal], allowCredentials: false, maxAgeSeconds: 86_401 }),
    ).toThrow(/max age/);
  });
});

describe('evaluateCors', () => {
  it('answers an allowed preflight with 204, the allowed methods, headers and max age', () => {
    expect(
      evaluateCors(policy, preflight(portal, 'POST', 'authorization, content-type, idempotency-key')),
    ).toEqual({
      kind: 'preflight',
      allowed: true,
      status: 204,
      headers: {
        'Access-Control-Allow-Origin': portal,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'GET, POST, DELETE',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Idempotency-Key',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    });
  });

  it('refuses a preflight for another origin, method or header with 403 and no CORS headers', () => {
    const refused = {
      kind: 'preflight',
      allowed: false,
      status: 403,
      headers: { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' },
    };
    expect(evaluateCors(policy, preflight('https://evil.example', 'GET'))).toEqual(refused);
    expect(evaluateCors(policy, preflight('https://portal.example.com.evil.example', 'GET'))).toEqual(
      refused,
    );
    expect(evaluateCors(policy, preflight('http://portal.example.com', 'GET'))).toEqual(refused);
    expect(evaluateCors(policy, preflight('null', 'GET'))).toEqual(refused);
    expect(evaluateCors(policy, preflight(portal, 'PUT'))).toEqual(refused);
    expect(evaluateCors(policy, preflight(portal, 'POST', 'Authorization, X-Internal'))).toEqual(refused);
  });

  it('allows the CORS-safelisted request headers in a preflight', () => {
    expect(evaluateCors(policy, preflight(portal, 'GET', 'accept, accept-language'))).toMatchObject({
      allowed: true,
    });
  });

  it('lets an allowed origin read the response and the headers it needs, with Vary: Origin', () => {
    expect(evaluateCors(policy, { method: 'GET', headers: { origin: portal } })).toEqual({
      kind: 'actual',
      allowed: true,
      headers: {
        'Access-Control-Allow-Origin': portal,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Expose-Headers': 'Location, Retry-After, RateLimit, RateLimit-Policy',
        Vary: 'Origin',
      },
    });
  });

  it('adds only Vary: Origin for an origin not allowed, and for a request without Origin', () => {
    expect(evaluateCors(policy, { method: 'POST', headers: { Origin: 'https://evil.example' } })).toEqual({
      kind: 'actual',
      allowed: false,
      headers: { Vary: 'Origin' },
    });
    expect(evaluateCors(policy, { method: 'GET', headers: new Headers() })).toEqual({
      kind: 'not-cors',
      headers: { Vary: 'Origin' },
    });
    expect(
      evaluateCors(policy, { method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'GET' } }),
    ).toMatchObject({ kind: 'not-cors' });
  });

  it('answers any origin with "*" and no credentials when the wildcard is configured', () => {
    const open = corsPolicy({ allowedOrigins: ['*'], allowCredentials: false });
    expect(evaluateCors(open, { method: 'GET', headers: { Origin: 'https://anyone.example' } })).toEqual({
      kind: 'actual',
      allowed: true,
      headers: {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Expose-Headers': 'Location, Retry-After, RateLimit, RateLimit-Policy',
      },
    });
  });

  it('adds nothing at all when no origin is configured', () => {
    const off = corsPolicy({ allowedOrigins: [], allowCredentials: false });
    expect(off.enabled).toBe(false);
    expect(evaluateCors(off, { method: 'GET', headers: { Origin: portal } })).toEqual({
      kind: 'actual',
      allowed: false,
      headers: {},
    });
    expect(evaluateCors(off, preflight(portal, 'GET'))).toEqual({
      kind: 'preflight',
      allowed: false,
      status: 403,
      headers: {},
    });
  });

  it('reads headers from a fetch Headers object, as HttpRequest carries them', () => {
    const headers = new Headers({ Origin: portal, 'Access-Control-Request-Method': 'delete' });
    expect(evaluateCors(policy, { method: 'options', headers })).toMatchObject({
      kind: 'preflight',
      allowed: true,
    });
  });
});
