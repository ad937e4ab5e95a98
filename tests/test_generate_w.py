"""gancli generate on the exports of a generator with a W space: psi on the full export, W and W+ directions,
truncation and latent files on the synthesis-only export, all torch-free; bad input in one line."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from gancli.export import export_model, generator_info
from gancli.export.exporter import export_synthesis
from gancli.latents import LatentSpaces
from helpers import one_line_error, run
from style_toys import toy
from test_export_w import directions_of, meta_of


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A conditional toy's full export (default psi 0.7) and synthesis-only export (default psi 0.8, cutoff 2), with
    directions whose lookup turns "smile" into smiling@w (it measured best), and a Z-only export."""
    folder = tmp_path_factory.mktemp("w")
    G = toy(num_classes=10)
    vectors, dmeta = directions_of(G)
    vectors["smiling"] = np.random.default_rng(9).standard_normal(G.z_dim)
    dmeta["spaces"]["smiling"] = "z"
    dmeta.update(attributes=["smiling", "hat"], directions={
        "smiling@w": {"attribute": "smiling", "measured": {"success": 0.96, "drift": 0.04}},
        "smiling": {"attribute": "smiling", "measured": {"success": 0.9, "drift": 0.3}}})
    meta = meta_of(G, 10)
    full = generator_info(meta, vectors, G, dmeta, truncation=0.7)
    export_model(G, full, {"onnx": str(folder / "g.onnx")}, check=False)
    synthesis = generator_info(meta, vectors, G, dmeta, truncation=0.8, cutoff=2)
    export_synthesis(G, synthesis, str(folder / "s.onnx"), check=False)
    from gancli.components import DataSpec
    from gancli.plugins import build_registry

    spec = DataSpec("image", (1, 16, 16), ())
    Z = build_registry(third_party=False).get("architecture", "dcgan").cls(width=4).build_generator(spec, 8, 0).eval()
    zmeta = {"arch": {"name": "dcgan", "options": {"width": 4}}, "spec": spec.as_json(), "z_dim": 8, "num_classes": 0}
    export_model(Z, generator_info(zmeta, {}, Z), {"onnx": str(folder / "z.onnx")}, check=False)
    return {"G": G, "spaces": LatentSpaces(G, G.z_dim, 10), "full": str(folder / "g.onnx"),
            "synthesis": str(folder / "s.onnx"), "z": str(folder / "z.onnx"), "info": synthesis, "folder": folder}


def latents(n, seed, z_dim=6):
    return np.random.default_rng(seed).standard_normal((n, z_dim), dtype=np.float32)


def torch_images(spaces, z, labels, psi, cutoff=None, name=None, strength=1.0, info=None):
    """gancli edit's recipe: Z directions move z; W/W+ directions move the truncated W+ latents."""
    z = torch.from_numpy(z)
    if name and info.space_of(name) == "z":
        z = z + strength * torch.tensor(info.directions[name])
    ws = spaces.convert(z, "z", "w+", torch.from_numpy(labels), truncation=psi, cutoff=cutoff)
    if name and info.space_of(name) != "z":
        ws = ws + strength * spaces.scale(info.space_of(name)) * torch.tensor(info.directions[name])
    return spaces.decode(ws, "w+").numpy()


def generate(tmp_path, model, *args):
    result = run("generate", model, "-n", 5, "--seed", 3, *args, "-o", tmp_path / "out.npy")
    assert result.exit_code == 0, result.output
    return np.load(tmp_path / "out.npy"), result.output


def test_full_export_takes_psi_and_z_directions(exports, tmp_path):
    spaces, labels = exports["spaces"], np.arange(5) % 10
    got, said = generate(tmp_path, exports["full"])  # the default psi recorded at export
    assert np.abs(got - torch_images(spaces, latents(5, 3), labels, 0.7)).max() < 1e-5 and "truncation 0.7" in said
    got, _ = generate(tmp_path, exports["full"], "--truncation", 0.5, "--direction", "smiling", "--strength", 2)
    expected = torch_images(spaces, latents(5, 3), labels, 0.5, None, "smiling", 2.0, exports["info"])
    assert np.abs(got - expected).max() < 1e-5


