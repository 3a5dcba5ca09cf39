import { authLines, tokenCommand, useLocalAuth } from '../../launcher/local-auth';

describe('useLocalAuth', () => {
  it('runs the app in dev mode when no mode is set, with the dev issuer in the data folder', () => {
    for (const given of [{}, { LUCIUS_AUTH_MODE: ' ' }]) {
      const env: NodeJS.ProcessEnv = { ...given, LUCIUS_AUTH_DEV_DATA_DIR: '/elsewhere' };
      expect(useLocalAuth(env, '/data')).toBe('dev');
      expect(env).toMatchObject({ LUCIUS_AUTH_MODE: 'dev', LUCIUS_AUTH_DEV_DATA_DIR: '/data' });
    }
  });

  it('keeps a mode the environment chose', () => {
    const env: NodeJS.ProcessEnv = { LUCIUS_AUTH_MODE: 'none' };
    expect(useLocalAuth(env, '/data')).toBe('none');
    expect(env.LUCIUS_AUTH_MODE).toBe('none');
  });
});

describe('authLines', () => {
  const input = {
    mode: 'dev',
    dataDir: '/work/app/.azurite',
    defaultDataDir: '/work/app/.azurite',
    apiUrl: 'http://localhost:7071/api',
    functionKey: 'k&1',
  };

  it('prints the token command, a curl line with the token and the dev JWKS URL', () => {
    expect(authLines(input)).toEqual([
      'Authentication:        LUCIUS_AUTH_MODE=dev: bearer tokens of the local dev issuer (key in /work/app/.azurite), e.g.',
      '                       TOKEN=$(npx lucius token --tenant t1 --roles Lucius.Submit,Lucius.Read,Lucius.Operate)',
      `                       curl -s -H "Authorization: Bearer $TOKEN" 'http://localhost:7071/api/v1/jobs?tenant_id=t1&code=k%261'`,
      'Dev JWKS:              http://localhost:7071/api/dev/jwks.json',
    ]);
  });

  it('names the data folder when it is not the default one, quoted for the shell', () => {
    expect(tokenCommand("/tmp/my data's", '/work/app/.azurite')).toBe(
      `TOKEN=$(npx lucius token --tenant t1 --roles Lucius.Submit,Lucius.Read,Lucius.Operate --data '/tmp/my data'\\''s')`,
    );
  });

  it('says when no credentials are asked', () => {
    expect(authLines({ ...input, mode: 'none' })).toEqual([
      'Authentication:        LUCIUS_AUTH_MODE=none (no credentials asked: never in a deployment)',
    ]);
  });
});
