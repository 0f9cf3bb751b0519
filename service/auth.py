"""A bearer token on every request (an ASGI middleware, so no route, ``/docs`` included, escapes it)."""

from __future__ import annotations

import hmac
from typing import Any

from service.errors import one_line


class BearerToken:
    """Refuse any HTTP request whose ``Authorization`` is not ``Bearer <token>`` with a one-line 401."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self.allowed(scope):
            response = one_line(401, "unauthorized", "missing or wrong token: send the header "
                                "'Authorization: Bearer <token>' (the server's ACTIONSTORE_TOKEN or --token-file)",
                                headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def allowed(self, scope: dict) -> bool:
        sent = dict(scope.get("headers") or []).get(b"authorization", b"")
        return hmac.compare_digest(sent, self.expected)
