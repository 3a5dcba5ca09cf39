import { SettingsError } from '../../src/config/errors';
import { parseTelemetrySettings } from '../../src/config/telemetry-settings';

const CONNECTION =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseTelemetrySettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems.map((p) => p.variable);
    throw error;
  }
  return [];
}

describe('parseTelemetrySettings', () => {
  it('is off by default, with JSON lines', () => {
    expect(parseTelemetrySettings({})).toEqual({ logFormat: 'json', serviceName: 'lucius' });
  });

  it('turns Application Insights on with its connection string, and leaves the console lines off', () => {
    expect(parseTelemetrySettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION })).toEqual({
      applicationInsights: { connectionString: CONNECTION, authentication: { kind: 'key' } },
      logFormat: 'off',
      serviceName: 'lucius',
    });
  });

  it('authenticates with a managed identity for Authorization=AAD, user-assigned with its ClientId', () => {
    const settings = parseTelemetrySettings({
      APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
        'Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555',
    });
    expect(settings.applicationInsights?.authentication).toEqual({
      kind: 'managed-identity',
      clientId: '11111111-2222-3333-4444-555555555555',
    });
    expect(
      parseTelemetrySettings({
        APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
      }).applicationInsights?.authentication,
    ).toEqual({ kind: 'managed-identity' });
  });

  it('names every bad variable at once', () => {
    expect(
      problemsOf({
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'https://example.com',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key',
        LUCIUS_LOG_FORMAT: 'xml',
      }),
    ).toEqual([
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'LUCIUS_LOG_FORMAT',
    ]);
    expect(problemsOf({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' })).toEqual([
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    ]);
  });

  it('takes the log format and the test file', () => {
    expect(
      parseTelemetrySettings({ LUCIUS_LOG_FORMAT: 'TEXT', LUCIUS_TELEMETRY_TEST_FILE: '/tmp/t.jsonl' }),
    ).toEqual({
      logFormat: 'text',
      testFile: '/tmp/t.jsonl',
      serviceName: 'lucius',
    });
  });
});
