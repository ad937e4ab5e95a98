"""gancli export of generators with a W space: psi as an input, the synthesis network alone with its mapping
network beside it, .pt2 / TorchScript, all verified against gancli.latents; Z-only exports unchanged."""

import json
import os
import re

import numpy as np
import onnx
import pytest
import torch

from gancli.components import DataSpec
from gancli.engine import checkpoint
from gancli.engine.directions import save_directions
from gancli.errors import GancliError
from gancli.export import TOLERANCE, export_model, generator_info
from gancli.export.exporter import export_synthesis, mapping_path
from gancli.latents import LatentSpaces
from gancli.plugins import reset_registry
from gancli.runtime.metadata import GeneratorInfo
from gancli.runtime.onnx_generator import OnnxGenerator, OnnxModel
from helpers import one_line_error, run, toy_style_generator
from style_toys import ToyStyleArchitecture, toy
from test_registry import plugin_module

PSIS = [0.5, 0.7, 1.0]


def meta_of(G, num_classes=0, side=8):
    names = tuple(str(i) for i in range(num_classes))
    return {"arch": {"name": "toy-style", "options": {}, "plugin": "toy", "distribution": "gancli-toy",
                     "version": "0.1"},
            "spec": DataSpec("image", (1, side, side), names).as_json(), "z_dim": G.z_dim, "num_classes": num_classes,
            "step": 4}


def directions_of(G, seed=0):
    rng = np.random.default_rng(seed)
    vectors = {"thick": rng.standard_normal(G.z_dim), "smiling@w": rng.standard_normal(G.w_dim),
               "sefa-0@w+": rng.standard_normal((G.num_ws, G.w_dim))}
    vectors = {name: v / np.linalg.norm(v) for name, v in vectors.items()}  # unit, as load_directions gives them
    return vectors, {"spaces": {"thick": "z", "smiling@w": "w", "sefa-0@w+": "w+"}}


def eager(spaces, z, labels=None, psi=None, cutoff=None):
    return spaces.decode(torch.from_numpy(z), "z", None if labels is None else torch.from_numpy(labels),
                         truncation=psi, cutoff=cutoff).numpy()


@pytest.fixture(scope="module", params=[0, 10], ids=["unconditional", "conditional"])
def full(request, tmp_path_factory):
    """A toy's full export (ONNX, .pt2, TorchScript) with default psi 0.7, the first 2 of 3 layers truncated."""
    k = request.param
    G = toy(num_classes=k)
    vectors, dmeta = directions_of(G)
    info = generator_info(meta_of(G, k), vectors, G, dmeta, truncation=0.7, cutoff=2)
    folder = tmp_path_factory.mktemp("full")
    outputs = {"onnx": str(folder / "g.onnx"), "pt2": str(folder / "g.pt2"), "torchscript": str(folder / "g.pt")}
    return G, info, outputs, export_model(G, info, outputs)


def test_psi_is_a_scalar_input_and_every_format_is_verified_at_several_psi(full):
    G, info, outputs, written = full
    assert [e.format for e in written] == ["onnx", "pt2", "torchscript"]
    for e in written:
        assert sorted(e.differences) == [1, 7, 64] and sorted(e.psi_differences) == PSIS
        assert all(sorted(t) == [1, 7, 64] and max(t.values()) <= TOLERANCE for t in e.psi_differences.values())
        assert e.as_json()["max_abs_difference_by_psi"]["0.7"]["64"] == e.psi_differences[0.7][64]
    model = onnx.load(outputs["onnx"])
    names = [i.name for i in model.graph.input]
    assert names == (["z", "label", "psi"] if info.num_classes else ["z", "psi"])
    psi = model.graph.input[-1].type.tensor_type
    assert psi.elem_type == onnx.TensorProto.FLOAT and len(psi.shape.dim) == 0  # shape (): a scalar
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # the batch stays dynamic


