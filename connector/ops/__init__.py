"""What an operator runs besides the service: ``doctor`` (``connector check``) and ``sandbox`` (the
connector against the embedded GitHub double). May import everything but ``cli``.
"""
