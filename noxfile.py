"""Developer sessions: ``nox -s lint typecheck tests``, ``docs``, ``bench`` and ``demo``.

Every session installs the project the way the README does (``pip install -e '.[all,test]'``)
through one helper, so what a developer runs is what CI runs.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

EXTRAS = "all,test"


def install_project(session: nox.Session, extras: str = EXTRAS) -> None:
    """Install canteen with ``extras`` into the session, as the README says."""
    session.install("-e", f".[{extras}]")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.4")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/ and this file."""
    install_project(session)
    session.run("mypy", "--strict", "src", "noxfile.py")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (extra arguments go to pytest)."""
    install_project(session)
    session.run("pytest", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation; warnings are errors."""
    install_project(session, "all,docs,test")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks as ratios to in-process baselines (``-- --quick``, ``-- --json out.json``)."""
    install_project(session)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the README's main job."""
    install_project(session)
    session.run("canteen", "demo", *session.posargs)