@pytest.mark.parametrize("direction, strength, psi, cutoff, stored", [
    ("smile", 2.0, 0.7, None, "smiling@w"),        # a bare attribute: the direction that measured best, in W
    ("smile@w", -1.0, None, None, "smiling@w"),     # the export's default psi 0.8 (and cutoff 2, as for any psi)
    ("sefa-0@w+", 1.5, 0.6, 3, "sefa-0@w+"),
    ("thick", 1.0, 1.0, None, "thick"),             # a Z direction, through the mapping network
])
def test_synthesis_export_truncates_and_edits_in_w(exports, tmp_path, direction, strength, psi, cutoff, stored):
    args = ["--direction", direction, "--strength", strength]
    args += [] if psi is None else ["--truncation", psi]
    args += [] if cutoff is None else ["--truncation-cutoff", cutoff]
    got, _ = generate(tmp_path, exports["synthesis"], *args)
    expected = torch_images(exports["spaces"], latents(5, 3), np.arange(5) % 10, 0.8 if psi is None else psi,
                            2 if cutoff is None else cutoff, stored, strength, exports["info"])
    assert np.abs(got - expected).max() < 1e-5


def test_latent_files_feed_the_synthesis_export(exports, tmp_path):
    spaces, info = exports["spaces"], exports["info"]
    ws = spaces.sample(4, 11, "w+", torch.arange(4) % 10)
    ws[:, 1:] = spaces.sample(4, 12, "w", torch.arange(4) % 10).unsqueeze(1)  # mixed, as a projection may give
    np.save(tmp_path / "ws.npy", ws.numpy())
    got, said = generate(tmp_path, exports["synthesis"], "--latent", tmp_path / "ws.npy")  # used as they are
    assert got.shape == (4, 1, 8, 8) and np.abs(got - spaces.decode(ws, "w+").numpy()).max() < 1e-5
    assert "truncation" not in said
    got, _ = generate(tmp_path, exports["synthesis"], "--latent", tmp_path / "ws.npy", "--truncation", 0.5,
                      "--direction", "smiling@w")
    moved = spaces.truncate(ws, 0.5, 2) + spaces.scale("w") * torch.tensor(info.directions["smiling@w"])
    assert np.abs(got - spaces.decode(moved, "w+").numpy()).max() < 1e-5
    w = spaces.sample(3, 13, "w", torch.arange(3) % 10)
    np.save(tmp_path / "w.npy", w.numpy())
    got, _ = generate(tmp_path, exports["synthesis"], "--latent", tmp_path / "w.npy", "--latent-space", "w")
    assert np.abs(got - spaces.decode(w, "w").numpy()).max() < 1e-5
    z = latents(2, 5)
    np.save(tmp_path / "z.npy", z)
    got, _ = generate(tmp_path, exports["full"], "--latent", tmp_path / "z.npy", "--label", 4)
    assert np.abs(got - torch_images(spaces, z, np.full(2, 4), 0.7)).max() < 1e-5


@pytest.mark.parametrize("model, args, fragment", [
    ("full", ["--truncation", "2.5"], "--truncation must be in [-1, 2] (1 = none, 0.7 is common), got 2.5"),
    ("synthesis", ["--truncation", "-1.1"], "--truncation must be in [-1, 2]"),
    ("z", ["--truncation", "0.7"], "truncation needs a generator with a W space (a mapping network, such as --arch "
                                   "stylegan2); "),
    ("z", ["--truncation-cutoff", "1"], "was exported from a generator with a Z space only: drop --truncation"),
    ("synthesis", ["--truncation-cutoff", "4"], "--truncation-cutoff must be a layer count in 1..3, got 4"),
    ("full", ["--truncation-cutoff", "1"], "truncates all layers (the cutoff is baked into its graph): export again "
                                           "with --truncation-cutoff 1"),
    ("full", ["--direction", "smile"], "direction 'smiling@w' lives in w, and "),
    ("full", ["--direction", "sefa-0@w+"], "g.onnx takes z only, so it cannot move w: export the synthesis network "
                                           "for it (gancli export RUN --onnx OUT.onnx --synthesis-only)"),
    ("full", ["--direction", "nope"], "unknown direction 'nope'; this model has: sefa-0@w+, smiling, smiling@w, thick"),
    ("full", ["--latent", "WS"], "g.onnx takes z: feed W latents to a synthesis-only export"),
    ("z", ["--latent", "WS"], "z.onnx was exported from a generator with a Z space only; give z latents"),
    ("synthesis", ["--latent", "BAD"], "holds latents of shape (2, 2, 5), but this generator's w+ latents have shape "
                                       "(N, 3, 5)"),
    ("synthesis", ["--latent", "Z6", "--latent-space", "w"], "holds latents of shape (2, 6), but this generator's w "
                                                             "latents have shape (N, 5)"),
    ("synthesis", ["--latent", "WS", "--latent-space", "w"], "holds w+ latents, not w; drop --latent-space"),
    ("synthesis", ["--latent", "WS", "--label", "3"], "--label applies to z latents; w+ latents already hold"),
    ("synthesis", ["--latent", "WS", "--direction", "thick"], "direction 'thick' lives in z and cannot move w+ "
                                                              "latents"),
    ("synthesis", ["--latent-space", "w"], "--latent-space needs --latent FILE"),
])
def test_bad_w_generate_input(exports, tmp_path, model, args, fragment):
    np.save(tmp_path / "ws.npy", np.zeros((2, 3, 5), np.float32))
    np.save(tmp_path / "bad.npy", np.zeros((2, 2, 5), np.float32))
    np.save(tmp_path / "z6.npy", np.zeros((2, 6), np.float32))
    files = {"WS": tmp_path / "ws.npy", "BAD": tmp_path / "bad.npy", "Z6": tmp_path / "z6.npy"}
    args = [str(files.get(a, a)) for a in args]
    one_line_error(run("generate", exports[model], *args, "-o", tmp_path / "x.png"), fragment)


