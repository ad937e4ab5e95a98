"""Regularisers of the generator: the path-length term by hand, laziness, state, exact resume, plugins, DDP, bf16."""

import json
import math
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gancli
import gancli.testing
from gancli.default_plugins.generator_regularizers import PathLengthRegularizer
from gancli.engine import checkpoint
from gancli.latents import LatentSpaces
from gancli.plugins import get_registry
from helpers import TINY, one_line_error, run, toy_style_generator

PL = ["--g-reg", "path-length", "--g-reg-opt", "interval=2"]


def read_metrics(out):
    return [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]


def train(out, *args):
    result = run("train", "--out", out, *TINY, *args)
    assert result.exit_code == 0, result.output
    return Path(out)


def toy_z_generator():
    from torch import nn

    torch.manual_seed(0)

    class ZOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 4)

        def forward(self, z, labels=None):
            return torch.tanh(self.linear(z)).view(len(z), 1, 2, 2)

    return ZOnly()


# ---- the term itself ----------------------------------------------------------------------------------------
def test_path_length_in_w_matches_a_hand_computation():
    G = toy_style_generator()  # images tanh(sum_i A_i w_i + b_i) of 1x4x4, three layers of W+, w_dim 5
    z = torch.randn(6, G.z_dim, generator=torch.Generator().manual_seed(3))
    reg = PathLengthRegularizer(weight=2.0, interval=3, decay=0.1)
    torch.manual_seed(7)
    term = reg.penalty(G, LatentSpaces(G, G.z_dim), z, step=0)

    with torch.no_grad():
        n = 3  # batch_shrink 2
        w = G.mapping(z[:n])
        u = sum(layer(w) for layer in G.layers)  # every layer gets the same w: ws = w repeated
        torch.manual_seed(7)
        y = torch.randn(n, 1, 4, 4) / math.sqrt(16)
        outer = (1 - torch.tanh(u) ** 2) * y.flatten(1)  # d sum(tanh(u) y) / du
        grads = torch.stack([outer @ layer.weight for layer in G.layers], 1)  # (n, num_ws, w_dim)
        lengths = grads.pow(2).sum(2).mean(1).sqrt()
        mean = 0 + 0.1 * (lengths.mean() - 0)
        expected = 2.0 * 3 * ((lengths - mean) ** 2).mean()
    assert term.item() == pytest.approx(expected.item(), rel=1e-5)
    assert reg.state()["mean"].item() == pytest.approx(mean.item(), rel=1e-6)
    grads = torch.autograd.grad(term, list(G.parameters()), allow_unused=True)
    assert all(g is not None for g in grads)  # mapping and synthesis both learn from it


def test_a_z_only_generator_is_regularised_with_respect_to_z():
    G = toy_z_generator()  # images tanh(A z + b), 1x2x2
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    reg = PathLengthRegularizer(interval=1, decay=1.0, batch_shrink=1)
    torch.manual_seed(5)
    term = reg.penalty(G, LatentSpaces(G, 3), z, step=0)
    with torch.no_grad():
        torch.manual_seed(5)
        y = torch.randn(4, 1, 2, 2) / 2
        lengths = (((1 - G(z) ** 2) * y).flatten(1) @ G.linear.weight).norm(dim=1)
        expected = 2.0 * ((lengths - lengths.mean()) ** 2).mean()  # decay 1: the mean is this batch's
    assert term.item() == pytest.approx(expected.item(), rel=1e-5)


def test_lazy_every_interval_steps_with_the_weight_times_the_interval():
    G = toy_style_generator()
    spaces = LatentSpaces(G, G.z_dim)
    z = torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(0))
    lazy = PathLengthRegularizer(interval=4)
    terms = []
    for step in range(9):
        torch.manual_seed(step)
        terms.append(lazy.penalty(G, spaces, z, step=step))
    assert [t is not None for t in terms] == [True, False, False, False, True, False, False, False, True]
    torch.manual_seed(0)
    eager = PathLengthRegularizer(interval=1).penalty(G, spaces, z, step=0)
    assert terms[0].item() == pytest.approx(4 * eager.item(), rel=1e-6)
    assert PathLengthRegularizer(weight=0.0).penalty(G, spaces, z, step=0) is None


