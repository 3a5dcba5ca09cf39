import { parseAuthSettings } from '../../../src/config/auth-settings';
import { createAuthenticator } from '../../../src/auth/create-authenticator';
import { CLIENT_PRINCIPAL_HEADER, EasyAuthAuthenticator } from '../../../src/auth/easy-auth-authenticator';
import { AuthFailure } from '../../../src/auth/errors';
import { SettingsError } from '../../../src/config/errors';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

/** A client principal as App Service Authentication passes it for a Microsoft Entra ID caller. */
const clientPrincipal = (extraClaims: { typ: string; val: string }[] = [], authTyp = 'aad') => ({
  auth_typ: authTyp,
  name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  claims: [
    { typ: 'aud', val: 'api://lucius' },
    { typ: 'iss', val: 'https://login.microsoftonline.com/tid/v2.0' },
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'object-1' },
    { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier', val: 'pairwise-sub' },
    { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'Ada' },
    { typ: 'azp', val: 'client-app-1' },
    { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Lucius.Read' },
    { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Lucius.Operate' },
    { typ: 'lucius_tenants', val: 't1' },
    { typ: 'lucius_tenants', val: 't2' },
    ...extraClaims,
  ],
});

const headers = (value: unknown): Headers => new Headers({ [CLIENT_PRINCIPAL_HEADER]: encode(value) });

describe('EasyAuthAuthenticator', () => {
  const authenticator = new EasyAuthAuthenticator({
    tenantsClaim: 'lucius_tenants',
    audiences: ['api://lucius'],
  });

  it('reads the principal from x-ms-client-principal, long claim names included', async () => {
    expect(await authenticator.authenticate(headers(clientPrincipal()))).toEqual({
      subject: 'object-1',
      appId: 'client-app-1',
      name: 'Ada',
      roles: ['Lucius.Read', 'Lucius.Operate'],
      tenants: ['t1', 't2'],
    });
  });

  it('answers a request without the header as unauthenticated', async () => {
    expect(await authenticator.authenticate(new Headers())).toMatchObject({
      status: 401,
      code: 'unauthenticated',
    });
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['a JSON array', encode([1, 2])],
    ['claims that are not typ/val pairs', encode({ auth_typ: 'aad', claims: [{ typ: 'oid', val: 1 }] })],
    ['no claims', encode({ auth_typ: 'aad' })],
  ])('refuses a header holding %s', async (_what, value) => {
    const failure = await authenticator.authenticate(new Headers({ [CLIENT_PRINCIPAL_HEADER]: value }));
    expect(failure).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('refuses a caller signed in with another identity provider', async () => {
    const failure = await authenticator.authenticate(headers(clientPrincipal([], 'github')));
    expect((failure as AuthFailure).message).toMatch(/Microsoft Entra ID/);
  });

  it('checks the audience again when audiences are configured', async () => {
    const other = new EasyAuthAuthenticator({ tenantsClaim: 'lucius_tenants', audiences: ['api://other'] });
    expect(await other.authenticate(headers(clientPrincipal()))).toMatchObject({ code: 'invalid_token' });
    const unchecked = new EasyAuthAuthenticator({ tenantsClaim: 'lucius_tenants' });
    expect(await unchecked.authenticate(headers(clientPrincipal()))).not.toBeInstanceOf(AuthFailure);
  });

  it('ignores a bearer token', async () => {
    const failure = await authenticator.authenticate(new Headers({ authorization: 'Bearer abc.def.ghi' }));
    expect(failure).toMatchObject({ code: 'unauthenticated' });
  });
});

describe('easyauth mode settings', () => {
  it('refuses to start unless LUCIUS_AUTH_EASYAUTH_TRUSTED=true', () => {
    expect(() => parseAuthSettings({ LUCIUS_AUTH_MODE: 'easyauth', WEBSITE_AUTH_ENABLED: 'True' })).toThrow(
      /LUCIUS_AUTH_EASYAUTH_TRUSTED: must be true/,
    );
  });

  it('refuses to start when App Service Authentication is not enabled on the app', () => {
    let error: unknown;
    try {
      parseAuthSettings({ LUCIUS_AUTH_MODE: 'easyauth', LUCIUS_AUTH_EASYAUTH_TRUSTED: 'true' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).problems.map((p) => p.variable)).toEqual(['WEBSITE_AUTH_ENABLED']);
  });

  it('builds the easyauth authenticator when both say so', async () => {
    const settings = parseAuthSettings({
      LUCIUS_AUTH_MODE: 'easyauth',
      LUCIUS_AUTH_EASYAUTH_TRUSTED: 'true',
      WEBSITE_AUTH_ENABLED: 'True',
      LUCIUS_AUTH_AUDIENCE: 'api://lucius',
    });
    const authenticator = await createAuthenticator(settings);
    expect(authenticator.mode).toBe('easyauth');
    expect(await authenticator.authenticate(headers(clientPrincipal()))).toMatchObject({
      subject: 'object-1',
    });
  });
});
