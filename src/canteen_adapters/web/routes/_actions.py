"""How the POST routes are declared: one that creates answers 201 Created, one that acts on
what exists (decide, accept, close, send...) answers 200 with the outcome; both run in a
worker thread."""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

__all__ = ["action", "creation"]


def action(path: str | None = None, *, tags: list[str] | None = None, **options: Any) -> post:
    """A POST route at ``path`` answering 200; ``options`` go to :func:`litestar.post`."""
    return post(path, tags=tags, status_code=HTTP_200_OK, sync_to_thread=True, **options)


def creation(path: str | None = None, *, tags: list[str] | None = None, **options: Any) -> post:
    """A POST route at ``path`` answering 201; ``options`` go to :func:`litestar.post`."""
    return post(path, tags=tags, status_code=HTTP_201_CREATED, sync_to_thread=True, **options)