def test_one_file_serves_every_truncation(full):
    """Fresh latents, an unseen batch and psi the export was not checked at, against gancli.latents."""
    G, info, outputs, _ = full
    spaces = LatentSpaces(G, info.z_dim, info.num_classes)
    z = np.random.default_rng(1).standard_normal((3, info.z_dim), dtype=np.float32)
    labels = np.array([9, 0, 4]) if info.num_classes else None
    onnx_G = OnnxGenerator(outputs["onnx"])
    pt2 = torch.export.load(outputs["pt2"]).module()
    inputs = [torch.from_numpy(z)] + ([] if labels is None else [torch.from_numpy(labels)])
    for psi in (-1.0, 0.0, 0.3, 1.6, 2.0):
        expected = eager(spaces, z, labels, psi, cutoff=2)
        assert np.abs(onnx_G(z, labels, psi) - expected).max() < 1e-5
        with torch.no_grad():
            assert np.abs(pt2(*inputs, torch.tensor(psi)).numpy() - expected).max() < 1e-5
    assert np.abs(onnx_G(z, labels) - eager(spaces, z, labels, 0.7, 2)).max() < 1e-5  # the recorded default
    # the cutoff is baked: truncating all layers is another image
    assert np.abs(onnx_G(z, labels, 0.0) - eager(spaces, z, labels, 0.0)).max() > 1e-3


def test_metadata_of_a_w_export(full):
    G, info, outputs, _ = full
    props = {p.key: p.value for p in onnx.load(outputs["onnx"]).metadata_props}
    spaces = LatentSpaces(G, info.z_dim, info.num_classes)
    assert props["gancli.graph"] == "generator" and "gancli.mapping_file" not in props
    assert json.loads(props["gancli.w_dim"]) == 5 and json.loads(props["gancli.num_ws"]) == G.num_ws == 3
    assert np.array_equal(np.float32(json.loads(props["gancli.w_avg"])), G.w_avg.numpy())
    assert json.loads(props["gancli.w_scale"]) == pytest.approx(spaces.scale("w"), rel=1e-12)
    assert json.loads(props["gancli.truncation"]) == 0.7 and json.loads(props["gancli.truncation_cutoff"]) == 2
    assert json.loads(props["gancli.direction_spaces"]) == {"thick": "z", "smiling@w": "w", "sefa-0@w+": "w+"}
    directions = json.loads(props["gancli.directions"])
    assert np.array(directions["sefa-0@w+"]).shape == (3, 5) and np.array(directions["smiling@w"]).shape == (5,)
    assert np.linalg.norm(directions["sefa-0@w+"]) == pytest.approx(1, abs=1e-6)  # unit over the whole W+ tensor
    files = {"gancli.json": ""}
    torch.export.load(outputs["pt2"], extra_files=files)
    assert GeneratorInfo.from_json(json.loads(files["gancli.json"]), "g.pt2") == info


@pytest.fixture(scope="module", params=[0, 10], ids=["unconditional", "conditional"])
def synthesis(request, tmp_path_factory):
    k = request.param
    G = toy(num_classes=k)
    vectors, dmeta = directions_of(G)
    info = generator_info(meta_of(G, k), vectors, G, dmeta, truncation=0.7)
    path = str(tmp_path_factory.mktemp("synthesis") / "s.onnx")
    return G, info, path, export_synthesis(G, info, path)


def test_synthesis_only_export_and_its_mapping_companion(synthesis):
    G, info, path, written = synthesis
    companion = mapping_path(path)
    assert companion.endswith("s.mapping.onnx") and sorted(os.listdir(os.path.dirname(path))) == \
        ["s.mapping.onnx", "s.onnx"]
    assert [(e.graph, e.path) for e in written] == [("synthesis", path), ("mapping", companion)]
    assert sorted(written[0].psi_differences) == PSIS and written[1].psi_differences is None  # mapping: no psi
    assert all(max(e.differences.values()) <= TOLERANCE for e in written)
    model = onnx.load(path)
    (ws,) = model.graph.input
    assert ws.name == "ws" and [d.dim_value for d in ws.type.tensor_type.shape.dim][1:] == [G.num_ws, G.w_dim]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["gancli.graph"] == "synthesis" and props["gancli.mapping_file"] == "s.mapping.onnx"
    assert sorted(json.loads(props["gancli.directions"])) == ["sefa-0@w+", "smiling@w", "thick"]
    mapping = onnx.load(companion)
    assert [i.name for i in mapping.graph.input] == (["z", "label"] if info.num_classes else ["z"])
    assert mapping.graph.output[0].name == "w"
    assert {p.key: p.value for p in mapping.metadata_props}["gancli.graph"] == "mapping"


