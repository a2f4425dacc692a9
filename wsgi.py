"""Entry point for ASGI servers: ``uvicorn wsgi:app`` (the Connexion app is ASGI, despite the name)."""

from connector.app import app_from_environment

app = app_from_environment()
