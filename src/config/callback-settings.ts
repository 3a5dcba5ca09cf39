/**
 * The keys that sign and verify worker callback tokens (src/guards/callback-token.ts), from an
 * environment record once at start-up (this module reads `process.env` only in
 * `callbackKeyRingFromProcessEnv`, as the other settings modules do).
 *
 * | variable                       | meaning                                                          |
 * |--------------------------------|------------------------------------------------------------------|
 * | `LUCIUS_CALLBACK_KEY`          | `<key id>:<base64 secret of at least 32 bytes>`: signs every      |
 * |                                | token; required when `LUCIUS_AUTH_MODE` is `entra` (the default)  |
 * |                                | or `easyauth`                                                     |
 * | `LUCIUS_CALLBACK_KEY_PREVIOUS` | the key before the current one, still accepted during a rotation |
 *
 * With `LUCIUS_AUTH_MODE` `dev` or `none` and no `LUCIUS_CALLBACK_KEY`, the current key lives in
 * `<LUCIUS_AUTH_DEV_DATA_DIR>/callback-key.json` (default folder `.azurite`): created once (mode
 * 0600, folder 0700, written with `wx` so two processes starting at once keep the first key), reused
 * afterwards, and refused when others may read it, as the dev issuer does for its signing key.
 *
 * A bad value is a SettingsError naming the variable; no message ever contains a secret.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { DEFAULT_DEV_DATA_DIR } from './auth-settings';
import {
  callbackKey,
  callbackKeyRing,
  MIN_CALLBACK_KEY_BYTES,
  type CallbackKey,
  type CallbackKeyRing,
} from '../guards/callback-token';
import { SettingsError, type SettingProblem } from './errors';
import { present, type Env } from './env';

export const CALLBACK_KEY_FILE = 'callback-key.json';

/** The variables this module reads (for the settings catalog). */
export const CALLBACK_VARIABLES = ['LUCIUS_CALLBACK_KEY', 'LUCIUS_CALLBACK_KEY_PREVIOUS'] as const;
type CallbackVariable = (typeof CALLBACK_VARIABLES)[number];

/** The auth modes in which Lucius may keep its own key file (local use only). */
const LOCAL_MODES = ['dev', 'none'];

export type CallbackKeySettings =
  /** Both keys came from the environment. */
  | { readonly source: 'environment'; readonly keys: CallbackKeyRing }
  /** The current key is (or will be) in the local key file; a previous key may still come from the environment. */
  | { readonly source: 'key-file'; readonly keyFile: string; readonly previous?: CallbackKey };

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Pure: no file is touched (see `openCallbackKeyRing`). */
export function parseCallbackSettings(env: Env): CallbackKeySettings {
  const problems: SettingProblem[] = [];
  const current = keyOf(env, 'LUCIUS_CALLBACK_KEY', problems);
  const previous = keyOf(env, 'LUCIUS_CALLBACK_KEY_PREVIOUS', problems);
  const mode = present(env.LUCIUS_AUTH_MODE)?.toLowerCase() ?? 'entra';
  if (current === undefined && present(env.LUCIUS_CALLBACK_KEY) === undefined && !LOCAL_MODES.includes(mode))
    problems.push({
      variable: 'LUCIUS_CALLBACK_KEY',
      message: `is required with LUCIUS_AUTH_MODE=${mode}: <key id>:<base64 secret of at least ${MIN_CALLBACK_KEY_BYTES} bytes> (e.g. 2026-01:<output of openssl rand -base64 32>); it signs the callback tokens of worker directives`,
    });
  if (current !== undefined && previous !== undefined && current.id === previous.id)
    problems.push({
      variable: 'LUCIUS_CALLBACK_KEY_PREVIOUS',
      message: `must have another key id than LUCIUS_CALLBACK_KEY ("${current.id}")`,
    });
  if (problems.length > 0) throw new SettingsError(problems);
  if (current !== undefined)
    return Object.freeze({ source: 'environment', keys: callbackKeyRing(current, previous) });
  const dataDir = present(env.LUCIUS_AUTH_DEV_DATA_DIR) ?? DEFAULT_DEV_DATA_DIR;
  return Object.freeze({
    source: 'key-file',
    keyFile: join(dataDir, CALLBACK_KEY_FILE),
    ...(previous === undefined ? {} : { previous }),
  });
}

