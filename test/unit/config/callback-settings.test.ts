/**
 * The callback keys from the environment: required in the modes that face real callers, a local key
 * file in dev and none (0600 in a 0700 folder, created once and reused, refused when others may read
 * it), and every bad value a SettingsError naming its variable without ever printing a secret.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CALLBACK_KEY_FILE,
  loadCallbackKeyRing,
  parseCallbackSettings,
} from '../../../src/config/callback-settings';
import { SettingsError } from '../../../src/config/errors';
import { issueCallbackToken, verifyCallbackToken } from '../../../src/guards/callback-token';

const SECRET = randomBytes(32).toString('base64');
const OLD_SECRET = randomBytes(32).toString('base64url');
const folders: string[] = [];

function dataFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'lucius-callback-key-'));
  folders.push(folder);
  return folder;
}

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** The SettingsError `parse` throws (fails the test when it throws nothing or something else). */
function settingsErrorOf(parse: () => unknown): SettingsError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error('expected a SettingsError');
}

const claims = { jobId: 'job-1', stepId: 'ocr', attemptNo: 1, leaseId: 'lease-1' };
const route = { jobId: 'job-1', stepId: 'ocr' };

describe('parseCallbackSettings', () => {
  it.each(['entra', 'easyauth', undefined])(
    'requires LUCIUS_CALLBACK_KEY with LUCIUS_AUTH_MODE=%s',
    (mode) => {
      const error = settingsErrorOf(() =>
        parseCallbackSettings(mode === undefined ? {} : { LUCIUS_AUTH_MODE: mode }),
      );
      expect(error.problems.map((p) => p.variable)).toEqual(['LUCIUS_CALLBACK_KEY']);
      expect(error.message).toContain(`LUCIUS_AUTH_MODE=${mode ?? 'entra'}`);
    },
  );

  it('takes the current and the previous key from the environment, the current one signing', () => {
    const keys = loadCallbackKeyRing({
      LUCIUS_AUTH_MODE: 'entra',
      LUCIUS_CALLBACK_KEY: `2026-02:${SECRET}`,
      LUCIUS_CALLBACK_KEY_PREVIOUS: `2026-01:${OLD_SECRET}`,
    });
    expect(keys.current.id).toBe('2026-02');
    expect(keys.previous?.id).toBe('2026-01');
    expect(keys.current.secret).toEqual(Buffer.from(SECRET, 'base64'));
    const old = issueCallbackToken(keys.previous!, claims);
    expect(verifyCallbackToken(keys, old, route)).toMatchObject({ ok: true, keyId: '2026-01' });
    // Neither the settings nor the keys print a secret.
    const settings = parseCallbackSettings({ LUCIUS_CALLBACK_KEY: `2026-02:${SECRET}` });
    expect(JSON.stringify(settings)).not.toContain(SECRET);
  });

  it.each([
    ['no key id', SECRET],
    ['a key id the token cannot carry', `key id!:${SECRET}`],
    ['a secret that is not base64', '2026-02:not base64 at all'],
    ['a secret shorter than 32 bytes', `2026-02:${randomBytes(16).toString('base64')}`],
  ])('refuses %s, naming the variable and never the value', (_case, value) => {
    for (const variable of ['LUCIUS_CALLBACK_KEY', 'LUCIUS_CALLBACK_KEY_PREVIOUS'] as const) {
      const env = { LUCIUS_AUTH_MODE: 'dev', LUCIUS_CALLBACK_KEY: `2026-03:${SECRET}`, [variable]: value };
      const error = settingsErrorOf(() => parseCallbackSettings(env));
      expect(error.problems.map((p) => p.variable)).toEqual([variable]);
      const secretPart = value.slice(value.indexOf(':') + 1);
      expect(error.message).not.toContain(secretPart);
      expect(error.message).not.toContain(SECRET);
    }
  });

  it('refuses a previous key with the current key’s id', () => {
    const error = settingsErrorOf(() =>
      parseCallbackSettings({
        LUCIUS_CALLBACK_KEY: `2026-02:${SECRET}`,
        LUCIUS_CALLBACK_KEY_PREVIOUS: `2026-02:${OLD_SECRET}`,
      }),
    );
    expect(error.problems.map((p) => p.variable)).toEqual(['LUCIUS_CALLBACK_KEY_PREVIOUS']);
    expect(error.message).not.toContain(OLD_SECRET);
  });
});

