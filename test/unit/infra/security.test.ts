/**
 * The deployment's security pieces, read from the bicep text (no bicep compiler runs here): the Key
 * Vault holding the worker callback key (RBAC, soft delete, purge protection, the secret written on
 * first deployment only, from a random default the app's parser accepts), no secret in any output,
 * and the optional Entra ID app registration (Microsoft Graph extension, behind `createEntraApp`)
 * with Lucius's five app roles.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES } from '../../../src/auth/roles';
import { parseCallbackKey } from '../../../src/guards/callback-token';
import { declaration, outputs, property, readRepoFile, secureParameters } from './bicep-text';
import { REPO_ROOT } from './generated-files';

interface AppRole {
  readonly allowedMemberTypes: readonly string[];
  readonly description: string;
  readonly displayName: string;
  readonly id: string;
  readonly isEnabled: boolean;
  readonly value: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function bicepFiles(): string[] {
  const app = readdirSync(join(REPO_ROOT, 'infra', 'app'))
    .filter((name) => name.endsWith('.bicep'))
    .map((name) => `infra/app/${name}`);
  return ['infra/main.bicep', ...app];
}

function appRoles(): AppRole[] {
  return JSON.parse(readRepoFile('infra/entra/app-roles.json')) as AppRole[];
}

describe('infra: the Key Vault holding the worker callback key', () => {
  const keyVault = readRepoFile('infra/app/keyvault.bicep');
  const vault = declaration(keyVault, 'vault');

  it('authorizes with Azure RBAC only, keeps deleted secrets recoverable and cannot be purged early', () => {
    expect(vault.header).toMatch(/^resource vault 'Microsoft\.KeyVault\/vaults@[\d-]+' = \{$/);
    expect(property(vault.body, 'enableRbacAuthorization')).toBe('true');
    expect(property(vault.body, 'enableSoftDelete')).toBe('true');
    expect(property(vault.body, 'enablePurgeProtection')).toBe('true');
    expect(Number(property(vault.body, 'softDeleteRetentionInDays'))).toBeGreaterThanOrEqual(7);
    expect(vault.body).not.toContain('accessPolicies');
    expect(property(vault.body, 'enabledForTemplateDeployment')).toBe('false');
    expect(property(vault.body, 'tenantId')).toBe('tenant().tenantId');
  });

  it('is reachable as the rest of the deployment is (the same public network access as storage and Service Bus)', () => {
    const access = property(vault.body, 'publicNetworkAccess');
    expect(access).toBe(property(readRepoFile('infra/app/storage.bicep'), 'publicNetworkAccess'));
    expect(access).toBe(property(readRepoFile('infra/app/servicebus.bicep'), 'publicNetworkAccess'));
  });

  it('writes the secret lucius-callback-key on the first deployment only, from the secure parameter', () => {
    const secret = declaration(keyVault, 'callbackKeySecret');
    expect(secret.decorators).toEqual(['@onlyIfNotExists()']);
    expect(secret.header).toMatch(
      /^resource callbackKeySecret 'Microsoft\.KeyVault\/vaults\/secrets@[\d-]+' = \{$/,
    );
    expect(property(secret.body, 'parent')).toBe('vault');
    expect(property(secret.body, 'name')).toBe('callbackKeySecretName');
    expect(keyVault).toContain("var callbackKeySecretName = 'lucius-callback-key'\n");
    expect(property(secret.body, 'value')).toBe('callbackKey');
    expect(secureParameters(keyVault)).toEqual(['callbackKey']);
  });

  it('defaults the key to at least 32 random bytes under key id cb1, in the form the app parses', () => {
    const main = readRepoFile('infra/main.bicep');
    expect(secureParameters(main)).toEqual(['callbackKey']);
    const declared = /^param callbackKey string = '(.+)'$/m.exec(main)?.[1];
    // Three random GUIDs: 3 x 36 characters = 108 bytes, 3 x 122 random bits (more than 256).
    expect(declared).toBe("cb1:${base64('${newGuid()}${newGuid()}${newGuid()}')}");
    const value = `cb1:${Buffer.from(`${randomUUID()}${randomUUID()}${randomUUID()}`, 'utf8').toString('base64')}`;
    const key = parseCallbackKey(value);
    expect(key.id).toBe('cb1');
    expect(key.secret.length).toBe(108);
    expect(main).toMatch(/^ {4}callbackKey: callbackKey$/m);
  });

  it('never outputs a secret: no output names a secure parameter or reads a secret value', () => {
    for (const file of bicepFiles()) {
      const bicep = readRepoFile(file);
      const secure = secureParameters(bicep);
      for (const { name, expression } of outputs(bicep)) {
        const leaks = [
          ...secure.filter((param) => new RegExp(`\\b${param}\\b`).test(expression)),
          ...(/listKeys|listSecrets|\.properties\.value|getSecret\(/.test(expression) ? [expression] : []),
        ];
        expect({ file, output: name, leaks }).toEqual({ file, output: name, leaks: [] });
      }
    }
    // The vault's outputs are names and URIs.
    expect(outputs(readRepoFile('infra/app/keyvault.bicep')).map((o) => o.name)).toEqual([
      'name',
      'id',
      'callbackKeySecretName',
      'callbackKeySecretUri',
      'previousCallbackKeySecretName',
      'previousCallbackKeySecretUri',
    ]);
  });
});

describe('infra: the Entra ID app registration', () => {
  const main = readRepoFile('infra/main.bicep');
  const entraApp = readRepoFile('infra/app/entra-app.bicep');

  it('is created only when createEntraApp is true (false by default: it needs Graph rights)', () => {
    expect(main).toMatch(/^param createEntraApp bool = false$/m);
    expect(declaration(main, 'entraApp').header).toBe(
      "module entraApp 'app/entra-app.bicep' = if (createEntraApp) {",
    );
    // No Graph resource anywhere else, so nothing of Graph is deployed without the condition.
    for (const file of bicepFiles().filter((name) => name !== 'infra/app/entra-app.bicep'))
      expect({ file, graph: readRepoFile(file).includes('Microsoft.Graph/') }).toEqual({
        file,
        graph: false,
      });
    expect(main).toMatch(
      /^output LUCIUS_ENTRA_APP_ID string = createEntraApp \? entraApp\.outputs\.appId : ''$/m,
    );
  });

  it('declares the Microsoft Graph extension, configured in infra/bicepconfig.json', () => {
    expect(entraApp).toMatch(/^extension microsoftGraphV1$/m);
    const config = JSON.parse(readRepoFile('infra/bicepconfig.json')) as {
      extensions: Record<string, string>;
    };
    expect(config.extensions.microsoftGraphV1).toMatch(
      /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/,
    );
  });

  it('registers a single-directory API with v2.0 tokens, the five roles and a service principal that requires assignment', () => {
    const application = declaration(entraApp, 'application');
    expect(application.header).toBe("resource application 'Microsoft.Graph/applications@v1.0' = {");
    expect(property(application.body, 'uniqueName')).toBe('uniqueName');
    expect(property(application.body, 'signInAudience')).toBe("'AzureADMyOrg'");
    // Lucius trusts the directory's v2.0 issuer only: v1.0 tokens would be refused.
    expect(property(application.body, 'requestedAccessTokenVersion')).toBe('2');
    expect(property(application.body, 'appRoles')).toBe('appRoles');
    expect(entraApp).toContain("var appRoles = loadJsonContent('../entra/app-roles.json')\n");
    // An Application ID URI of a form the directory accepts (api://<tenant id>/<string>).
    expect(entraApp).toContain("var identifierUri = 'api://${tenant().tenantId}/${uniqueName}'\n");

    const servicePrincipal = declaration(entraApp, 'servicePrincipal');
    expect(servicePrincipal.header).toBe(
      "resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {",
    );
    expect(property(servicePrincipal.body, 'appId')).toBe('application.appId');
    expect(property(servicePrincipal.body, 'appRoleAssignmentRequired')).toBe('true');
  });

  it("hands the registration's client id and URI to LUCIUS_AUTH_AUDIENCE (v2.0 tokens carry the client id)", () => {
    expect(entraApp).toMatch(/^output audience string = '\$\{application\.appId\},\$\{identifierUri\}'$/m);
    expect(main).toMatch(
      /^output LUCIUS_AUTH_AUDIENCE string = createEntraApp \? entraApp\.outputs\.audience : authAudience$/m,
    );
  });

  it("defines exactly Lucius's five roles, for users and applications, each with its own fixed id", () => {
    const roles = appRoles();
    expect(roles.map((role) => role.value)).toEqual([...ROLES]);
    expect(roles.map((role) => role.displayName)).toEqual([...ROLES]);
    for (const role of roles) {
      expect({ value: role.value, id: role.id }).toEqual({
        value: role.value,
        id: expect.stringMatching(GUID),
      });
      expect(role.allowedMemberTypes).toEqual(['User', 'Application']);
      expect(role.isEnabled).toBe(true);
      expect(role.description.length).toBeGreaterThan(0);
    }
    const scopeId = /^var userImpersonationScopeId = '([0-9a-f-]{36})'$/m.exec(entraApp)?.[1];
    expect(scopeId).toMatch(GUID);
    const ids = [...roles.map((role) => role.id), scopeId];
    expect(new Set(ids).size).toBe(ids.length);
  });
});
