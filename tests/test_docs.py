"""The documentation cannot rot: its examples run, its TOML parses, and the site builds.

* Every ```` ```pycon ```` block of the pages listed in :data:`EXECUTED_PAGES` is run as a
  doctest (the blocks of one page share a namespace, in order); every ```` ```python ````
  block of those pages is executed in that namespace. A block right after a
  ``<!-- not-run -->`` line is only shown (it needs a server, a file, the network).
* Every ```` ```toml ```` block of the deployment and adapter pages is parsed as a deployment
  file (when it has an ``[issuer]`` table), and each ``[payment.<name>]`` table is given to
  its provider's ``from_settings``.
* ``mkdocs build --strict`` (warnings are errors) runs when mkdocs is installed (extra
  ``docs``); it executes the tariff-simulation notebook (mkdocs-jupyter), whose plots must be
  in its page.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from canteen_core.config.deployment import Deployment, parse_deployment
from canteen_core.services import build_default_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Pages whose examples are executed (pages owned by other helpers test their own examples).
EXECUTED_PAGES = (
    "concepts.md",
    "rules/calendar.md",
    "rules/deadlines.md",
    "rules/reservations.md",
    "rules/charging.md",
    "rules/tariffs.md",
    "rules/activities.md",
    "rules/invoicing.md",
    "rules/aid.md",
    "rules/capacity.md",
    "rules/menus.md",
    "deployment.md",
    "adapters.md",
    "accounts.md",
    "embedding.md",
    "privacy.md",
)

#: Pages whose TOML blocks are deployment files or fragments of one.
TOML_PAGES = ("deployment.md", "adapters.md")

#: Values for ``${NAME}`` placeholders in the documented deployment files.
FAKE_ENVIRON = {
    "CANTEEN_DB_PASSWORD": "db-secret",
    "CANTEEN_SMTP_PASSWORD": "smtp-secret",
    "PAYZEN_TEST_KEY": "test-key-1234",
    "PAYZEN_PRODUCTION_KEY": "production-key-1234",
}

_FENCE = re.compile(
    r"^(?P<marker><!-- not-run -->\n)?```(?P<lang>[a-z]+)[^\n]*\n(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def _blocks(page: str, language: str | None = None) -> list[tuple[str, str, int, bool]]:
    """``(language, body, line, runnable)`` of each fenced block of ``page``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        lang = match.group("lang")
        if language is not None and lang != language:
            continue
        line = text.count("\n", 0, match.start("body"))
        found.append((lang, match.group("body"), line, match.group("marker") is None))
    return found


def _existing(pages: tuple[str, ...]) -> list[str]:
    return [page for page in pages if (DOCS / page).exists()]


@pytest.mark.parametrize("page", _existing(EXECUTED_PAGES))
def test_page_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict[str, Any] = {"__name__": f"docs_{page.replace('/', '_')}"}
    parser = doctest.DocTestParser()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    ran = 0
    for lang, body, line, runnable in _blocks(page):
        if not runnable or lang not in ("pycon", "python"):
            continue
        ran += 1
        where = f"docs/{page}, line {line + 1}"
        if lang == "python":
            exec(compile(body, where, "exec"), namespace)
            continue
        test = parser.get_doctest(body, namespace, where, str(DOCS / page), line)
        output: list[str] = []
        runner = doctest.DocTestRunner(optionflags=flags)
        result = runner.run(test, out=output.append, clear_globs=False)
        assert result.failed == 0, "".join(output)
        namespace.update(test.globs)  # DocTest works on a copy: carry names to the next block
    assert ran, f"docs/{page} has no runnable example"


def _check_payment_tables(deployment_payment: dict[str, Any]) -> None:
    pm = build_default_plugin_manager(load_entrypoints=False)
    for name, table in deployment_payment.items():
        pm.payment_provider_backend(name).factory(table)


def _check_mail(deployment: Deployment) -> None:
    pm = build_default_plugin_manager(load_entrypoints=False)
    pm.mailer_backend(deployment.mail.adapter).factory(deployment.mail)


@pytest.mark.parametrize("page", _existing(TOML_PAGES))
def test_page_toml_is_valid(page: str, tmp_path: Path) -> None:
    blocks = _blocks(page, "toml")
    assert blocks, f"docs/{page} has no TOML example"
    for _, body, line, runnable in blocks:
        if not runnable:
            continue
        data = tomllib.loads(body)
        if "issuer" in data:
            deployment = parse_deployment(
                body, base_dir=tmp_path, environ=FAKE_ENVIRON, source=f"docs/{page}:{line + 1}"
            )
            _check_payment_tables(deployment.payment)
            _check_mail(deployment)  # the [mail] table builds its mailer (its own checks)
        else:
            _check_payment_tables(data.get("payment", {}))


def test_executed_pages_are_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in _existing(EXECUTED_PAGES):
        assert page in config, f"docs/{page} is not in the mkdocs.yml nav"


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None, reason="mkdocs is in the 'docs' extra"
)
def test_site_builds_without_warnings(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "site" / "index.html").exists()
    # The tariff-simulation notebook is a page with its outputs: executed by the build, its
    # tables and matplotlib plots (inline PNG images) are in the HTML.
    notebook = tmp_path / "site" / "notebooks" / "tariff-simulation" / "index.html"
    html = notebook.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 4
    assert "<table" in html


def test_authorization_matrix_page_matches_the_policy() -> None:
    from canteen_core.domain.actors import Role
    from canteen_core.domain.policy import Action, Grant, allowed_roles

    roles = (
        Role.GUARDIAN,
        Role.CO_REPRESENTATIVE,
        Role.STAFF,
        Role.FINANCE,
        Role.ADMIN,
        Role.SYSTEM,
    )
    text = (DOCS / "accounts.md").read_text(encoding="utf-8")
    rows = {
        match.group(1): [cell.strip() for cell in match.group(2).split("|")]
        for match in re.finditer(r"^\| `(\w+)` \|(.*)\|$", text, re.MULTILINE)
        if match.group(2).count("|") == len(roles) - 1  # matrix rows, not the roles table
    }
    assert set(rows) == {action.value for action in Action}
    for action in Action:
        grants = allowed_roles(action)
        expected = [
            ("own" if grants[role] is Grant.OWN_HOUSEHOLD else "yes") if role in grants else ""
            for role in roles
        ]
        assert rows[action.value] == expected, action.value


def test_documented_commands_exist() -> None:
    import click

    from canteen_adapters.cli import main

    text = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert isinstance(main, click.Group)
    context = click.Context(main)
    for words in re.findall(r"`canteen ([a-z]+(?: [a-z]+)?)", text):
        name, _, sub = words.partition(" ")
        command = main.get_command(context, name)
        assert command is not None, f"getting-started.md documents an unknown command {name!r}"
        if sub and isinstance(command, click.Group):
            assert command.get_command(context, sub) is not None, f"canteen {words}"


def test_getting_started_commands_are_the_readme_commands() -> None:
    def commands(text: str) -> list[str]:
        block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
        assert block is not None
        return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert commands(page) == commands(readme)
    assert len(commands(page)) == 2
