import { GuardConfigError } from '../../../src/guards/errors';
import { securityHeaders, withSecurityHeaders } from '../../../src/guards/security-headers';

describe('securityHeaders', () => {
  it('gives every response the REST security headers', () => {
    expect(securityHeaders()).toEqual({
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    });
  });

  it('leaves HSTS out when its max age is 0, and refuses a negative one', () => {
    expect(securityHeaders({ hstsMaxAgeSeconds: 0 })).not.toHaveProperty('Strict-Transport-Security');
    expect(securityHeaders({ hstsMaxAgeSeconds: 300 })['Strict-Transport-Security']).toBe(
      'max-age=300; includeSubDomains',
    );
    expect(() => securityHeaders({ hstsMaxAgeSeconds: -1 })).toThrow(GuardConfigError);
  });
});

describe('withSecurityHeaders', () => {
  it('adds the security headers to a response’s own', () => {
    expect(withSecurityHeaders({ 'Content-Type': 'application/json', Location: '/api/v1/jobs/j1' })).toEqual({
      'Content-Type': 'application/json',
      Location: '/api/v1/jobs/j1',
      ...securityHeaders(),
    });
  });

  it('lets a response state its own Cache-Control, in any case, but no other security header', () => {
    const headers = withSecurityHeaders({
      'cache-control': 'no-cache',
      'x-frame-options': 'SAMEORIGIN',
      'Content-Security-Policy': "default-src 'self'",
    });
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers).not.toHaveProperty('Cache-Control');
    expect(headers).not.toHaveProperty('x-frame-options');
    expect(headers['X-Frame-Options']).toBe('DENY');
    expect(headers['Content-Security-Policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});
