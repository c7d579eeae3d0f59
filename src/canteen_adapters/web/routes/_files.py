"""Routes that answer a file to download: PDFs, iCalendar files, pain.008 XML files."""

from __future__ import annotations

from typing import Any, Final

from litestar import Response, get

__all__ = ["PDF", "attachment", "file_route"]

#: The media type of the PDF documents.
PDF: Final = "application/pdf"


def file_route(path: str, *, tags: list[str], media_type: str, **options: Any) -> get:
    """A GET route at ``path`` answering a file of ``media_type`` (made in a worker thread);
    ``options`` go to :func:`litestar.get`."""
    return get(path, tags=tags, sync_to_thread=True, media_type=media_type, **options)


def attachment(data: bytes, name: str, media_type: str) -> Response[bytes]:
    """``data`` as a download the browser saves as ``name``."""
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
