"""gancli export: ONNX / TorchScript / .pt2 files that match torch eager, carry gancli metadata, and fail clearly."""

import json
import os
import sys
import warnings

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from gancli.components import DataSpec
from gancli.engine import checkpoint
from gancli.engine.directions import load_directions, save_directions
from gancli.engine.models import load_generator
from gancli.errors import GancliError
from gancli.export import TOLERANCE, export_model, generator_info
from gancli.plugins import build_registry
from gancli.runtime.onnx_generator import OnnxGenerator
from helpers import TINY, one_line_error, run

DIGITS = tuple(str(i) for i in range(10))
ALL_FORMATS = {"onnx": "g.onnx", "torchscript": "g.pt", "pt2": "g.pt2"}
BUILTIN_ARCHITECTURES = [e.name for e in build_registry(third_party=False).entries("architecture") if e.plugin.builtin]


def _has_w_space(arch) -> bool:
    from gancli.latents import has_mapping

    entry = build_registry(third_party=False).get("architecture", arch)
    return has_mapping(entry.cls(width=4).build_generator(DataSpec("image", (1, 16, 16), DIGITS), 8, 0))


# Spectral norm is an enforcer of D's, put on G here to test baking. A style-based generator's equalised layers
# drop their gain when a weight is parametrized (the enforcer sets the scale), which no generic baking can keep:
# the export then refuses the file (verification), so those combinations are not exported.
W_ARCHITECTURES = {arch for arch in BUILTIN_ARCHITECTURES if _has_w_space(arch)}
# r3gan's fix-up layers start at zero, where sigma is 0 and spectral norm divides 0 by 0.
NO_SPECTRAL = W_ARCHITECTURES | {"r3gan"}


def make_generator(arch, conditional, spectral=None, kind="image", side=16):
    """A small built-in generator with non-trivial BatchNorm statistics (so folding them is really tested),
    optionally with spectral norm (``"parametrization"`` or the older ``"hook"``) on every weight layer."""
    spec = DataSpec("image", (1, side, side), DIGITS) if kind == "image" else DataSpec("points", (2,))
    k = 10 if conditional else 0
    options = {"width": 4}
    G = build_registry(third_party=False).get("architecture", arch).cls(**options).build_generator(spec, 8, k)
    gen = torch.Generator().manual_seed(0)
    for m in G.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.normal_(0, 0.5, generator=gen)
            m.running_var.uniform_(0.5, 2.0, generator=gen)
            m.weight.data.normal_(1, 0.3, generator=gen)
            m.bias.data.normal_(0, 0.3, generator=gen)
    if spectral:
        apply = {"parametrization": nn.utils.parametrizations.spectral_norm, "hook": nn.utils.spectral_norm}[spectral]
        for m in list(G.modules()):
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                apply(m)
        G.train()
        with torch.no_grad():  # power iterations move u and v away from their initial values
            for _ in range(3):
                G(torch.randn(4, 8), torch.arange(4) if k else None)
    meta = {"arch": {"name": arch, "options": options, "plugin": "gancli.default_plugins.architectures",
                     "distribution": "gancli", "version": "0.1.0"},
            "spec": spec.as_json(), "z_dim": 8, "num_classes": k, "step": 5}
    return G.eval(), generator_info(meta, {}, G.eval())


def unfolded_batch_norms(model) -> list:
    """BatchNormalization nodes that read a convolution's or linear layer's output (they should be folded in;
    a BatchNorm before an activation, as in pre-activation residual blocks, cannot be)."""
    producers = {out: node.op_type for node in model.graph.node for out in node.output}
    return [node.name for node in model.graph.node if node.op_type == "BatchNormalization"
            and producers.get(node.input[0]) in ("Conv", "ConvTranspose", "Gemm", "MatMul")]


