"""The operations as MCP tools, generated from the advertised document: ``tools`` (the definitions),
``protocol`` (MCP's JSON-RPC for a tools-only server), ``endpoint`` (``/mcp`` over streamable HTTP),
``stdio`` (``connector mcp --stdio``) and ``inprocess`` (a tool call answered by the operation's own
route).

May import: everything but ``ops``, ``cli``, ``app`` (``stdio`` builds an app through
``connector.app``, lazily, because it is an entry point).
"""
