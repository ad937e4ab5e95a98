"""The README's "Use from Python" example runs as written, with its training shrunk to test size: every
gancli.train and gancli.resume in it trains a narrow network on 8x8 digits for a step or two."""

import re
from pathlib import Path

import pytest

import gancli
from gancli.api import training
from test_evaluate import shared_cache  # noqa: F401  (quick 8x8 digits classifiers for FID's features)

README = Path(__file__).resolve().parent.parent / "README.md"
TINY = dict(data_opt={"size": 8}, arch_opt={"width": 4}, batch_size=16, log_every=1, progress=False)


def python_example() -> str:
    section = README.read_text().split("## Use from Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def tiny_training(monkeypatch):
    real_train, real_resume = training.train, training.resume
    steps = {}

    def train(**keywords):
        steps["asked"] = keywords.pop("steps")
        return real_train(**{**keywords, **TINY, "steps": 2})

    def resume(run, steps=None, **settings):
        return real_resume(run, steps=3, progress=False)

    monkeypatch.setattr(training, "train", train)
    monkeypatch.setattr(training, "resume", resume)
    monkeypatch.setattr(gancli.api, "train", train)
    monkeypatch.setattr(gancli.api, "resume", resume)
    return steps


def test_readme_python_example_runs(tiny_training, shared_cache, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(shared_cache))
    namespace = {}
    exec(compile(python_example(), str(README), "exec"), namespace)
    assert tiny_training["asked"] == 300
    run, figures = namespace["run"], namespace["figures"]
    assert run.step == 3 and (tmp_path / "grid.png").is_file()
    assert "fid" in figures["values"] and figures["generator"]["step"] == 2
    assert namespace["strip"].grid.nrow == 3 and namespace["x"].shape == (16, 1, 8, 8)
