// oidc-provider issuing JWT access tokens for one resource (RFC 8707, RFC 9068), to a client that
// uses the client-credentials grant. Configured entirely from the environment the test sets.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const audience = process.env.AUDIENCE;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'connector-test',
    client_secret: process.env.CLIENT_SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'prs:read prs:write dispatch',
    id_token_signed_response_alg: 'ES256', // the one key is an EC key; the default would be RS256
  }],
  scopes: ['prs:read', 'prs:write', 'dispatch'],
  jwks: { keys: [JSON.parse(process.env.SIGNING_JWK)] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'prs:read prs:write dispatch',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
