"""Handlers, one module per group of operations, named by the spec's operationIds."""