describe('loadCallbackKeyRing in dev and none', () => {
  it.each(['dev', 'none'])(
    'creates the key file once with mode 0600 in a 0700 folder (LUCIUS_AUTH_MODE=%s) and reuses it',
    (mode) => {
      const dataDir = join(dataFolder(), 'nested');
      const env = { LUCIUS_AUTH_MODE: mode, LUCIUS_AUTH_DEV_DATA_DIR: dataDir };
      const first = loadCallbackKeyRing(env);
      const keyFile = join(dataDir, CALLBACK_KEY_FILE);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      const written = readFileSync(keyFile, 'utf8');
      const second = loadCallbackKeyRing(env);
      expect(readFileSync(keyFile, 'utf8')).toBe(written);
      expect(second.current.id).toBe(first.current.id);
      // A token signed by one process verifies in the next.
      const token = issueCallbackToken(first.current, claims);
      expect(verifyCallbackToken(second, token, route)).toMatchObject({ ok: true });
    },
  );

  it('prefers LUCIUS_CALLBACK_KEY over the key file, and keeps a previous key beside the file’s', () => {
    const dataDir = dataFolder();
    const configured = loadCallbackKeyRing({
      LUCIUS_AUTH_MODE: 'dev',
      LUCIUS_AUTH_DEV_DATA_DIR: dataDir,
      LUCIUS_CALLBACK_KEY: `2026-02:${SECRET}`,
    });
    expect(configured.current.id).toBe('2026-02');
    expect(() => statSync(join(dataDir, CALLBACK_KEY_FILE))).toThrow();
    const rotating = loadCallbackKeyRing({
      LUCIUS_AUTH_MODE: 'dev',
      LUCIUS_AUTH_DEV_DATA_DIR: dataDir,
      LUCIUS_CALLBACK_KEY_PREVIOUS: `2026-01:${OLD_SECRET}`,
    });
    expect(rotating.current.id).toMatch(/^dev-/);
    expect(rotating.previous?.id).toBe('2026-01');
  });

  it('refuses a key file others may read, naming LUCIUS_AUTH_DEV_DATA_DIR without its content', () => {
    const dataDir = dataFolder();
    const env = { LUCIUS_AUTH_MODE: 'dev', LUCIUS_AUTH_DEV_DATA_DIR: dataDir };
    loadCallbackKeyRing(env);
    const keyFile = join(dataDir, CALLBACK_KEY_FILE);
    chmodSync(keyFile, 0o644);
    const error = settingsErrorOf(() => loadCallbackKeyRing(env));
    expect(error.problems.map((p) => p.variable)).toEqual(['LUCIUS_AUTH_DEV_DATA_DIR']);
    expect(error.message).toContain('chmod 600');
    const { secret } = JSON.parse(readFileSync(keyFile, 'utf8')) as { secret: string };
    expect(error.message).not.toContain(secret);
  });

  it('refuses a key file that holds no valid key', () => {
    const dataDir = dataFolder();
    writeFileSync(join(dataDir, CALLBACK_KEY_FILE), '{"kid":"dev-1","secret":"c2hvcnQ"}\n', { mode: 0o600 });
    const error = settingsErrorOf(() =>
      loadCallbackKeyRing({ LUCIUS_AUTH_MODE: 'dev', LUCIUS_AUTH_DEV_DATA_DIR: dataDir }),
    );
    expect(error.message).toContain('delete it for a new key');
  });
});
