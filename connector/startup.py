"""Start-up cost that is not the application's own: the cyclic GC scanning dependencies as they load."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["long_lived_objects"]


@contextmanager
def long_lived_objects() -> Iterator[None]:
    """Run a block that creates objects meant to live as long as the process, such as imports of
    large libraries, with the cyclic GC paused; then move every object to the permanent generation.

    Importing Connexion and PyGithub creates ~115,000 objects (modules, classes, functions). With
    the GC running, it traverses them over and over while they load and finds next to nothing to
    free: ~80 ms, a fifth of the connector's cold start (docs/benchmarks.md). Only pausing would
    not remove that cost but move it: the first collections afterwards, while the app is built or
    serves its first requests, would traverse them all. Freezing them (gc.freeze, which CPython's
    gc documentation advises before forking workers) takes them out of every later collection too,
    so full collections in a running worker take ~0.2 ms instead of ~35 ms. The price is that the
    few thousand garbage cycles those imports leave are never freed (~0.6 MB).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