def test_a_torch_free_consumer_truncates_and_edits_in_w_with_numpy(synthesis):
    """Mapping file -> w, truncation with w_avg, a W and a W+ direction in numpy -> synthesis file, against torch."""
    G, info, path, _ = synthesis
    spaces = LatentSpaces(G, info.z_dim, info.num_classes)
    gen = OnnxGenerator(path)
    z = gen.latents(6, 2)
    labels = gen.labels(6)
    tl = None if labels is None else torch.from_numpy(labels)
    cases = (("smiling@w", 2.0, 0.7, None), ("sefa-0@w+", -1.5, 0.5, 2), (None, 1, 1.0, None))
    for name, strength, psi, cutoff in cases:
        ws = spaces.convert(torch.from_numpy(z), "z", "w+", tl, truncation=psi, cutoff=cutoff)
        if name:
            ws = ws + strength * spaces.scale(info.space_of(name)) * torch.tensor(info.directions[name])
        expected = spaces.decode(ws, "w+").numpy()
        got = gen.draw(z, "z", labels, psi, cutoff, name, strength)
        assert np.abs(got - expected).max() < 1e-5
    # a Z direction goes through the mapping network
    d = np.float32(info.directions["thick"])
    assert np.abs(gen.draw(z, "z", labels, 0.7, None, "thick", 3.0)
                  - eager(spaces, z + 3 * d, labels, 0.7)).max() < 1e-5
    w = gen.map(z, labels)
    assert np.abs(w - spaces.convert(torch.from_numpy(z), "z", "w", tl).numpy()).max() < 1e-5


def test_a_faulty_synthesis_export_writes_neither_file(tmp_path, monkeypatch):
    from gancli.export import to_onnx

    real_load = to_onnx.load

    def wrong_mapping(path, info):
        run_it = real_load(path, info)
        return (lambda *inputs: run_it(*inputs) + 1e-2) if info.graph == "mapping" else run_it

    monkeypatch.setattr(to_onnx, "load", wrong_mapping)
    G = toy()
    with pytest.raises(GancliError, match=r"onnx export differs from torch by 0.01 at batch 1 .*s.mapping.onnx "
                                          r"was not written, nor .*s.onnx$"):
        export_synthesis(G, generator_info(meta_of(G), {}, G), str(tmp_path / "s.onnx"))
    assert os.listdir(tmp_path) == []


def test_z_only_exports_are_unchanged(tmp_path):
    """No psi input and no W keys in the metadata; the Z-only refusals are one line each."""
    from gancli.plugins import build_registry

    spec = DataSpec("image", (1, 16, 16), ())
    G = build_registry(third_party=False).get("architecture", "dcgan").cls(width=4).build_generator(spec, 8, 0).eval()
    meta = {"arch": {"name": "dcgan", "options": {"width": 4}}, "spec": spec.as_json(), "z_dim": 8, "num_classes": 0}
    info = generator_info(meta, {"up": np.ones(8)}, G)
    assert info == generator_info(meta, {"up": np.ones(8)}) and not info.has_w
    assert sorted(info.to_props()) == sorted("gancli." + k for k in (
        "version", "architecture", "z_dim", "num_classes", "class_names", "data_kind", "sample_shape", "value_range",
        "directions", "step"))
    (e,) = export_model(G, info, {"onnx": str(tmp_path / "g.onnx")})
    assert e.psi_differences is None and "max_abs_difference_by_psi" not in e.as_json()
    assert [i.name for i in onnx.load(str(tmp_path / "g.onnx")).graph.input] == ["z"]
    with pytest.raises(GancliError, match="truncation needs a generator with a W space"):
        generator_info(meta, {}, G, truncation=0.7)
    with pytest.raises(GancliError, match="--synthesis-only needs a generator with a W space"):
        export_synthesis(G, info, str(tmp_path / "s.onnx"))
    with pytest.raises(GancliError, match="direction 'up@w' lives in w, but this generator has a Z space only"):
        generator_info(meta, {"up@w": np.ones(8)}, G, {"spaces": {"up@w": "w"}})


