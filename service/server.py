"""Run the API on uvicorn, refusing an open service without a token."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from app.errors import InvalidInput, NotFound
from service.limits import MB, Limits

TOKEN_ENV = "ACTIONSTORE_TOKEN"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def read_token(token_file: Path | None) -> str | None:
    """The bearer token: ``token_file``'s first line, else the environment's ``ACTIONSTORE_TOKEN``."""
    if token_file is not None:
        try:
            token = token_file.read_text().strip()
        except OSError as exc:
            raise InvalidInput(f"{token_file}: cannot read the token file ({exc.strerror})", param="token_file") from exc
        if not token:
            raise InvalidInput(f"{token_file}: the token file is empty", param="token_file")
        return token
    return os.environ.get(TOKEN_ENV) or None


def serve(store_root: str | Path, *, host: str = "127.0.0.1", port: int = 8000, token_file: Path | None = None,
          no_auth: bool = False, max_upload_mb: float = Limits.max_upload_bytes / MB,
          max_duration_s: float = Limits.max_duration_s, notify: Callable[[str], None] = print) -> None:
    """Serve the store until interrupted: a token is required unless ``no_auth`` on a loopback address."""
    import uvicorn

    from service.api import create_app

    if not (Path(store_root) / "catalog.duckdb").is_file():
        raise NotFound(f"{store_root}: no store there; run `actionstore --store {store_root} ingest DIR` first", param="store")
    token = None if no_auth else read_token(token_file)
    if no_auth and not is_loopback(host):
        raise InvalidInput(f"--no-auth serves only a loopback address (127.0.0.1), not {host}; set {TOKEN_ENV}", param="no_auth")
    if not no_auth and token is None:
        raise InvalidInput(f"no token: set {TOKEN_ENV} or pass --token-file (or --no-auth on 127.0.0.1)", param="token_file")
    notify(f"serving {store_root} on http://{host}:{port} (API docs at /docs){'' if token else ', no token'}; Ctrl-C stops")
    limits = Limits(max_upload_bytes=int(max_upload_mb * MB), max_duration_s=max_duration_s)
    uvicorn.run(create_app(store_root, token=token, limits=limits), host=host, port=port, log_level="warning")
