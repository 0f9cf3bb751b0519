"""A bounded pool for embedding new clips: a few workers, a short wait list, and 503 beyond it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.exceptions import HTTPException

T = TypeVar("T")


class EmbedPool:
    """Runs at most ``workers`` jobs at once with at most ``waiting`` more queued; one more is refused."""

    def __init__(self, workers: int, waiting: int, retry_after_s: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed")
        self.capacity = workers + waiting
        self.retry_after_s = retry_after_s
        self._held = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take a place (running or waiting) if one is free."""
        with self._lock:
            if self._held >= self.capacity:
                return False
            self._held += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._held -= 1

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a worker, or a 503 with Retry-After when every place is taken."""
        if not self.try_acquire():
            raise HTTPException(503, f"busy: {self.capacity} clips are being embedded or waiting; retry in "
                                f"{self.retry_after_s} s", headers={"Retry-After": str(self.retry_after_s)})
        try:
            future = self.executor.submit(lambda: fn(*args, **kwargs))
        except RuntimeError:  # shut down
            self.release()
            raise
        future.add_done_callback(lambda _: self.release())  # held until the worker is done, even if the client left
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