def test_state_round_trip_and_a_bad_state():
    reg = PathLengthRegularizer(interval=1)
    G = toy_style_generator()
    reg.penalty(G, LatentSpaces(G, G.z_dim), torch.randn(4, G.z_dim), step=0)
    other = PathLengthRegularizer()
    other.load_state(reg.state())
    assert torch.equal(other.state()["mean"], reg.state()["mean"]) and reg.state()["mean"].item() > 0
    with pytest.raises(ValueError, match="scalar"):
        other.load_state({"mean": torch.zeros(2)})


def test_the_builtin_passes_the_contract_check():
    terms = gancli.testing.check_generator_regularizer(PathLengthRegularizer)
    assert [t is not None for t in terms["w"]] == [True, False, False, False] * 2 and "z" in terms
    assert "z" not in gancli.testing.check_generator_regularizer(PathLengthRegularizer, {"space": "w"})


class ForgetfulRegularizer(gancli.GeneratorRegularizer):
    """Keeps a running count outside state(): resume cannot repeat it."""

    def __init__(self, **options):
        super().__init__(**options)
        self.calls = 0

    def penalty(self, G, spaces, z, labels=None, step=0):
        self.calls += 1
        return self.calls * G(z).square().mean()


def test_the_contract_check_catches_state_left_out_of_state():
    with pytest.raises(gancli.testing.ContractError, match="does not resume exactly"):
        gancli.testing.check_generator_regularizer(ForgetfulRegularizer)


# ---- training ---------------------------------------------------------------------------------------------------
def test_n_steps_equal_half_then_resume_bit_for_bit(tmp_path):
    straight = train(tmp_path / "straight", "--steps", 4, *PL)
    split = train(tmp_path / "split", "--steps", 2, *PL)
    result = run("train", "--resume", split, "--steps", 4)
    assert result.exit_code == 0, result.output
    a, b = (load_file(str(out / "checkpoints" / "step-00000004.safetensors")) for out in (straight, split))
    assert a.keys() == b.keys() and "g_reg.path-length.mean" in a
    assert all(torch.equal(a[k], b[k]) for k in a)  # weights, optimizers, RNG, the moving mean
    assert a["g_reg.path-length.mean"].item() > 0
    assert read_metrics(straight) == [{**m, "images_per_s": n["images_per_s"], "elapsed_s": n["elapsed_s"]}
                                      for m, n in zip(read_metrics(split), read_metrics(straight))]
    penalties = [m["g_penalty"] for m in read_metrics(straight)]
    assert penalties[0] > 0 and penalties[1] == 0 and penalties[2] > 0 and penalties[3] == 0  # lazy: steps 0, 2


def test_run_json_and_checkpoints_record_the_regularizer_and_older_runs_still_load(tmp_path):
    out = train(tmp_path / "run", "--steps", 1, "--g-reg", "pl", "--g-reg-opt", "weight=3")
    expected = [{"name": "path-length", "options": {"weight": 3.0, "interval": 4, "decay": 0.01, "batch_shrink": 2,
                                                    "space": "auto"},
                 "plugin": "gancli.default_plugins.generator_regularizers", "distribution": "gancli",
                 "version": gancli.__version__}]
    assert json.loads((out / "run.json").read_text())["g_reg"] == expected
    assert checkpoint.read_meta(str(out / "generator.safetensors"))["g_reg"] == expected
    assert "g_penalty" in read_metrics(out)[0]

    plain = train(tmp_path / "plain", "--steps", 1)
    assert "g_penalty" not in read_metrics(plain)[0]
    config = json.loads((plain / "run.json").read_text())
    del config["g_reg"]  # a run made before generator regularisers existed
    (plain / "run.json").write_text(json.dumps(config))
    result = run("train", "--resume", plain, "--steps", 2)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, fragment", [
    (["--g-reg", "path-lenght"], "unknown generator regularizer 'path-lenght' (did you mean \"path-length\"?)"),
    (["--g-reg", "path-length", "--g-reg-opt", "weight=-1"], "option weight must be at least 0.0"),
    (["--g-reg", "path-length", "--g-reg-opt", "wieght=2"], "wieght"),
    (["--g-reg", "path-length", "--g-reg-opt", "space=x"], "option space must be one of auto, w, z"),
    (["--g-reg-opt", "weight=2"], "--g-reg-opt needs a generator regularizer"),
    (["--g-reg", "path-length", "--g-reg", "pl"], "each generator regularizer can be used once"),
    (["--g-reg", "path-length", "--g-reg-opt", "r1.weight=2"], "generator regularizer 'r1' is not in use"),
    (["--g-reg", "none", "--g-reg", "pl"], "--g-reg none cannot be combined"),
    (["--g-reg", "path-length", "--g-reg-opt", "space=w"],
     'needs a generator with a W space (a mapping network); architecture "dcgan" builds one with a Z space only'),
])
def test_bad_input_is_one_line(tmp_path, args, fragment):
    one_line_error(run("train", "--steps", 1, "--out", tmp_path / "r", *TINY, *args), fragment)


