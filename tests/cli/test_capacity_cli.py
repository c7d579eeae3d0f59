"""``canteen capacity`` on a copy of the demo: set the places, read a day's waiting list,
expire the offers due; refusals print one French line and change nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from canteen_adapters.cli.demo import ADMIN
from canteen_core.domain.reservations import SkipReason
from canteen_core.services import Canteen

from ._demo_site import run

ENROLLMENT = "CONCERTO-alban-rs"
DAY = date(2023, 12, 5)


def _set(site: Path, *args: str) -> tuple[int, str]:
    done = run("capacity", "set", "--config", str(site), "--service", "rs", *args)
    return done.exit_code, done.output


def test_set_capacity_read_the_waiting_list_and_expire_offers(site: Path) -> None:
    code, output = _set(site, "--site", "ronde", "--places", "0", "--day", "2024-01-09=2")
    assert code == 0, output
    assert output.splitlines() == [
        "rs à ronde : 0 place par jour",
        "  le mar. 09/01/2024 : 2 places",
    ]
    with Canteen.open(site) as canteen:
        canteen.reservations.cancel(ADMIN, ENROLLMENT, DAY)
        again = canteen.reservations.book(ADMIN, ENROLLMENT, DAY)
    assert again.skipped_for(SkipReason.FULL)
    listed = run(
        "capacity", "waiting", "--config", str(site), "--site", "ronde", "--service", "rs",
        "--day", DAY.isoformat(), "--json",
    )  # fmt: skip
    assert listed.exit_code == 0, listed.output
    assert [(e["position"], e["enrollment"], e["status"]) for e in json.loads(listed.output)] == [
        (1, ENROLLMENT, "waiting")
    ]
    expired = run("capacity", "expire", "--config", str(site))
    assert (expired.exit_code, expired.output) == (0, "0 offre expirée\n")


def test_bad_capacity_is_refused_in_one_french_line(site: Path) -> None:
    code, output = _set(site, "--site", "nulle-part", "--places", "3")
    assert code == 1
    assert len(output.splitlines()) == 1
    assert "site inconnu « nulle-part »" in output
    code, output = _set(site, "--site", "ronde", "--places", "3", "--day", "lundi")
    assert code == 2
    with Canteen.open(site) as canteen:
        assert canteen.capacity.get(ADMIN, "ronde", "rs") is None