def eager(G, z, labels=None):
    with torch.no_grad():
        return G(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()


@pytest.mark.parametrize("arch, side, conditional, spectral", [
    *[(arch, 16, conditional, spectral) for arch in BUILTIN_ARCHITECTURES
      for conditional in (False, True) for spectral in (None, "parametrization")
      if not (spectral and arch in NO_SPECTRAL)],
    ("dcgan", 28, True, "parametrization"),  # the digits' own size, where dcgan uses another layout
])
def test_round_trip_of_every_builtin_architecture(tmp_path, arch, side, conditional, spectral):
    G, info = make_generator(arch, conditional, spectral, side=side)
    outputs = {fmt: str(tmp_path / name) for fmt, name in ALL_FORMATS.items()}
    written = export_model(G, info, outputs)
    assert [e.format for e in written] == list(ALL_FORMATS)
    for e in written:
        assert all(d <= TOLERANCE for d in e.differences.values()) and sorted(e.differences) == [1, 7, 64]
    model = onnx.load(outputs["onnx"])
    assert not unfolded_batch_norms(model)
    if not info.has_w:  # linear layers become Gemm, into which BatchNorm folds (style modulation is a MatMul)
        assert "MatMul" not in {n.op_type for n in model.graph.node}
    assert not any("parametrizations" in t.name for t in model.graph.initializer)  # spectral norm baked
    # independently of the exporter's own check: fresh inputs at an unseen batch size
    onnx_G = OnnxGenerator(outputs["onnx"])
    z = np.random.default_rng(1).standard_normal((3, 8), dtype=np.float32)
    labels = np.array([9, 0, 4]) if conditional else None
    assert np.abs(onnx_G(z, labels) - eager(G, z, labels)).max() < 1e-5
    assert sorted(os.listdir(tmp_path)) == sorted(ALL_FORMATS.values())  # no side .data file, no temporaries


def test_older_hook_based_spectral_norm_is_baked_too(tmp_path):
    G, info = make_generator("dcgan", True, "hook")
    export_model(G, info, {"onnx": str(tmp_path / "g.onnx")})
    model = onnx.load(str(tmp_path / "g.onnx"))
    assert not unfolded_batch_norms(model) and "MatMul" not in {n.op_type for n in model.graph.node}
    from torch.nn.utils.spectral_norm import SpectralNorm

    assert any(isinstance(h, SpectralNorm) for m in G.modules() for h in m._forward_pre_hooks.values())  # untouched


def test_points_generator_exports_an_unbounded_points_output(tmp_path):
    G, info = make_generator("mlp", False, kind="points")
    export_model(G, info, {"onnx": str(tmp_path / "p.onnx")})
    onnx_G = OnnxGenerator(str(tmp_path / "p.onnx"))
    assert onnx_G.session.get_outputs()[0].name == "points" and onnx_G.info.value_range is None
    z = onnx_G.latents(5, 0)
    assert np.abs(onnx_G(z) - eager(G, z)).max() < 1e-5


def test_torchscript_export_keeps_the_output_free_of_deprecation_warnings(tmp_path):
    G, info = make_generator("dcgan", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_model(G, info, {"torchscript": str(tmp_path / "g.pt"), "pt2": str(tmp_path / "g.pt2")})
    assert [str(w.message) for w in caught] == []


@pytest.fixture
def trained(tmp_path):
    """A tiny conditional run with two named directions."""
    out = tmp_path / "run"
    assert run("train", "--steps", 2, "--conditional", "--out", out, *TINY).exit_code == 0
    rng = np.random.default_rng(0)
    save_directions(str(out / "directions.safetensors"),
                    {"thick": rng.standard_normal(64), "slant": rng.standard_normal(64)}, {"finder": "test"})
    return out


def test_cli_exports_all_formats_with_metadata_and_directions(trained, tmp_path):
    out = tmp_path / "exports"
    result = run("export", trained, "--onnx", out / "g.onnx", "--torchscript", out / "g.pt", "--pt2", out / "g.pt2",
                 "--opset", 18, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert [e["format"] for e in report["exports"]] == ["onnx", "torchscript", "pt2"]
    assert all(max(e["max_abs_difference"].values()) <= e["tolerance"] == 1e-4 for e in report["exports"])
    assert sorted(os.listdir(out)) == ["g.onnx", "g.pt", "g.pt2"]

    model = onnx.load(str(out / "g.onnx"))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["gancli.z_dim"] == "64" and props["gancli.num_classes"] == "10"
    assert json.loads(props["gancli.class_names"]) == list(DIGITS)
    assert json.loads(props["gancli.sample_shape"]) == [1, 16, 16] and props["gancli.data_kind"] == "image"
    assert json.loads(props["gancli.value_range"]) == [-1, 1] and props["gancli.version"] == "0.1.0"
    assert json.loads(props["gancli.architecture"])["name"] == "dcgan" and props["gancli.step"] == "2"
    saved, _ = load_directions(str(trained / "directions.safetensors"))
    embedded = json.loads(props["gancli.directions"])
    assert sorted(embedded) == ["slant", "thick"]
    assert np.array_equal(np.float32(embedded["thick"]), saved["thick"].numpy())
    assert [o.version for o in model.opset_import if o.domain == ""] == [18]
    assert [i.name for i in model.graph.input] == ["z", "label"] and model.graph.output[0].name == "image"
    assert model.graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch

    G, _ = load_generator(str(trained))
    z = np.random.default_rng(2).standard_normal((5, 64), dtype=np.float32)
    labels = np.arange(5, dtype=np.int64)
    assert np.abs(OnnxGenerator(str(out / "g.onnx"))(z, labels) - eager(G, z, labels)).max() < 1e-5
    files = {"gancli.json": ""}
    torch.export.load(str(out / "g.pt2"), extra_files=files)
    assert json.loads(files["gancli.json"])["directions"]["slant"] == embedded["slant"]
    files = {"gancli.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.load(str(out / "g.pt"), _extra_files=files)
    assert json.loads(files["gancli.json"])["z_dim"] == 64
    assert np.abs(scripted(torch.from_numpy(z), torch.from_numpy(labels)).detach().numpy()
                  - eager(G, z, labels)).max() < 1e-5


def test_default_output_and_human_report(trained):
    result = run("export", trained)
    assert result.exit_code == 0, result.output
    assert (trained / "generator.onnx").is_file()
    assert "dcgan generator at step 2, z_dim 64, 10 classes, 2 named directions" in result.output
    assert "max |diff| vs torch" in result.output and "tolerance 1e-04" in result.output


def test_a_checkpoint_inside_a_run_brings_the_run_directions(trained, tmp_path):
    result = run("export", trained / "checkpoints" / "step-00000002.safetensors", "--onnx", tmp_path / "c.onnx",
                 "--no-verify")
    assert result.exit_code == 0, result.output
    assert "not verified" in result.output
    assert sorted(OnnxGenerator(str(tmp_path / "c.onnx")).info.directions) == ["slant", "thick"]


def test_export_of_a_run_whose_architecture_plugin_is_missing(trained, tmp_path):
    tensors, meta = checkpoint.load(str(trained / "generator.safetensors"))
    meta["arch"] = {"name": "stylegan9", "options": {}, "plugin": "gancli_stylegan9",
                    "distribution": "gancli-stylegan9", "version": "0.3.1"}
    checkpoint.save(str(tmp_path / "g.safetensors"), tensors, meta)
    one_line_error(run("export", tmp_path / "g.safetensors", "--onnx", tmp_path / "g.onnx"),
                   "architecture 'stylegan9' (from plugin gancli_stylegan9, version 0.3.1) is not installed: "
                   "pip install gancli-stylegan9")


@pytest.mark.parametrize("missing", ["onnxscript", "onnx"])
def test_missing_onnx_packages_say_what_to_install(trained, tmp_path, monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import` fail as if it were not installed
    one_line_error(run("export", trained, "--onnx", tmp_path / "g.onnx"),
                   f"ONNX export needs the onnx and onnxscript packages ({missing} is missing): pip install onnx onnxscript")
    assert not (tmp_path / "g.onnx").exists()


def test_missing_onnxruntime_only_stops_verification(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    one_line_error(run("export", trained, "--onnx", tmp_path / "g.onnx"),
                   "verifying an ONNX export needs onnxruntime: pip install onnxruntime, or pass --no-verify")
    assert run("export", trained, "--onnx", tmp_path / "g.onnx", "--no-verify").exit_code == 0


def test_unwritable_outputs(trained, tmp_path):
    (tmp_path / "afile").write_text("x")
    one_line_error(run("export", trained, "--pt2", tmp_path / "ok.pt2", "--onnx", tmp_path / "afile" / "g.onnx"),
                   f"cannot write {tmp_path / 'afile' / 'g.onnx'}: part of {tmp_path / 'afile'} is a file, not a folder")
    assert not (tmp_path / "ok.pt2").exists()  # refused before anything was exported
    (tmp_path / "folder").mkdir()
    one_line_error(run("export", trained, "--onnx", tmp_path / "folder"), "is a folder; give a file name")
    one_line_error(run("export", trained, "--onnx", tmp_path / "x", "--pt2", tmp_path / "x"),
                   "the same path was given twice")


@pytest.mark.parametrize("args, fragment", [
    (["--opset", "99", "--onnx", "g.onnx"], "--opset must be between 1 and"),
    (["--opset", "18", "--pt2", "g.pt2"], "--opset applies to ONNX only"),
    (["--directions", "nowhere.safetensors"], "directions file nowhere.safetensors does not exist"),
])
def test_bad_export_options(trained, args, fragment):
    one_line_error(run("export", trained, *args), fragment)


def test_directions_of_another_latent_size_are_refused(trained, tmp_path):
    save_directions(str(tmp_path / "d.safetensors"), {"wide": np.ones(32)})
    one_line_error(run("export", trained, "--directions", tmp_path / "d.safetensors"),
                   "direction 'wide' has 32 components but the generator's latent size is 64")


def test_a_faulty_export_fails_verification_and_writes_nothing(trained, tmp_path, monkeypatch):
    from gancli.export import to_onnx

    real_load = to_onnx.load

    def off_by_a_little(path, info):
        run_it = real_load(path, info)
        return lambda z, labels=None: run_it(z, labels) + 1e-3

    monkeypatch.setattr(to_onnx, "load", off_by_a_little)
    out = tmp_path / "out"
    one_line_error(run("export", trained, "--onnx", out / "g.onnx"), "onnx export differs from torch by 0.001 at batch 1")
    assert os.listdir(out) == []


def test_directions_file_round_trip_and_checks(tmp_path):
    path = str(tmp_path / "d.safetensors")
    save_directions(path, {"up": [3.0, 4.0], "down": torch.tensor([0.0, -2.0])}, {"finder": "manual"})
    vectors, meta = load_directions(path)
    assert meta["kind"] == "directions" and meta["z_dim"] == 2 and meta["finder"] == "manual"
    assert torch.allclose(vectors["up"], torch.tensor([0.6, 0.8])) and vectors["down"].dtype == torch.float32
    with pytest.raises(GancliError, match="must be a non-zero finite tensor of 1 dimension"):
        save_directions(path, {"flat": [0.0, 0.0]})
    with pytest.raises(GancliError, match="have different shapes"):
        save_directions(path, {"a": [1.0, 0.0], "b": [1.0, 0.0, 0.0]})
    checkpoint.save(str(tmp_path / "g.safetensors"), {"G.w": torch.ones(2)}, {"kind": "generator"})
    with pytest.raises(GancliError, match="is not a directions file"):
        load_directions(str(tmp_path / "g.safetensors"))


def test_export_without_torch_says_what_to_install(trained, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    one_line_error(run("export", trained), "gancli export needs torch, which this installation lacks")