@pytest.mark.parametrize("vectors, spaces, fragment", [
    ({"a": np.ones(4)}, {"a": "w"}, "direction 'a' of w has shape (4,) but the generator's w latents have shape (5,)"),
    ({"a": np.ones((2, 5))}, {"a": "w+"}, "direction 'a' of w+ has shape (2, 5) but the generator's w+ latents have"),
    ({"a": np.ones(5)}, {}, "direction 'a' has 5 components but the generator's latent size is 6"),
])
def test_directions_that_do_not_fit_the_spaces(vectors, spaces, fragment):
    G = toy()
    with pytest.raises(GancliError, match=re.escape(fragment)):
        generator_info(meta_of(G), vectors, G, {"spaces": spaces})


@pytest.mark.parametrize("psi, cutoff, fragment", [
    (2.5, None, "--truncation must be in [-1, 2]"), (None, 4, "--truncation-cutoff must be a layer count in 1..3")])
def test_bad_truncation_is_refused_before_export(psi, cutoff, fragment):
    G = toy()
    with pytest.raises(GancliError, match=re.escape(fragment)):
        generator_info(meta_of(G), {}, G, truncation=psi, cutoff=cutoff)


def test_a_generator_that_fixes_its_batch_is_refused_in_one_line(tmp_path):
    """A synthesis that reshapes by len(ws): torch.export turns that into the example's batch size."""
    G = toy_style_generator()

    def synthesis(ws, noise=None):
        return torch.tanh(sum(layer(ws[:, i]) for i, layer in enumerate(G.layers))).view(len(ws), *G.shape)
    G.synthesis = synthesis
    meta = {**meta_of(G, side=4), "spec": DataSpec("image", (1, 4, 4), ()).as_json()}
    with pytest.raises(GancliError, match="fixed batch size for input z: .*len"):
        export_model(G, generator_info(meta, {}, G), {"onnx": str(tmp_path / "g.onnx")})
    assert os.listdir(tmp_path) == []


# ---- the command line, on a run of the toy architecture installed as a plugin ------------------------------------

@pytest.fixture
def toy_run(tmp_path, monkeypatch):
    """A run directory of the toy (conditional, 10 classes) whose directions live in z, w and w+."""

    class Dist:
        name, version = "gancli-toy", "0.1"

    class EntryPoint:
        name, dist = "toy", Dist()

        def load(self):
            return plugin_module(register_architectures=lambda register: register("toy-style", ToyStyleArchitecture))

    monkeypatch.delenv("GANCLI_NO_PLUGINS")
    monkeypatch.setattr("gancli.plugins.metadata.entry_points",
                        lambda group: [EntryPoint()] if group == "gancli" else [])
    reset_registry()
    G = toy(num_classes=10)
    out = tmp_path / "run"
    checkpoint.save(str(out / "generator.safetensors"), {f"G.{k}": v for k, v in G.state_dict().items()},
                    {**meta_of(G, 10), "kind": "generator"})
    (out / "run.json").write_text("{}")
    vectors, dmeta = directions_of(G)
    save_directions(str(out / "directions.safetensors"), vectors, {"finder": "test"}, spaces=dmeta["spaces"])
    return out, G


