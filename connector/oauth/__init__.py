"""OAuth 2.1: the connector as its own authorization server (``CONNECTOR_OAUTH=embedded``) and as a
resource server that accepts the access tokens it, or an external issuer, signed.

Holds: ``signing`` (the keys access tokens are signed with, and their JWKS), ``tokens`` (access
tokens issued and verified, RFC 9068), ``metadata`` (RFC 8414 and RFC 9728 documents and the 401
challenge), ``clients`` (who may ask: pre-registered, dynamically registered, and client ID metadata
documents), ``redirects`` (which redirect URIs the operator allows), ``grants`` (Authlib's
authorization-code and refresh-token grants, bound to this store), ``consent`` (the page a person
signs in on), ``server`` (the endpoints, on Starlette); and signing in with GitHub: ``github_web``
(GitHub's web flow), ``sealing`` (the encryption of people's GitHub tokens), ``github_sessions``
(those tokens, renewed once across workers), ``github_people`` (who may sign in, and what they may
do), ``github_signin`` (the consent page's "Sign in with GitHub" and GitHub's callback).
May import: ``types``, ``errors``, ``record``, ``config``, ``state``, ``github`` (to ask GitHub who
signed in), and Starlette for its own routes; never ``http``, ``api``, ``mcp`` or ``app`` (``http`` verifies tokens through ``tokens``).
"""
