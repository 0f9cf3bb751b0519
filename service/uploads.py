"""Uploaded clips: read with a size bound, kept in a private temporary file that is always removed.

The client's file name is only shown back (``Upload.name``), never used as a path; the bytes go to
a file this process names. A body over the limit is refused with 413 while it streams in (or at
once, from its Content-Length); a clip that is not a video, or longer than allowed, is refused
with 422. The temporary file is removed whatever happens, decoding failures included. (Starlette's
form parser spools the part first into an anonymous temporary file, closed with the form.)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

import app
from app.errors import ActionstoreError, InvalidInput
from service.limits import Limits

MAX_FIELDS = 20
SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
NAME_CHARS = 80


class TooLarge(Exception):
    """The request body passed the upload limit."""


@dataclass
class Upload:
    path: Path  # the private temporary copy
    name: str  # the client's file name, for display only


def bounded(request: Request, limit: int) -> Request:
    """The request with a body that raises ``TooLarge`` past ``limit`` bytes (checked first on Content-Length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, too_large(limit))
    seen = 0

    async def receive() -> Any:
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise TooLarge
        return message

    return Request(request.scope, receive)


def too_large(limit: int) -> str:
    return f"upload too large: the limit is {limit / (1 << 20):.1f} MiB; send a shorter or smaller clip"


@contextlib.asynccontextmanager
async def read_form(request: Request, limits: Limits) -> AsyncIterator[FormData]:
    """The multipart (or url-encoded) form, with its size bounded; its spooled files are closed after."""
    try:
        form = await bounded(request, limits.max_upload_bytes).form(max_files=1, max_fields=MAX_FIELDS)
    except TooLarge:
        raise HTTPException(413, too_large(limits.max_upload_bytes)) from None
    try:
        yield form
    finally:
        await form.close()


@contextlib.asynccontextmanager
async def saved_clip(file: UploadFile, limits: Limits) -> AsyncIterator[Upload]:
    """The uploaded ``file`` as a private temporary file, checked to be a video no longer than allowed."""
    name = Path(file.filename or "upload").name[:NAME_CHARS] or "upload"
    suffix = Path(name).suffix.lower()  # a hint for the demuxer, kept only when it is plain
    handle, raw = tempfile.mkstemp(prefix="actionstore-upload-", suffix=suffix if SUFFIX.fullmatch(suffix) else "",
                                   dir=limits.upload_dir)
    path = Path(raw)
    try:
        with os.fdopen(handle, "wb") as out:
            await run_in_threadpool(shutil.copyfileobj, file.file, out)
        try:
            info = await run_in_threadpool(app.probe_clip, path)
        except ActionstoreError as exc:
            raise renamed(exc, path, name, "clip") from exc
        if info.duration_s > limits.max_duration_s:
            raise InvalidInput(f"{name}: {info.duration_s:.1f} s long; the limit is {limits.max_duration_s:g} s: "
                               "send a shorter clip", param="clip")
        try:
            yield Upload(path, name)
        except ActionstoreError as exc:
            raise renamed(exc, path, name, exc.param) from exc
    finally:
        path.unlink(missing_ok=True)


def renamed(exc: ActionstoreError, path: Path, name: str, param: str | None) -> ActionstoreError:
    """The same error naming the client's file, never our temporary path."""
    return type(exc)(str(exc).replace(str(path), name), param=param)
