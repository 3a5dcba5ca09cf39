/**
 * Authentication for `npm start`: every Lucius endpoint but the health probes asks for a bearer
 * token, so the launcher runs the app with `LUCIUS_AUTH_MODE=dev` unless the environment chose a
 * mode, with the dev issuer's key (and the callback key of dev/none) in the launcher's data folder
 * (`LUCIUS_AUTH_DEV_DATA_DIR`), and says how to get a token: `npx lucius token`, which reads that
 * folder (`--data` when it is not the default `.azurite`).
 */
/** The app roles an operator of the quick start needs: submit, read, cancel/redrive/delete. */
export const QUICK_START_ROLES = 'Lucius.Submit,Lucius.Read,Lucius.Operate';

/**
 * Sets `LUCIUS_AUTH_MODE=dev` in `env` when it is unset or empty, and `LUCIUS_AUTH_DEV_DATA_DIR` to
 * `dataDir` (always: the printed token command and lucius.env name that folder). Returns the mode.
 */
export function useLocalAuth(env: NodeJS.ProcessEnv, dataDir: string): string {
  const given = env.LUCIUS_AUTH_MODE?.trim();
  const mode = given === undefined || given === '' ? 'dev' : given;
  env.LUCIUS_AUTH_MODE = mode;
  env.LUCIUS_AUTH_DEV_DATA_DIR = dataDir;
  return mode;
}

export interface AuthLinesInput {
  readonly mode: string;
  readonly dataDir: string;
  /** `<project>/.azurite`: the folder `npx lucius token` uses without `--data`. */
  readonly defaultDataDir: string;
  /** `http://localhost:<port>/<routePrefix>` */
  readonly apiUrl: string;
  readonly functionKey: string;
}

/** The `npx lucius token` line for `dataDir` (with `--data` unless it is the default folder). */
export function tokenCommand(dataDir: string, defaultDataDir: string): string {
  const data = dataDir === defaultDataDir ? '' : ` --data ${shellQuote(dataDir)}`;
  return `TOKEN=$(npx lucius token --tenant t1 --roles ${QUICK_START_ROLES}${data})`;
}

/** What `up` prints about authentication, one line each, labels padded like its other lines. */
export function authLines(input: AuthLinesInput): string[] {
  const label = (name: string) => name.padEnd(23);
  if (input.mode.toLowerCase() !== 'dev')
    return [
      `${label('Authentication:')}LUCIUS_AUTH_MODE=${input.mode}${input.mode.toLowerCase() === 'none' ? ' (no credentials asked: never in a deployment)' : ''}`,
    ];
  const jobs = `${input.apiUrl}/v1/jobs?tenant_id=t1&code=${encodeURIComponent(input.functionKey)}`;
  return [
    `${label('Authentication:')}LUCIUS_AUTH_MODE=dev: bearer tokens of the local dev issuer (key in ${input.dataDir}), e.g.`,
    `${label('')}${tokenCommand(input.dataDir, input.defaultDataDir)}`,
    `${label('')}curl -s -H "Authorization: Bearer $TOKEN" '${jobs}'`,
    `${label('Dev JWKS:')}${input.apiUrl}/dev/jwks.json`,
  ];
}

/** `value` as one shell word. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
