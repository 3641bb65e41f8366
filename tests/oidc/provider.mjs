// A real OpenID provider for the sign-in tests (tests/oidc/conftest.py starts it):
// oidc-provider, with a client-credentials client, a code-flow client whose users sign in
// through the development login form, and JWT access tokens for the resource servers listed.
// Usage: node provider.mjs <config.json>; prints "ready <issuer>" once it listens.
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

// Roles go where Keycloak puts a realm's roles: realm_access.roles.
const withRoles = (roles) => ({ realm_access: { roles } });

// The people the login form knows (any password): claims put in their access tokens.
function personClaims(accountId) {
  const user = config.users[accountId];
  return user && { email: accountId, name: user.name, ...withRoles(user.roles) };
}

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: config.jwks,
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, ...personClaims(sub) }),
  }),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf || config.audiences[0],
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (!config.audiences.includes(resource)) throw new errors.InvalidTarget();
        return {
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: config.accessTokenSeconds,
          jwt: { sign: { alg: config.alg } },
        };
      },
    },
  },
  extraTokenClaims: async (ctx, token) => {
    if (token.accountId) return personClaims(token.accountId);
    const roles = config.serviceRoles[token.clientId];
    return roles && withRoles(roles);
  },
  pkce: { required: () => false },
  ttl: { AccessToken: config.accessTokenSeconds, ClientCredentials: config.accessTokenSeconds },
});

provider.listen(config.port, '127.0.0.1', () => console.log(`ready ${issuer}`));
