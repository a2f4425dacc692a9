"""The API description: ``openapi.yaml`` as loaded, checked, shaped for a deployment and served.

Holds: ``document`` (the document as served), ``openapi31`` (the adapter that lets Connexion 3.3 serve
3.1 and validates the 3.1 way), ``schema_errors`` (validation errors a model can act on), ``catalog``
(the operator's event catalog, which adds events and payload schemas to the document).
May import: ``connector.types``, ``connector.errors``, ``connector.config``.
The event catalog lives here rather than in ``config``: it validates payloads with the spec's
validators and is merged into the document, so ``config`` stays free of JSON Schema machinery.
"""
