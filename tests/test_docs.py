"""The plugin guide's example is real code: it registers, lists and trains."""

import re
import types
from pathlib import Path

from gancli.plugins import build_registry, reset_registry
from helpers import TINY, run

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins" / "README.md"


def test_plugin_guide_example_trains(tmp_path):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    module = types.ModuleType("gancli_softplus_hinge")
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    registry = build_registry(extra_plugins=[("softplus-hinge", module)], third_party=False)
    reset_registry(registry)
    assert registry.get("loss", "sph").name == "softplus-hinge"
    result = run("train", "--loss", "sph", "--loss-opt", "margin=2", "--steps", 2, "--out", tmp_path / "r", *TINY)
    assert result.exit_code == 0, result.output
    assert '"name": "softplus-hinge"' in (tmp_path / "r" / "run.json").read_text()
