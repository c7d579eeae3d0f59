"""Reading a CSV table as French spreadsheets and other tools write it.

:func:`read_csv_table` is shared by what imports tables (households from the command line, a
population for tariff simulations): it drops a byte-order mark, takes ``;`` as the separator when
the header line has more of them than commas, and names the columns as the header does, trimmed
and lower-cased.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

__all__ = ["missing_columns", "read_csv_table"]


def read_csv_table(text: str) -> csv.DictReader[str]:
    """Rows of ``text`` as dicts keyed by the trimmed, lower-cased header (first line)."""
    body = text.lstrip("\ufeff")
    first = body.splitlines()[0] if body.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(body), delimiter=delimiter)
    reader.fieldnames = [name.strip().lower() for name in (reader.fieldnames or [])]
    return reader


def missing_columns(reader: csv.DictReader[str], required: Iterable[str]) -> list[str]:
    """The ``required`` columns the table's header lacks, in their order."""
    header = reader.fieldnames or []
    return [column for column in required if column not in header]
