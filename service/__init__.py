"""The HTTP face of actionstore: FastAPI routes that parse a request, call one app job and send its result.

``create_app`` builds the API over one store; ``serve`` runs it on uvicorn. Every body is the app
result as ``app.encode.plain`` writes it (the CLI's ``--format json``); every error is one line
(``service.errors``). Imports only ``app`` among our packages.
"""

from service.api import create_app
from service.server import serve

__all__ = ["create_app", "serve"]
