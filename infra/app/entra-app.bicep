// The Microsoft Entra ID app registration that stands for Lucius's API, with its app roles and its
// service principal, through the Microsoft Graph Bicep extension (infra/bicepconfig.json). Deployed
// only when main.bicep's `createEntraApp` is true: it needs Graph rights the deployer may lack
// (Application Developer or Cloud Application Administrator, or Application.ReadWrite.All). Without
// it, `authAudience` names a registration made by hand (docs/security.md has the steps and the
// az CLI commands).
//
// - App roles: infra/entra/app-roles.json (Lucius.Submit, .Read, .Operate, .Worker, .Admin, for
//   users and applications, fixed ids), the same file the az CLI route reads; their values are
//   src/auth/roles.ts's ROLES.
// - Tokens: v2.0 access tokens (`requestedAccessTokenVersion: 2`), the only ones Lucius accepts (it
//   trusts the directory's v2.0 issuer); their `aud` is the application (client) id, so the
//   audience output names it, with the Application ID URI.
// - A delegated scope, `user_impersonation`, pre-authorized for the Azure CLI, so a user with a role
//   can `az account get-access-token --scope <URI>/.default` without a consent prompt.
// - The service principal requires an assignment: only users and applications given one of the
//   roles can get a token for Lucius at all.
extension microsoftGraphV1

@description('Unique name of the registration in the directory (its key for redeployments).')
param uniqueName string

param displayName string = 'Lucius API'

@description('Client applications allowed to ask for `user_impersonation` without consent. Default: the Azure CLI.')
param preAuthorizedClientIds array = [
  '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
]

var identifierUri = 'api://${tenant().tenantId}/${uniqueName}'
var userImpersonationScopeId = '49904c5c-8b40-4a35-bfaf-113a63c4e80a'
var appRoles = loadJsonContent('../entra/app-roles.json')

resource application 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  appRoles: appRoles
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: userImpersonationScopeId
        type: 'User'
        value: 'user_impersonation'
        isEnabled: true
        adminConsentDisplayName: 'Call Lucius as the signed-in user'
        adminConsentDescription: 'Lets the application call Lucius as the signed-in user, with the Lucius roles that user was given.'
        userConsentDisplayName: 'Call Lucius as you'
        userConsentDescription: 'Lets the application call Lucius as you, with the Lucius roles you were given.'
      }
    ]
    preAuthorizedApplications: [
      for clientId in preAuthorizedClientIds: {
        appId: clientId
        delegatedPermissionIds: [
          userImpersonationScopeId
        ]
      }
    ]
  }
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: application.appId
  appRoleAssignmentRequired: true
}

output appId string = application.appId
output identifierUri string = identifierUri
output servicePrincipalId string = servicePrincipal.id
// LUCIUS_AUTH_AUDIENCE: v2.0 tokens carry the client id; the URI is accepted too.
output audience string = '${application.appId},${identifierUri}'