def test_the_synthesis_export_needs_its_mapping_file(exports, tmp_path):
    import shutil

    shutil.copy(exports["synthesis"], tmp_path / "s.onnx")
    one_line_error(run("generate", tmp_path / "s.onnx", "-o", tmp_path / "x.png"),
                   "needs its mapping network s.mapping.onnx in the same folder, and it is missing")
    np.save(tmp_path / "ws.npy", np.zeros((2, 3, 5), np.float32))  # W+ latents need no mapping
    result = run("generate", tmp_path / "s.onnx", "--latent", tmp_path / "ws.npy", "-o", tmp_path / "x.png")
    assert result.exit_code == 0, result.output
    one_line_error(run("generate", exports["folder"] / "s.mapping.onnx", "-o", tmp_path / "x.png"),
                   "is the mapping network of a synthesis-only export: give the synthesis file beside it")


def test_w_generation_never_imports_torch(exports, tmp_path):
    script = ("import sys\nfrom gancli.cli import cli\n"
              "try:\n    cli.main(sys.argv[1:], prog_name='gancli')\n"
              "except SystemExit as exc:\n    assert not exc.code\n"
              "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    np.save(tmp_path / "ws.npy", np.zeros((2, 3, 5), np.float32))
    for model, args in ((exports["full"], ["--truncation", "0.7", "--direction", "smiling"]),
                        (exports["synthesis"], ["--truncation", "0.7", "--direction", "smile", "--strength", "2"]),
                        (exports["synthesis"], ["--latent", str(tmp_path / "ws.npy"), "--direction", "sefa-0@w+"])):
        done = subprocess.run([sys.executable, "-c", script, "generate", model, *args, "-o", str(tmp_path / "g.png")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"


def test_w_consumer_snippet_from_the_docs(exports, tmp_path):
    import os
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text()
    section = text[text.index("### Editing in W outside gancli"):]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    os.symlink(exports["synthesis"], tmp_path / "synthesis.onnx")
    os.symlink(exports["folder"] / "s.mapping.onnx", tmp_path / "s.mapping.onnx")  # the name the file records
    check = ("\nimport sys\nassert not any(m.split('.')[0] in ('torch', 'gancli') for m in sys.modules)\n"
             "np.save('images.npy', images)\n")
    done = subprocess.run([sys.executable, "-c", snippet + check], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(8, 1, 8, 8)"
    spaces, info = exports["spaces"], exports["info"]
    z = np.random.default_rng(0).standard_normal((8, 6), dtype=np.float32)
    ws = spaces.convert(torch.from_numpy(z), "z", "w+", torch.arange(8) % 10, truncation=0.7)
    ws = ws + 2.0 * spaces.scale("w") * torch.tensor(info.directions["smiling@w"])
    assert np.abs(np.load(tmp_path / "images.npy") - spaces.decode(ws, "w+").numpy()).max() < 1e-5