def test_cli_exports_a_w_generator_with_psi_and_synthesis_only(toy_run, tmp_path):
    out, G = toy_run
    result = run("export", out, "--onnx", tmp_path / "g.onnx", "--pt2", tmp_path / "g.pt2", "--truncation", 0.6,
                 "--truncation-cutoff", 2, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["metadata"]["truncation"] == 0.6 and report["metadata"]["truncation_cutoff"] == 2
    for e in report["exports"]:
        assert sorted(e["max_abs_difference_by_psi"]) == ["0.5", "0.6", "0.7", "1"]
        assert max(max(t.values()) for t in e["max_abs_difference_by_psi"].values()) <= 1e-4
    result = run("export", out, "--synthesis-only")
    assert result.exit_code == 0, result.output
    assert "W space: w_dim 5, 3 layers, scale" in result.output and "default psi 1 on all layers" in result.output
    assert "directions in w, w+, z" in result.output
    assert f"{out / 'synthesis.onnx'} (synthesis)" in result.output
    assert "synthesis.mapping.onnx (mapping)" in result.output
    assert "at batch 1, 7, 64, psi 0.5, 0.7, 1 (tolerance 1e-04)" in result.output
    assert OnnxModel(str(out / "synthesis.mapping.onnx")).info.graph == "mapping"


@pytest.mark.parametrize("args, fragment", [
    (["--synthesis-only", "--onnx", "s.onnx", "--pt2", "s.pt2"], "--synthesis-only writes ONNX only"),
    (["--truncation", "-1.5"], "--truncation must be in [-1, 2] (1 = none, 0.7 is common), got -1.5"),
    (["--truncation-cutoff", "0"], "--truncation-cutoff must be a layer count in 1..3, got 0"),
])
def test_bad_w_export_options(toy_run, args, fragment):
    one_line_error(run("export", toy_run[0], *args), fragment)


def test_truncation_on_a_z_only_run_is_one_line(tmp_path):
    from helpers import TINY

    assert run("train", "--steps", 1, "--out", tmp_path / "z", *TINY).exit_code == 0
    one_line_error(run("export", tmp_path / "z", "--truncation", 0.7),
                   "truncation needs a generator with a W space (a mapping network, such as --arch stylegan2); "
                   "this generator has a Z space only: drop --truncation")
    one_line_error(run("export", tmp_path / "z", "--synthesis-only"),
                   "--synthesis-only needs a generator with a W space")
    assert not (tmp_path / "z" / "generator.onnx").exists() and not (tmp_path / "z" / "synthesis.onnx").exists()


def test_a_conditional_stylegan2_exports_both_ways_when_it_is_installed(tmp_path):
    """The real architecture, where registered: both exports verified, and the numpy W pipeline against torch."""
    from gancli.plugins import build_registry

    registry = build_registry(third_party=False)
    if not registry.has("architecture", "stylegan2"):
        pytest.skip("no stylegan2 architecture registered")
    spec = DataSpec("image", (3, 16, 16), tuple("abc"))
    options = {"width": 4, "max_width": 8, "w_dim": 8, "mapping_depth": 2}
    G = registry.get("architecture", "stylegan2").cls(**options).build_generator(spec, 8, 3).eval()
    with torch.no_grad():
        G.w_avg.copy_(G.mapping(torch.randn(500, 8), torch.arange(500) % 3).mean(0))
    meta = {"arch": {"name": "stylegan2", "options": options}, "spec": spec.as_json(), "z_dim": 8, "num_classes": 3}
    w_dir = np.random.default_rng(0).standard_normal(8)
    info = generator_info(meta, {"up@w": w_dir / np.linalg.norm(w_dir)}, G, {"spaces": {"up@w": "w"}}, 0.7, 2)
    written = export_model(G, info, {"onnx": str(tmp_path / "g.onnx")}) + \
        export_synthesis(G, info, str(tmp_path / "s.onnx"))
    assert [e.graph for e in written] == ["generator", "synthesis", "mapping"]
    assert all(max(e.differences.values()) <= TOLERANCE for e in written)
    spaces = LatentSpaces(G, 8, 3)
    gen = OnnxGenerator(str(tmp_path / "s.onnx"))
    z, labels = gen.latents(5, 1), np.array([2, 0, 1, 1, 2])
    ws = spaces.convert(torch.from_numpy(z), "z", "w+", torch.from_numpy(labels), truncation=0.6, cutoff=2)
    ws = ws + 2.0 * spaces.scale("w") * torch.tensor(info.directions["up@w"])
    expected = spaces.decode(ws, "w+").numpy()
    assert np.abs(gen.draw(z, "z", labels, 0.6, None, "up@w", 2.0) - expected).max() < 1e-5
    full = OnnxGenerator(str(tmp_path / "g.onnx"))
    assert np.abs(full(z, labels, 0.6) - eager(spaces, z, labels, 0.6, 2)).max() < 1e-5
