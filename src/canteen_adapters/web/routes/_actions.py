"""POST routes that act on what exists (decide, accept, close, send...): they answer 200 with
the outcome, where Litestar's POST answers 201 Created."""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.status_codes import HTTP_200_OK

__all__ = ["action"]


def action(path: str | None = None, *, tags: list[str] | None = None, **options: Any) -> post:
    """A POST route at ``path`` answering 200, run in a worker thread; ``options`` go to
    :func:`litestar.post`."""
    return post(path, tags=tags, status_code=HTTP_200_OK, sync_to_thread=True, **options)
