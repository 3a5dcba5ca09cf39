/**
 * host.json `extensions.durableTask` versioning settings as devhost reads them: defaults as the
 * extension's, strategy names matched ignoring case, and a clear start-up error for a bad value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostConfig } from '../../../devhost/common/host-config';
import { createTestDurableEnvironment } from '../../../devhost/durable/engine';
import { loadFixtureApp } from './engine/load-durable-app';

describe('host.json durableTask versioning', () => {
  const dirs: string[] = [];

  function configFrom(durableTask: Record<string, unknown>) {
    const dir = mkdtempSync(join(tmpdir(), 'devhost-versioning-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { durableTask } }));
    return readHostConfig(dir, {}).durableTask;
  }

  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('defaults to no version, CurrentOrOlder and Reject', () => {
    const config = configFrom({});
    expect(config.defaultVersion).toBeUndefined();
    expect(config).toMatchObject({
      versionMatchStrategy: 'CurrentOrOlder',
      versionFailureStrategy: 'Reject',
    });
    expect(configFrom({ defaultVersion: null }).defaultVersion).toBeUndefined();
  });

  it('reads the version and the strategies, ignoring the case of their names', () => {
    expect(
      configFrom({ defaultVersion: '2.1', versionMatchStrategy: 'strict', versionFailureStrategy: 'FAIL' }),
    ).toMatchObject({
      defaultVersion: '2.1',
      versionMatchStrategy: 'Strict',
      versionFailureStrategy: 'Fail',
    });
    expect(configFrom({ defaultVersion: 3, versionMatchStrategy: 'None' })).toMatchObject({
      defaultVersion: '3',
      versionMatchStrategy: 'None',
    });
  });

  it('refuses an unknown strategy or a version that is not text, naming the setting', () => {
    expect(() => configFrom({ versionMatchStrategy: 'Major' })).toThrow(
      /durableTask\.versionMatchStrategy must be one of None, Strict, CurrentOrOlder \(got "Major"\)/,
    );
    expect(() => configFrom({ versionFailureStrategy: 'Retry' })).toThrow(
      /durableTask\.versionFailureStrategy must be one of Reject, Fail/,
    );
    expect(() => configFrom({ defaultVersion: { major: 1 } })).toThrow(
      /durableTask\.defaultVersion must be a string/,
    );
  });

  it('is what the engine takes as its versioning options', async () => {
    const env = createTestDurableEnvironment({
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      registrations: loadFixtureApp(() => require('../fixtures/versioned-app') as unknown).registrations,
      versioning: configFrom({
        defaultVersion: '1.0',
        versionMatchStrategy: 'Strict',
        versionFailureStrategy: 'Fail',
      }),
    });
    try {
      await env.engine.start('reportsVersion', { instanceId: 'from-host-json', version: '2.0' });
      expect(await env.waitForCompletion('from-host-json')).toMatchObject({
        runtimeStatus: 'Failed',
        output: "The orchestration version '2.0' does not match the worker version '1.0'.",
      });
    } finally {
      await env.stop();
    }
  });
});