def test_points_data_is_refused(tmp_path):
    one_line_error(run("train", "--steps", 1, "--out", tmp_path / "r", "--arch", "mlp", "--data", "ring",
                       "--g-reg", "path-length"),
                   '--g-reg path-length handles image data, but dataset "ring" gives points')


def test_the_regularizer_is_fixed_on_resume(tmp_path):
    out = train(tmp_path / "run", "--steps", 1)
    one_line_error(run("train", "--resume", out, "--steps", 2, "--g-reg", "pl"), "--g-reg cannot change")


def test_a_non_finite_term_stops_naming_the_regularizer(tmp_path, monkeypatch):
    original = PathLengthRegularizer.penalty

    def poisoned(self, *args, **kwargs):
        term = original(self, *args, **kwargs)
        return None if term is None else term * float("nan")

    monkeypatch.setattr(PathLengthRegularizer, "penalty", poisoned)
    result = run("train", "--steps", 3, "--out", tmp_path / "r", *TINY, *PL)
    one_line_error(result, "non-finite values at step 1")
    assert "the generator regularizer path-length" in result.output


def test_a_stylegan2_generator_trains_with_path_length_in_w(tmp_path):
    if not get_registry().has("architecture", "stylegan2"):
        pytest.skip("no stylegan2 architecture registered")
    out = train(tmp_path / "run", "--arch", "stylegan2", "--arch-opt", "w_dim=16", "--arch-opt", "mapping_depth=2",
                "--steps", 2, *PL)
    penalties = [m["g_penalty"] for m in read_metrics(out)]
    assert penalties[0] > 0 and penalties[1] == 0
    assert load_file(str(out / "checkpoints" / "step-00000002.safetensors"))["g_reg.path-length.mean"].item() > 0


def test_bf16_computes_the_term_in_float32(tmp_path):
    from gancli.engine import speed
    from gancli.engine.config import build_config
    from gancli.engine.plan import make_plan
    from gancli.engine.trainer import Trainer

    config = build_config({"data_opt": ["size=16"], "arch_opt": ["width=4"], "batch_size": 8, "device": "cpu",
                           "precision": "bf16", "g_reg": ["path-length"]})
    (tmp_path / "run").mkdir()
    trainer = Trainer(make_plan(config, get_registry()), str(tmp_path / "run"))
    z = torch.randn(8, config.z_dim)
    torch.manual_seed(3)
    with speed.autocast(trainer.device, "bf16"):
        term = trainer._generator_penalty(z, None)
    reference = PathLengthRegularizer()
    torch.manual_seed(3)
    expected = reference.penalty(trainer.G, LatentSpaces(trainer.G, config.z_dim), z, step=0)
    assert term.dtype == torch.float32 and term.item() == expected.item()
    term.backward()  # the double backward goes through under autocast too
    assert all(p.grad is not None for p in trainer.G.parameters())

    out = train(tmp_path / "cli", "--steps", 2, "--precision", "bf16", *PL)
    assert all(math.isfinite(m["g_penalty"]) for m in read_metrics(out)) and read_metrics(out)[0]["g_penalty"] > 0


