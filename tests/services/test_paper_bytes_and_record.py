# ruff: noqa: F811  (fixtures imported from test_family_papers are used as arguments)
"""A paper's bytes and its record: a record never points to missing bytes, even when an upload
fails after its record committed (files and database stores; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from canteen_core.domain.errors import RuleViolationError
from canteen_core.services.family_papers import discard_unrecorded

from ._world import PAYER, World
from .test_family_papers import _certificate, _stored_blobs, papers_world  # noqa: F401

D = date


class _AfterCommit(Exception):
    """Raised once the paper's transaction committed (a broken event plugin, an interrupt)."""


def test_a_failure_after_the_commit_keeps_the_papers_bytes(
    papers_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canteen = papers_world.canteen

    def publish(events: object) -> list[BaseException]:
        raise _AfterCommit

    monkeypatch.setattr(canteen.context, "publish", publish)
    with pytest.raises(_AfterCommit):
        _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19))
    monkeypatch.undo()
    (paper,) = canteen.papers.of_household(PAYER, "concerto")
    assert canteen.papers.download(PAYER, paper.id).content.startswith(b"%PDF-")
    assert _stored_blobs(canteen, tmp_path) == 1


def test_a_refused_upload_leaves_no_bytes(papers_world: World, tmp_path: Path) -> None:
    canteen = papers_world.canteen
    big = b"%PDF-1.4\n" + b"0" * 160_000
    _certificate(canteen, D(2023, 9, 18), D(2023, 9, 19), content=big)
    with pytest.raises(RuleViolationError):
        _certificate(canteen, D(2023, 9, 20), D(2023, 9, 21), content=big)
    assert _stored_blobs(canteen, tmp_path) == 1


def test_unreadable_records_keep_the_bytes(papers_world: World, tmp_path: Path) -> None:
    """When the records cannot be read, the bytes stay (an orphan blob, never a record
    without its bytes); with no record to look for they go."""
    canteen = papers_world.canteen
    store = canteen.context.document_store
    key = store.put(b"%PDF-1.4 orphan", content_type="application/pdf")

    class Broken:
        def unit_of_work(self, read_only: bool = False) -> object:
            raise ConnectionError("base injoignable")

    discard_unrecorded(Broken(), store, key, "concerto")  # type: ignore[arg-type]
    assert store.get(key) == b"%PDF-1.4 orphan"
    discard_unrecorded(canteen.context.storage, store, key, "concerto")
    assert _stored_blobs(canteen, tmp_path) == 0
