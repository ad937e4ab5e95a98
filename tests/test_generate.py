"""gancli generate: torch-free sampling from an ONNX export, and the numpy drawing code it shares with training."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gancli.components import DataSpec
from gancli.engine import images as torch_images
from gancli.export import export_model, generator_info
from gancli.plugins import build_registry
from gancli.runtime import images as numpy_images
from helpers import one_line_error, run

DOCS = Path(__file__).resolve().parents[1] / "docs" / "export.md"


def build(arch, spec, num_classes, directions=None):
    options = {"width": 4}
    G = build_registry(third_party=False).get("architecture", arch).cls(**options).build_generator(spec, 8, num_classes)
    meta = {"arch": {"name": arch, "options": options}, "spec": spec.as_json(), "z_dim": 8,
            "num_classes": num_classes, "step": 3}
    return G.eval(), generator_info(meta, directions or {}, G.eval())


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (torch generator, path of its ONNX export)}: conditional digits with a direction, 2-D points."""
    folder = tmp_path_factory.mktemp("models")
    thick = np.random.default_rng(5).standard_normal(8)
    built = {"digits": build("dcgan", DataSpec("image", (1, 16, 16), tuple("0123456789")), 10,
                             {"thick": thick / np.linalg.norm(thick)}),
             "points": build("mlp", DataSpec("points", (2,)), 0)}
    found = {}
    for name, (G, info) in built.items():
        path = str(folder / f"{name}.onnx")
        export_model(G, info, {"onnx": path}, check=False)
        found[name] = (G, path, info)
    return found


def latents(n, seed, z_dim=8):
    """The documented recipe of gancli generate's latent vectors."""
    return np.random.default_rng(seed).standard_normal((n, z_dim), dtype=np.float32)


def eager(G, z, labels=None):
    with torch.no_grad():
        return G(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()


def test_npy_output_is_the_generator_on_documented_latents(models, tmp_path):
    G, path, _ = models["digits"]
    assert run("generate", path, "-n", 12, "--seed", 4, "-o", tmp_path / "a.npy").exit_code == 0
    got = np.load(tmp_path / "a.npy")
    assert got.dtype == np.float32 and got.shape == (12, 1, 16, 16)
    expected = eager(G, latents(12, 4), np.arange(12) % 10)  # classes cycle when no --label is given
    assert np.abs(got - expected).max() < 1e-5


def test_label_and_direction(models, tmp_path):
    G, path, info = models["digits"]
    result = run("generate", path, "-n", 5, "--label", 3, "--direction", "thick", "--strength", -2.5,
                 "-o", tmp_path / "d.npy")
    assert result.exit_code == 0, result.output
    z = latents(5, 0) - 2.5 * np.float32(info.directions["thick"])
    assert np.abs(np.load(tmp_path / "d.npy") - eager(G, z, np.full(5, 3))).max() < 1e-5
    assert run("generate", path, "-n", 5, "--label", 3, "--direction", "thick", "-o", tmp_path / "one.npy").exit_code == 0
    z = latents(5, 0) + np.float32(info.directions["thick"])  # strength 1 by default
    assert np.abs(np.load(tmp_path / "one.npy") - eager(G, z, np.full(5, 3))).max() < 1e-5


def test_png_grid_and_points_scatter(models, tmp_path):
    assert run("generate", models["digits"][1], "-n", 16, "-o", tmp_path / "g.png").exit_code == 0
    grid = Image.open(tmp_path / "g.png")
    assert grid.mode == "L" and grid.size == (4 * (64 + 2) + 2,) * 2  # 16x16 tiles enlarged 4x, 2 px gaps
    points = models["points"][1]
    assert run("generate", points, "-n", 50, "-o", tmp_path / "p.png").exit_code == 0
    assert Image.open(tmp_path / "p.png").size == (480, 480)
    assert run("generate", points, "-n", 50, "-o", tmp_path / "p.npy").exit_code == 0
    assert np.load(tmp_path / "p.npy").shape == (50, 2)


@pytest.mark.parametrize("model, args, fragment", [
    ("digits", ["--label", "10"], "--label must be in 0..9, got 10"),
    ("points", ["--label", "1"], "--label needs a conditional generator"),
    ("digits", ["--direction", "up"], "unknown direction 'up'; this model has: thick"),
    ("digits", ["--direction", "thik"], 'did you mean "thick"?'),
    ("points", ["--direction", "up"], "carries no named directions"),
    ("digits", ["--strength", "2"], "--strength needs --direction NAME"),
    ("digits", ["-n", "0"], "-n must be at least 1, got 0"),
    ("digits", ["-o", "out.jpg"], "must end in .png (a picture) or .npy"),
])
def test_bad_generate_input(models, model, args, fragment):
    if "-o" not in args:
        args = [*args, "-o", "out.png"]
    one_line_error(run("generate", models[model][1], *args), fragment)


def test_inputs_that_are_not_gancli_onnx_models(tmp_path):
    one_line_error(run("generate", tmp_path / "missing.onnx", "-o", "x.png"), "missing.onnx does not exist")
    (tmp_path / "junk.onnx").write_text("not a model")
    one_line_error(run("generate", tmp_path / "junk.onnx", "-o", "x.png"), "is not a readable ONNX model")
    one_line_error(run("generate", tmp_path, "-o", "x.png"), "is a run or checkpoint, not an exported model")
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["z"], ["image"])], "plain",
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, 4])],
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 4])])
    onnx.save(helper.make_model(graph), str(tmp_path / "plain.onnx"))
    one_line_error(run("generate", tmp_path / "plain.onnx", "-o", "x.png"), "carries no gancli metadata")


def test_unwritable_output(models, tmp_path):
    (tmp_path / "afile").write_text("x")
    one_line_error(run("generate", models["digits"][1], "-o", tmp_path / "afile" / "g.png"), "cannot write")


def test_generate_never_imports_torch(models, tmp_path):
    script = ("import sys\nfrom gancli.cli import cli\n"
              "try:\n    cli.main(sys.argv[1:], prog_name='gancli')\nexcept SystemExit as exc:\n    assert not exc.code\n"
              "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    for args in (["-n", "9", "-o", str(tmp_path / "g.png")],
                 ["--label", "2", "--direction", "thick", "-o", str(tmp_path / "g.npy")]):
        done = subprocess.run([sys.executable, "-c", script, "generate", models["digits"][1], *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
    assert (tmp_path / "g.png").exists() and (tmp_path / "g.npy").exists()


def test_outside_consumer_snippet_from_the_docs(models, tmp_path):
    text = DOCS.read_text()
    section = text[text.index("## Using an export outside gancli"):]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    os.symlink(models["digits"][1], tmp_path / "generator.onnx")
    check = "\nimport sys\nassert not any(m.split('.')[0] in ('torch', 'gancli') for m in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", snippet + check], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(16, 1, 16, 16) uint8"


def test_numpy_pixels_match_the_trainers_conversion():
    values = torch.tensor([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0, float("nan")]).view(1, 1, 1, 7)
    expected = [0, 0, 128, 191, 255, 255, 128]  # 127.5 rounds half to even, NaN draws mid-grey
    assert torch_images.to_uint8(values).ravel().tolist() == expected
    assert numpy_images.to_uint8(values.numpy()).ravel().tolist() == expected
    rgb = torch.rand(5, 3, 8, 8) * 2 - 1
    assert np.array_equal(np.asarray(torch_images.grid_image(rgb, nrow=2)),
                          np.asarray(numpy_images.grid_image(rgb.numpy(), nrow=2)))
