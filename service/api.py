"""The routes: each parses its request, calls one app job (on a worker thread) and sends ``plain(result)``.

Reads run on Starlette's thread pool; a job that may embed an uploaded clip runs on the bounded
``EmbedPool``. One ``Store`` serves every request (its read paths are thread-safe) and models stay
loaded between requests (``embed.model_cache``, through the app jobs).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

import app
from app.browse import PAGE_LIMIT
from app.defaults import DEFAULT_K, DEFAULT_METRIC
from app.encode import plain
from app.errors import InvalidInput
from service import errors
from service.auth import BearerToken
from service.limits import Limits
from service.pool import EmbedPool
from service.uploads import read_form, saved_clip


class SqlRequest(BaseModel):
    query: str
    limit: int | None = None  # rows at most (default and ceiling: the server's)
    timeout_s: float | None = None  # seconds at most (default and ceiling: the server's)


def create_app(store_root: str | Path, *, token: str | None = None, limits: Limits = Limits()) -> FastAPI:
    """The API over the store at ``store_root``; every request needs ``Authorization: Bearer <token>`` unless
    ``token`` is None (``serve`` allows that only on loopback)."""
    store = app.open_store(store_root)
    pool = EmbedPool(limits.embed_workers, limits.embed_waiting, limits.retry_after_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    api = FastAPI(title="actionstore", summary="Nearest clips, verdicts and read-only SQL over one store",
                  lifespan=lifespan)
    api.state.store, api.state.pool, api.state.limits = store, pool, limits
    errors.install(api)
    if token is not None:
        api.add_middleware(BearerToken, token=token)

    @api.get("/health")
    async def health() -> dict[str, Any]:
        counts = await run_in_threadpool(store.query, "SELECT (SELECT count(*) FROM videos) AS videos, "
                                         "(SELECT count(*) FROM embedding_sets) AS sets")
        return {"status": "ok", **counts[0]}

    @api.get("/sets")
    async def sets() -> JSONResponse:
        return await answer(app.list_sets, store)

    @api.get("/backbones")
    async def backbones() -> JSONResponse:
        return await answer(app.list_backbones)

    @api.get("/detectors")
    async def detectors() -> JSONResponse:
        return await answer(app.list_detectors, store)

    @api.get("/videos")
    async def videos(label: str | None = None, limit: int = PAGE_LIMIT, offset: int = 0) -> JSONResponse:
        return await answer(app.list_videos, store, label=label, limit=limit, offset=offset)

    @api.get("/videos/{video_id}")
    async def video(video_id: str) -> JSONResponse:
        return await answer(app.get_video, store, video_id)

    @api.post("/neighbors", openapi_extra=multipart(clip="file", video="string", set="string", k="integer",
                                                    metric="string", label="string"))
    async def neighbors(request: Request) -> JSONResponse:
        """Multipart: ``clip`` (a file) or ``video`` (a stored id); ``set``, ``k``, ``metric``, ``label`` (repeatable)."""
        async with read_form(request, limits) as form, query_clip(store, form, limits) as clip:
            return await run(pool, clip, app.neighbors, store, clip.ref, set_ref=field(form, "set"),
                             k=number(form, "k", int, DEFAULT_K), metric=field(form, "metric") or DEFAULT_METRIC,
                             labels=[str(v) for v in form.getlist("label")])

    @api.post("/within", openapi_extra=multipart(radius="number", clip="file", video="string", centroid="string",
                                                 set="string", metric="string"))
    async def within(request: Request) -> JSONResponse:
        """Multipart: ``radius`` and one of ``clip`` (a file), ``video`` (a stored id), ``centroid`` (a label)."""
        async with read_form(request, limits) as form:
            options = dict(radius=number(form, "radius", float, None), set_ref=field(form, "set"),
                           metric=field(form, "metric") or DEFAULT_METRIC)
            if (centroid := field(form, "centroid")) is not None:
                return await answer(app.within, store, centroid=centroid, **options)
            async with query_clip(store, form, limits) as clip:
                return await run(pool, clip, app.within, store, clip=clip.ref, **options)

    @api.post("/score", openapi_extra=multipart(clip="file", video="string", detector="string", k="integer"))
    async def score(request: Request) -> JSONResponse:
        """Multipart: ``clip`` (a file) or ``video`` (a stored id), ``detector``, ``k``."""
        async with read_form(request, limits) as form, query_clip(store, form, limits) as clip:
            detector = field(form, "detector")
            if not detector:
                raise InvalidInput("name a saved detector in the field 'detector' (GET /detectors lists them)",
                                   param="detector")
            return await run(pool, clip, app.score, store, clip.ref, detector, k=number(form, "k", int, DEFAULT_K))

    @api.post("/sql")
    async def sql(body: SqlRequest) -> JSONResponse:
        """Read-only SQL as the CLI runs it; the response carries the row and time limits it ran under."""
        limit = min(body.limit or limits.sql_rows, limits.sql_rows)
        timeout_s = min(body.timeout_s or limits.sql_seconds, limits.sql_seconds)
        r = await run_in_threadpool(app.sql, store, body.query, limit=limit, timeout_s=timeout_s)
        return JSONResponse({"columns": r.columns, "rows": plain(r.records()), "row_limit": r.row_limit,
                             "time_limit_s": r.time_limit_s, "truncated": r.truncated})

    return api


def multipart(**fields: str) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its multipart form itself (``read_form``)."""
    properties = {name: {"type": "string", "format": "binary"} if kind == "file" else {"type": kind}
                  for name, kind in fields.items()}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": properties}}}}}


