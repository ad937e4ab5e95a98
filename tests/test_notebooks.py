"""docs/notebooks/ run from top to bottom in a Python kernel (nbclient), with quick settings, and a cell that
fails fails the test."""

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "docs" / "notebooks").glob("*.ipynb"))


def execute(notebook, folder: Path):
    """Execute ``notebook`` in ``folder`` (its runs are written there), quick settings; a failing cell raises."""
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setenv("GANCLI_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def outputs(notebook) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path):
    done = outputs(execute(nbformat.read(path, as_version=4), tmp_path))
    assert not [o for o in done if o.output_type == "error"]
    images = sum("image/png" in o.get("data", {}) for o in done)
    assert images, "no picture shown"
    if path.name != "course.ipynb":
        return
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in done)
    assert 'did you mean "steps"' in text  # the misspelt keyword
    assert "train ━" in text and "3/3" in text  # the notebook's progress line, redrawn to the end
    assert "gradient-penalty" in text
    assert images >= 6  # two DCGAN grids, WGAN-GP, per class, sevens, the smile strip
    assert (tmp_path / "runs" / "0003" / "run.json").is_file()


def test_a_cell_that_fails_fails_the_execution(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import gancli\ngancli.load('nowhere')")])
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="does not exist"):
        execute(notebook, tmp_path)
