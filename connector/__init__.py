"""A spec-first HTTP connector that lets ChatGPT (or any assistant) act on GitHub safely."""

import warnings

__version__ = "0.1.0"

# Connexion 3.3 imports starlette.testclient when it is imported, and Starlette deprecates that
# module's httpx backend with a warning printed at every start of every worker, though the test
# client is never used outside tests. This package's modules import Connexion (most through
# .errors), so the filter goes here, before any of them can. The category is
# StarletteDeprecationWarning, a UserWarning; naming it would mean importing starlette.exceptions
# (~30 ms) also for `connector keys new`, so the filter names its base and the exact message.
warnings.filterwarnings(
    "ignore",
    message=r"Using `httpx` with `starlette\.testclient` is deprecated",
    category=UserWarning,
    module=r"connexion\.",
)