/** The key ring the settings describe, reading (or creating, once) the local key file if that is where the key lives. */
export function openCallbackKeyRing(settings: CallbackKeySettings): CallbackKeyRing {
  if (settings.source === 'environment') return settings.keys;
  const current = readKeyFile(settings.keyFile) ?? createKeyFile(settings.keyFile);
  if (settings.previous !== undefined && settings.previous.id === current.id)
    throw new SettingsError([
      {
        variable: 'LUCIUS_CALLBACK_KEY_PREVIOUS',
        message: `must have another key id than the key in ${settings.keyFile} ("${current.id}")`,
      },
    ]);
  return callbackKeyRing(current, settings.previous);
}

export function loadCallbackKeyRing(env: Env): CallbackKeyRing {
  return openCallbackKeyRing(parseCallbackSettings(env));
}

export function callbackKeyRingFromProcessEnv(): CallbackKeyRing {
  return loadCallbackKeyRing(process.env);
}

/**
 * A key known to this process alone (tokens it signs verify nowhere else), for services assembled
 * without settings: tests and tools that never hand a directive to a worker in another process.
 */
export function ephemeralCallbackKeyRing(): CallbackKeyRing {
  return callbackKeyRing(callbackKey(`process-${randomBytes(6).toString('hex')}`, randomBytes(32)));
}

function keyOf(env: Env, variable: CallbackVariable, problems: SettingProblem[]): CallbackKey | undefined {
  const text = present(env[variable]);
  if (text === undefined) return undefined;
  const colon = text.indexOf(':');
  const id = colon < 0 ? '' : text.slice(0, colon);
  const encoded = colon < 0 ? '' : text.slice(colon + 1).trim();
  // The messages describe the value's shape only: a secret is never echoed, nor a key id that might be one.
  const problem =
    colon < 0
      ? 'must be written as <key id>:<base64 secret>'
      : !KEY_ID.test(id)
        ? 'must start with a key id of 1 to 32 letters, digits, "_" or "-", then ":"'
        : !BASE64.test(encoded)
          ? `the secret of key "${id}" must be base64 or base64url`
          : decode(encoded).length < MIN_CALLBACK_KEY_BYTES
            ? `the secret of key "${id}" must have at least ${MIN_CALLBACK_KEY_BYTES} bytes (e.g. openssl rand -base64 32)`
            : undefined;
  if (problem !== undefined) {
    problems.push({ variable, message: problem });
    return undefined;
  }
  return callbackKey(id, decode(encoded));
}

function decode(encoded: string): Buffer {
  return Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The key file's problem, naming the folder's variable (the file's name is ours). */
function keyFileError(keyFile: string, message: string, cause?: unknown): SettingsError {
  const error = new SettingsError([
    { variable: 'LUCIUS_AUTH_DEV_DATA_DIR', message: `the callback key file ${keyFile} ${message}` },
  ]);
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
}

function readKeyFile(keyFile: string): CallbackKey | undefined {
  let mode: number;
  try {
    mode = statSync(keyFile).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw keyFileError(keyFile, 'cannot be read', error);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0)
    throw keyFileError(keyFile, 'is readable by others: chmod 600 it (or delete it for a new key)');
  let stored: unknown;
  try {
    stored = JSON.parse(readFileSync(keyFile, 'utf8'));
  } catch (error) {
    throw keyFileError(keyFile, 'is not JSON: delete it for a new key', error);
  }
  const { kid, secret } = (typeof stored === 'object' && stored !== null ? stored : {}) as Record<
    string,
    unknown
  >;
  try {
    if (typeof kid !== 'string' || typeof secret !== 'string') throw new TypeError('kid and secret');
    return callbackKey(kid, Buffer.from(secret, 'base64url'));
  } catch (error) {
    throw keyFileError(keyFile, 'does not hold a valid key: delete it for a new key', error);
  }
}

function createKeyFile(keyFile: string): CallbackKey {
  const created = {
    kid: `dev-${randomBytes(6).toString('hex')}`,
    secret: randomBytes(32).toString('base64url'),
  };
  try {
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    // `wx`: two processes creating the key at once keep the first one written.
    writeFileSync(keyFile, `${JSON.stringify(created)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw keyFileError(keyFile, 'cannot be created', error);
    const existing = readKeyFile(keyFile);
    if (existing !== undefined) return existing;
  }
  return callbackKey(created.kid, Buffer.from(created.secret, 'base64url'));
}
