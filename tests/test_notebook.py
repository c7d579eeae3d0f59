"""The tariff-simulation notebook runs from top to bottom, in a kernel of this very interpreter.

The kernel is started from a kernel spec written for ``sys.executable`` into a temporary
folder (ipykernel's own ``write_kernel_spec``), so the test never depends on a ``python3``
kernel installed for the user (``python -m ipykernel install --user`` is not needed) and never
picks another Python that lacks canteen.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    any(
        importlib.util.find_spec(name) is None
        for name in ("nbclient", "nbformat", "ipykernel", "pandas", "matplotlib")
    ),
    reason="the notebook needs the 'notebook' extra",
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
NOTEBOOK = NOTEBOOKS / "tariff-simulation.ipynb"
KERNEL_NAME = "canteen-test-python"


def _kernel_manager_class(tmp_path: Path) -> type:
    """A kernel manager class that only knows a kernel spec for this interpreter."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    kernels = tmp_path / "kernels"
    write_kernel_spec(kernels / KERNEL_NAME)

    class ThisPythonKernelManager(AsyncKernelManager):  # type: ignore[misc]
        @default("kernel_spec_manager")
        def _only_this_python(self) -> KernelSpecManager:
            return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)

    spec = ThisPythonKernelManager(kernel_name=KERNEL_NAME).kernel_spec
    assert spec is not None
    assert spec.argv[0] == sys.executable  # this interpreter, not a "python" found on PATH
    return ThisPythonKernelManager


def test_notebook_executes_without_errors(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=_kernel_manager_class(tmp_path),
        timeout=300,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # the notebook's own folder
    )
    client.execute()  # raises CellExecutionError on the first failing cell; stops the kernel

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    streams = "".join(
        output.get("text", "") for output in outputs if output.get("output_type") == "stream"
    )
    assert "winners:" in streams
    # Nothing written to stderr: no warning leaked from pandas, matplotlib or canteen.
    assert not [o for o in outputs if o.get("name") == "stderr"], streams
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the revenue-by-band and cost-by-QF plots


def test_notebook_is_committed_without_outputs() -> None:
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


def test_sample_population_is_reproducible() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_population", NOTEBOOKS / "make_population.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (NOTEBOOKS / "population.csv").read_text(encoding="utf-8")
    assert module.population_csv() == shipped
    assert len(shipped.splitlines()) == module.HOUSEHOLDS + 1
