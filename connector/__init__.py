"""A spec-first HTTP connector that lets ChatGPT (or any assistant) act on GitHub safely."""

__version__ = "0.1.0"