# ---- a third party's regulariser --------------------------------------------------------------------------------
class SmoothnessRegularizer(gancli.GeneratorRegularizer):
    """A plugin's regulariser: the images' mean squared value, counted in its state."""

    class Options(gancli.Options):
        weight: float = gancli.field(0.5, help="weight of the term", min=0.0)

    def __init__(self, **options):
        super().__init__(**options)
        self.calls = torch.zeros(())

    def penalty(self, G, spaces, z, labels=None, step=0):
        self.calls = self.calls + 1
        return self.weight * spaces.decode(z, "z", labels, grad=True).square().mean()

    def state(self):
        return {"calls": self.calls}

    def load_state(self, tensors):
        self.calls = tensors["calls"].clone()


def smoothness_plugin():
    return types.SimpleNamespace(register_generator_regularizers=gancli.hookimpl(
        lambda register: register("smoothness", SmoothnessRegularizer)))


def test_a_plugin_registers_its_own_regularizer_and_trains_with_it(tmp_path):
    plugin = smoothness_plugin()
    plugin.register_generator_regularizers.__name__ = "register_generator_regularizers"
    assert gancli.testing.check_plugin(plugin, name="smooth-plugin").components == [
        ("generator_regularizer", "smoothness")]
    with gancli.testing.use_plugin(plugin, name="smooth-plugin"):
        listing = json.loads(run("list", "generator-regularizers", "--json").stdout)
        assert [(i["name"], i["plugin"]) for i in listing["generator_regularizer"]] == [
            ("path-length", "gancli.default_plugins.generator_regularizers"), ("smoothness", "smooth-plugin")]
        out = train(tmp_path / "run", "--steps", 2, "--g-reg", "smoothness", "--g-reg", "pl",
                    "--g-reg-opt", "smoothness.weight=2")
        names = [(c["name"], c["plugin"], c["options"].get("weight"))
                 for c in checkpoint.read_meta(str(out / "generator.safetensors"))["g_reg"]]
        assert names == [("smoothness", "smooth-plugin", 2.0), ("path-length", gancli.default_plugins.
                                                                 generator_regularizers.__name__, 2.0)]
        assert load_file(str(out / "checkpoints" / "step-00000002.safetensors"))["g_reg.smoothness.calls"] == 2
        assert all(m["g_penalty"] > 0 for m in read_metrics(out))
    one_line_error(run("train", "--resume", out, "--steps", 3),
                   "generator regularizer 'smoothness' (from plugin smooth-plugin, version None) is not installed")


# ---- DDP --------------------------------------------------------------------------------------------------------
def torchrun(*args):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
               str(Path(__file__).with_name("ddp_g_reg_probe.py")), *[str(a) for a in args]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_term_is_averaged_through_ddp_and_bypassing_it_is_not(tmp_path):
    torchrun("grad", tmp_path / "grad.json")
    found = json.loads((tmp_path / "grad.json").read_text())
    assert found["alone"] < 1e-6 * found["grad_scale_alone"]  # the term's gradient alone is the global batch's
    assert found["with_loss"] < 1e-6 * found["grad_scale_with_loss"]
    assert found["bypassed"] > 1e-2 * found["grad_scale_bypassed"]  # the plain module's: one rank's own


def test_two_processes_training_with_path_length_stay_identical(tmp_path):
    arch = "stylegan2" if get_registry().has("architecture", "stylegan2") else "dcgan"
    options = ["width=4"] + (["w_dim=16", "mapping_depth=2"] if arch == "stylegan2" else [])
    config = {"arch": arch, "arch_opt": options, "data_opt": ["size=16"], "batch_size": 8, "steps": 3,
              "device": "cpu", "log_every": 1, "g_reg": ["path-length"], "g_reg_opt": ["interval=2"]}
    torchrun("train", tmp_path / "state", tmp_path / "run", json.dumps(config))
    ranks = [json.loads((tmp_path / f"state.{rank}.json").read_text()) for rank in (0, 1)]
    assert ranks[0] == ranks[1] and ranks[0]["step"] == 3
    assert ranks[0]["state"]["g_reg.path-length.mean"] > 0
    assert all(m["g_penalty"] >= 0 for m in read_metrics(tmp_path / "run")) and \
        read_metrics(tmp_path / "run")[0]["g_penalty"] > 0
