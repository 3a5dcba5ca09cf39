/**
 * Settings of tools run outside Functions: the environment over local.settings.json's Values.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettingsError } from '../../../src/config/errors';
import {
  loadSettingsForTool,
  readLocalSettingsValues,
  settingsForTool,
} from '../../../src/config/local-settings';

function directoryWith(content?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lucius-settings-'));
  if (content !== undefined) writeFileSync(join(dir, 'local.settings.json'), content);
  return dir;
}

describe('local settings', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('reads nothing when there is no local.settings.json', () => {
    expect(readLocalSettingsValues(directoryWith())).toEqual({});
  });

  it('completes the environment with the Values, the environment winning', () => {
    const dir = directoryWith(
      JSON.stringify({
        IsEncrypted: false,
        Values: {
          LUCIUS_STORAGE_BACKEND: 'memory',
          LUCIUS_LANE_COUNT: '8',
          LUCIUS_DURABLE_API_URL: 'http://127.0.0.1:7071/runtime/webhooks/durabletask/',
        },
      }),
    );
    process.env.LUCIUS_LANE_COUNT = '4';
    delete process.env.LUCIUS_STORAGE_BACKEND;
    const settings = settingsForTool(dir);
    expect(settings.storage.backend).toBe('memory');
    expect(settings.admission.laneCount).toBe(4);
    expect(settings.durableApi).toEqual({ url: 'http://127.0.0.1:7071/runtime/webhooks/durabletask' });
  });

  it('warns about a misspelt variable in the file, naming the closest setting', () => {
    const dir = directoryWith(
      JSON.stringify({ Values: { LUCIUS_STORAGE_BACKEND: 'memory', LUCIUS_LANE_CONUT: '8' } }),
    );
    delete process.env.LUCIUS_STORAGE_BACKEND;
    const { settings, warnings } = loadSettingsForTool(dir);
    expect(settings.admission.laneCount).toBe(16);
    expect(warnings.filter((w) => w.variable === 'LUCIUS_LANE_CONUT')).toEqual([
      {
        variable: 'LUCIUS_LANE_CONUT',
        message:
          'LUCIUS_LANE_CONUT is not a Lucius setting and is ignored; the closest known one is LUCIUS_LANE_COUNT',
      },
    ]);
  });

  it('names the file when it is not JSON or a value is not a string', () => {
    expect(() => readLocalSettingsValues(directoryWith('{ nope'))).toThrow(SettingsError);
    expect(() =>
      readLocalSettingsValues(directoryWith(JSON.stringify({ Values: { LUCIUS_LANE_COUNT: 8 } }))),
    ).toThrow(/local\.settings\.json Values\.LUCIUS_LANE_COUNT: must be a string/);
  });
});