async def answer(job: Callable[..., Any], *args: Any, **kwargs: Any) -> JSONResponse:
    """A read job's result on a worker thread, as JSON."""
    return JSONResponse(plain(await run_in_threadpool(job, *args, **kwargs)))


async def run(pool: EmbedPool, query: ClipRef, job: Callable[..., Any], *args: Any, **kwargs: Any) -> JSONResponse:
    """A job on ``query``: an upload's on the bounded pool (it may embed), its response naming the upload by the
    client's file name, never by our temporary path; a stored clip's as a read."""
    if query.upload is None:
        return await answer(job, *args, **kwargs)
    body = plain(await pool.run(job, *args, **kwargs))
    return JSONResponse({k: v.replace(query.ref, query.upload) if isinstance(v, str) else v for k, v in body.items()})


@dataclass
class ClipRef:
    ref: str  # what the app job is given: our temporary file's path, or a stored clip's id
    upload: str | None = None  # the client's file name of an upload


@contextlib.asynccontextmanager
async def query_clip(store: app.Store, form: FormData, limits: Limits) -> AsyncIterator[ClipRef]:
    """The query clip: an uploaded file (``clip``) or a stored clip's id (``video``)."""
    clip, video = form.get("clip"), field(form, "video")
    if isinstance(clip, UploadFile):
        async with saved_clip(clip, limits) as upload:
            yield ClipRef(str(upload.path), upload.name)
    elif clip is not None:
        raise InvalidInput("clip must be an uploaded file (curl -F clip=@FILE); to use a stored clip send its id "
                           "as the field 'video'", param="clip")
    elif video is not None:
        yield ClipRef((await run_in_threadpool(app.get_video, store, video))["video_id"])
    else:
        raise InvalidInput("send a clip file as the multipart field 'clip', or a stored clip's id as 'video'", param="clip")


def field(form: FormData, name: str) -> str | None:
    """A text form field (None when absent or empty)."""
    value = form.get(name)
    if isinstance(value, UploadFile):
        raise InvalidInput(f"{name} must be a text field, not a file", param=name)
    return value or None


def number(form: FormData, name: str, cast: type, default: Any) -> Any:
    """A numeric form field, ``default`` when absent (None: required)."""
    text = field(form, name)
    if text is None and default is None:
        raise InvalidInput(f"{name} is required", param=name)
    try:
        return default if text is None else cast(text)
    except ValueError:
        raise InvalidInput(f"{name} {text!r} is not a {cast.__name__}", param=name) from None
