"""Every error as one line of JSON, ``{"error": kind, "message": ..., "param": field}``, never a traceback.

App kinds map to statuses (not_found 404, invalid_input 422, conflict 409, internal 500); ``param``
is the library's argument name turned into the request's field name.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.errors import ActionstoreError, Internal

STATUS = {"not_found": 404, "invalid_input": 422, "conflict": 409, "internal": 500}
FIELD = {"set_ref": "set", "labels": "label", "views": "view"}  # library argument -> request field, where they differ
HTTP_KIND = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large", 503: "busy"}


def one_line(status: int, kind: str, message: str, param: str | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    """The error response every failure sends."""
    body = {"error": kind, "message": " ".join(str(message).split()), "param": param}
    return JSONResponse(body, status_code=status, headers=headers)


def app_error(error: ActionstoreError) -> JSONResponse:
    param = FIELD.get(error.param or "", error.param)
    message = f"internal error: {error} (a bug, not your request)" if error.kind == "internal" else str(error)
    return one_line(STATUS[error.kind], error.kind, message, param)


def install(api: FastAPI) -> None:
    """Register the handlers: app kinds, HTTP errors, request validation, and anything else as 500."""

    @api.exception_handler(ActionstoreError)
    async def _app(_: Request, exc: ActionstoreError) -> JSONResponse:
        return app_error(exc)

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code in (404, 405) and message in ("Not Found", "Method Not Allowed"):
            message = f"{message}: {request.method} {request.url.path}; the routes are listed at /docs"
        return one_line(exc.status_code, HTTP_KIND.get(exc.status_code, "http_error"), message, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = str(first["loc"][-1]) if first["loc"] else None
        return one_line(422, "invalid_input", f"{field}: {first['msg']}" if field else first["msg"], field)

    @api.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:  # uvicorn logs the traceback; the client gets one line
        return app_error(Internal(f"{type(exc).__name__}"))
