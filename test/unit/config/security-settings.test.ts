/** The HTTP edge's security settings (src/config/security-settings.ts) and the app's settings with authentication. */
import { AUTH_VARIABLES } from '../../../src/config/auth-settings';
import { CALLBACK_VARIABLES } from '../../../src/config/callback-settings';
import { SettingsError } from '../../../src/config/errors';
import { parseSecuritySettings, SECURITY_VARIABLES } from '../../../src/config/security-settings';
import { SETTINGS_CATALOG, settingDefinition } from '../../../src/config/settings-catalog';
import { loadAppSettings, parseSettings } from '../../../src/config/settings';
import { DEFAULT_CORS_MAX_AGE_SECONDS } from '../../../src/guards/cors';
import { DEFAULT_REQUEST_LIMITS } from '../../../src/guards/request-limits';
import { DEFAULT_HSTS_MAX_AGE_SECONDS } from '../../../src/guards/security-headers';

function problemsOf(parse: () => unknown): Array<{ variable: string; message: string }> {
  try {
    parse();
  } catch (error) {
    if (error instanceof SettingsError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a SettingsError');
}

describe('parseSecuritySettings', () => {
  it('applies the defaults of the catalog, which match the guards’ own', () => {
    expect(parseSecuritySettings({})).toEqual({
      httpAuthLevel: 'function',
      rateLimits: {
        enabled: true,
        tenant: { burst: 100, perSecond: 20 },
        principal: { burst: 50, perSecond: 10 },
        maxKeys: 10_000,
      },
      cors: { allowedOrigins: [], allowCredentials: false, maxAgeSeconds: DEFAULT_CORS_MAX_AGE_SECONDS },
      hstsMaxAgeSeconds: DEFAULT_HSTS_MAX_AGE_SECONDS,
      requestLimits: {
        maxHeaderCount: DEFAULT_REQUEST_LIMITS.maxHeaderCount,
        maxHeaderBytes: DEFAULT_REQUEST_LIMITS.maxHeaderBytes,
        maxQueryBytes: DEFAULT_REQUEST_LIMITS.maxQueryBytes,
      },
      grants: { table: 'LuciusGrants', cacheSeconds: 60 },
    });
  });

  it('reads every variable', () => {
    const settings = parseSecuritySettings({
      LUCIUS_HTTP_AUTH_LEVEL: 'Anonymous',
      LUCIUS_RATE_LIMITS: 'off',
      LUCIUS_RATE_LIMIT_TENANT_BURST: '5',
      LUCIUS_RATE_LIMIT_TENANT_PER_SECOND: '0.25',
      LUCIUS_RATE_LIMIT_PRINCIPAL_BURST: '3',
      LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND: '1.5',
      LUCIUS_RATE_LIMIT_MAX_KEYS: '20',
      LUCIUS_CORS_ALLOWED_ORIGINS: 'https://a.example.com, http://localhost:5173',
      LUCIUS_CORS_ALLOW_CREDENTIALS: 'true',
      LUCIUS_CORS_MAX_AGE_SECONDS: '0',
      LUCIUS_HSTS_MAX_AGE_SECONDS: '0',
      LUCIUS_MAX_HEADER_COUNT: '50',
      LUCIUS_MAX_HEADER_BYTES: '8192',
      LUCIUS_MAX_QUERY_BYTES: '1024',
      LUCIUS_TABLE_GRANTS: 'MyGrants',
      LUCIUS_AUTH_GRANTS_CACHE_SECONDS: '0',
    });
    expect(settings).toEqual({
      httpAuthLevel: 'anonymous',
      rateLimits: {
        enabled: false,
        tenant: { burst: 5, perSecond: 0.25 },
        principal: { burst: 3, perSecond: 1.5 },
        maxKeys: 20,
      },
      cors: {
        allowedOrigins: ['https://a.example.com', 'http://localhost:5173'],
        allowCredentials: true,
        maxAgeSeconds: 0,
      },
      hstsMaxAgeSeconds: 0,
      requestLimits: { maxHeaderCount: 50, maxHeaderBytes: 8192, maxQueryBytes: 1024 },
      grants: { table: 'MyGrants', cacheSeconds: 0 },
    });
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf(() =>
      parseSecuritySettings({
        LUCIUS_HTTP_AUTH_LEVEL: 'admin',
        LUCIUS_RATE_LIMITS: 'maybe',
        LUCIUS_RATE_LIMIT_TENANT_BURST: '0',
        LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND: '0.0001',
        LUCIUS_CORS_ALLOWED_ORIGINS: 'https://a.example.com/path',
        LUCIUS_MAX_QUERY_BYTES: 'lots',
        LUCIUS_TABLE_GRANTS: 'no-dashes',
      }),
    );
    expect(problems.map((p) => p.variable)).toEqual([
      'LUCIUS_HTTP_AUTH_LEVEL',
      'LUCIUS_RATE_LIMITS',
      'LUCIUS_RATE_LIMIT_TENANT_BURST',
      'LUCIUS_RATE_LIMIT_PRINCIPAL_PER_SECOND',
      'LUCIUS_CORS_ALLOWED_ORIGINS',
      'LUCIUS_MAX_QUERY_BYTES',
      'LUCIUS_TABLE_GRANTS',
    ]);
  });

  it('refuses the wildcard origin together with credentials, naming LUCIUS_CORS_ALLOW_CREDENTIALS', () => {
    const problems = problemsOf(() =>
      parseSecuritySettings({ LUCIUS_CORS_ALLOWED_ORIGINS: '*', LUCIUS_CORS_ALLOW_CREDENTIALS: 'true' }),
    );
    expect(problems).toEqual([
      { variable: 'LUCIUS_CORS_ALLOW_CREDENTIALS', message: expect.stringContaining('wildcard') },
    ]);
  });

  it('is part of Settings, so a bad value stops parseSettings too', () => {
    expect(parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory' }).security.grants.table).toBe('LuciusGrants');
    expect(() => parseSettings({ LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_RATE_LIMITS: 'x' })).toThrow(
      /LUCIUS_RATE_LIMITS: must be one of on, off/,
    );
  });
});

describe('loadAppSettings', () => {
  it('defaults to LUCIUS_AUTH_MODE=entra and names what it lacks with the other problems, at once', () => {
    const problems = problemsOf(() =>
      loadAppSettings({ LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_MAX_ATTEMPTS: '0' }),
    );
    expect(problems.map((p) => p.variable)).toEqual([
      'LUCIUS_MAX_ATTEMPTS',
      'LUCIUS_AUTH_TENANT_ID',
      'LUCIUS_AUTH_AUDIENCE',
    ]);
  });

  it('returns the auth settings, and the warning of an unprotected mode first among the warnings', () => {
    const loaded = loadAppSettings({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_AUTH_MODE: 'none',
      LUCIUS_TYPO: 'x',
    });
    expect(loaded.auth.mode).toBe('none');
    expect(loaded.warnings.map((w) => w.variable)).toEqual(['LUCIUS_AUTH_MODE', 'LUCIUS_TYPO']);
    expect(loaded.warnings[0]?.message).toContain('Never use this in a deployment');
    const dev = loadAppSettings({ LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_AUTH_MODE: 'dev' });
    expect(dev.warnings.map((w) => w.message)).toEqual([expect.stringContaining('LUCIUS_AUTH_MODE=dev')]);
    const entra = loadAppSettings({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_AUTH_TENANT_ID: '11111111-2222-3333-4444-555555555555',
      LUCIUS_AUTH_AUDIENCE: 'api://lucius',
    });
    expect(entra.auth).toMatchObject({ mode: 'entra', audiences: ['api://lucius'] });
    expect(entra.warnings).toEqual([]);
  });
});

describe('the security settings in the catalog', () => {
  it('lists every variable the security, auth and callback settings read, none as a tool setting', () => {
    const names = new Set(SETTINGS_CATALOG.map((s) => s.name));
    const read = [...SECURITY_VARIABLES, ...AUTH_VARIABLES, ...CALLBACK_VARIABLES];
    expect(read.filter((name) => !names.has(name))).toEqual([]);
    expect(read.filter((name) => settingDefinition(name).readBy === 'tools')).toEqual([]);
  });

  it('keeps the callback keys secret, and marks what entra needs in production as required', () => {
    expect(settingDefinition('LUCIUS_CALLBACK_KEY')).toMatchObject({ secret: true, production: 'required' });
    expect(settingDefinition('LUCIUS_CALLBACK_KEY_PREVIOUS')).toMatchObject({ secret: true });
    expect(settingDefinition('LUCIUS_AUTH_TENANT_ID').production).toBe('required');
    expect(settingDefinition('LUCIUS_AUTH_AUDIENCE').production).toBe('required');
    expect(settingDefinition('LUCIUS_AUTH_MODE').default).toBe('entra');
  });
});
