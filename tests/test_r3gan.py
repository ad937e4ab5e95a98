"""R3GAN's pieces, each on its own: the rpgan loss, the r2 penalty (with r1), the r3gan architecture, export."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gancli.components import DataSpec
from gancli.default_plugins.architectures import R3GANArchitecture
from gancli.default_plugins.lipschitz import R1Enforcer, R2Enforcer
from gancli.default_plugins.losses import RelativisticPairingLoss
from gancli.engine.config import TrainConfig
from gancli.engine.models import load_generator
from gancli.engine.plan import make_plan
from gancli.errors import GancliError
from gancli.nn.r3gan import ACTIVATION_GAIN, ResidualBlock
from gancli.plugins import build_registry
from gancli.runtime.onnx_generator import OnnxGenerator
from gancli.testing import check_architecture, check_loss
from helpers import TINY, one_line_error, run

SMALL = {"width": 4, "max_width": 8}
R3GAN = ["--arch", "r3gan", "--loss", "rpgan", "--lipschitz", "r1", "--lipschitz", "r2", "--lipschitz-opt",
         "gamma=1", "--beta1", "0", "--beta2", "0.99", *TINY, "--arch-opt", "max_width=8"]
DIGITS = tuple(str(i) for i in range(10))


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def build(side=16, channels=1, classes=0, z_dim=6, **options):
    arch = R3GANArchitecture(**{**SMALL, **options})
    spec = DataSpec("image", (channels, side, side), DIGITS[:classes])
    torch.manual_seed(0)
    return arch.build_generator(spec, z_dim, classes), arch.build_discriminator(spec, classes)


# ---- rpgan ---------------------------------------------------------------------------------------------

def test_rpgan_pairs_each_real_with_its_fake():
    loss = RelativisticPairingLoss()
    real, fake = torch.tensor([1.0, 0.0, -2.0]), torch.tensor([0.0, 1.0, 1.0])
    # differences D(real_i) - D(fake_i): 1, -1, -3
    d = (softplus(-1) + softplus(1) + softplus(3)) / 3
    g = (softplus(1) + softplus(-1) + softplus(-3)) / 3
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(d)
    assert loss.generator_loss(fake, real).item() == pytest.approx(g)
    # pairs, not averages: the same scores paired otherwise give another loss; a shared shift changes nothing
    assert loss.discriminator_loss(real, fake.flip(0)).item() != pytest.approx(d)
    assert loss.discriminator_loss(real + 5, fake + 5).item() == pytest.approx(d)
    assert loss.output == "logit" and loss.generator_uses_real and loss.lipschitz == ()


def test_rpgan_passes_the_loss_contract_and_needs_real_scores():
    check_loss(RelativisticPairingLoss)
    with pytest.raises(ValueError, match="pass real_out"):
        RelativisticPairingLoss().generator_loss(torch.zeros(3))
    with pytest.raises(ValueError, match="one to one"):
        RelativisticPairingLoss().discriminator_loss(torch.zeros(3), torch.zeros(4))


@pytest.mark.parametrize("extra", [[], ["--lipschitz", "r1", "--lipschitz", "r2"]], ids=["alone", "r1+r2"])
def test_rpgan_trains_dcgan(tmp_path, extra):
    out = tmp_path / "run"
    result = run("train", "--arch", "dcgan", "--loss", "rpgan", *extra, "--steps", 2, "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    records = metrics(out)
    assert len(records) == 2 and all(math.isfinite(r["g_loss"]) for r in records)
    assert ("penalty" in records[0]) == bool(extra)


# ---- r2, with r1 ---------------------------------------------------------------------------------------

def squares(x):
    """A critic whose input gradient is known: D(x) = sum x^2 per sample, grad = 2x."""
    return x.flatten(1).pow(2).sum(dim=1)


def test_r2_penalises_the_slope_on_generated_data_only():
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    def hand(x):  # gamma/2 E||2x||^2 with gamma = 0.5
        return 0.5 / 2 * (2 * x).flatten(1).pow(2).sum(1).mean()

    r2, r1 = R2Enforcer(gamma=0.5), R1Enforcer(gamma=0.5)
    assert r2.penalty(squares, real, fake).item() == pytest.approx(hand(fake).item(), rel=1e-6)
    assert r1.penalty(squares, real, fake).item() == pytest.approx(hand(real).item(), rel=1e-6)
    lazy = R2Enforcer(gamma=0.5, interval=2)
    assert lazy.penalty(squares, real, fake, step=1) is None
    assert lazy.penalty(squares, real, fake, step=2).item() == pytest.approx(2 * hand(fake).item(), rel=1e-6)
    assert not fake.requires_grad  # the penalty takes its gradient on a detached copy's graph


def test_r1_and_r2_combine_and_refuse_the_gradient_penalty():
    registry = build_registry(third_party=False)
    plan = make_plan(TrainConfig(loss="rpgan", arch="r3gan", lipschitz=["r1", "r2"], lipschitz_opt={"gamma": 0.05}),
                     registry)
    assert [(c.entry.name, c.options["gamma"]) for c in plan.lipschitz] == [("r1", 0.05), ("r2", 0.05)]
    with pytest.raises(GancliError, match="r2 and gradient-penalty do not combine: opposite targets"):
        make_plan(TrainConfig(lipschitz=["r2", "gradient-penalty"]), registry)
    with pytest.raises(GancliError, match="r2 does not bound it"):
        make_plan(TrainConfig(loss="wgan", lipschitz=["r2"]), registry)


def test_r1_and_r2_penalties_add_up_in_training(tmp_path):
    common = ["--arch", "r3gan", "--loss", "rpgan", "--steps", 1, "--lipschitz-opt", "gamma=1", *TINY]
    penalty = {}
    for name, flags in {"r1": ["r1"], "r2": ["r2"], "both": ["r1", "r2"]}.items():
        out = tmp_path / name
        args = [a for flag in flags for a in ("--lipschitz", flag)]
        assert run("train", *args, "--out", out, *common).exit_code == 0
        penalty[name] = metrics(out)[0]["penalty"]
    assert penalty["r1"] > 0 and penalty["r2"] > 0
    assert penalty["both"] == pytest.approx(penalty["r1"] + penalty["r2"], abs=2e-6)  # the log rounds to 1e-6


def test_r2_regularises_a_critic_by_the_enforcer_check():
    from gancli.testing import check_enforcer

    report = check_enforcer(R2Enforcer)
    assert report.real_slope < report.baseline_real_slope / 2


# ---- the r3gan architecture ----------------------------------------------------------------------------

def test_passes_the_architecture_contract():
    check_architecture(R3GANArchitecture, SMALL)


@pytest.mark.parametrize("side", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_28_32_and_64_pixels(side, channels):
    G, D = build(side, channels)
    with torch.no_grad():
        x = G(torch.randn(5, 6))
        score = D(x)
    assert x.shape == (5, channels, side, side) and float(x.abs().max()) <= 1 and score.shape == (5,)
    s0 = 7 if side == 28 else 4
    assert G.basis.shape == (8, s0, s0)  # the learned basis, at the widest stage (max_width 8)
    assert D.basis.kernel_size == (s0, s0) and D.basis.groups == D.basis.in_channels == 8  # depthwise head


def test_no_normalisation_anywhere():
    G, D = build(classes=3)
    norms = (torch.nn.BatchNorm2d, torch.nn.GroupNorm, torch.nn.LayerNorm, torch.nn.InstanceNorm2d)
    assert not any(isinstance(m, norms) for net in (G, D) for m in net.modules())


def test_fixup_initialisation_makes_every_block_the_identity():
    G, D = build(32, blocks=2)
    blocks = [m for net in (G, D) for m in net.modules() if isinstance(m, ResidualBlock)]
    assert len(blocks) == 2 * 4 * 2  # two networks, four resolutions, two blocks each
    for block in blocks:
        assert not block.project.weight.any()
        x = torch.randn(2, block.expand.in_channels, 4, 4)
        assert torch.equal(block(x), x)


def test_fixup_scales_the_first_two_convolutions_by_the_number_of_blocks():
    torch.manual_seed(0)
    num_blocks = 16
    block = ResidualBlock(64, 2, 16, num_blocks)
    gain = ACTIVATION_GAIN * num_blocks ** (-1 / 4)  # L^(-1/(2m-2)) with m = 3 convolutions
    assert block.expand.weight.std().item() == pytest.approx(gain / math.sqrt(64), rel=0.05)
    assert block.spatial.weight.std().item() == pytest.approx(gain / math.sqrt(16 * 9), rel=0.05)
    assert block.spatial.groups == 8  # 128 expanded channels in groups of 16
    loss = block(torch.randn(4, 64, 4, 4)).square().mean()
    loss.backward()
    assert block.project.weight.grad.abs().sum() > 0  # the zero layer trains, so the block leaves the identity


def test_widths_double_towards_low_resolutions_up_to_max_width():
    G, D = build(32, width=4, max_width=16)
    assert [m.expand.in_channels for m in G.modules() if isinstance(m, ResidualBlock)] == [16, 16, 8, 4]
    assert [m.expand.in_channels for m in D.modules() if isinstance(m, ResidualBlock)] == [4, 8, 16, 16]
    constant, _ = build(32, width=8, max_width=8)
    assert {m.expand.in_channels for m in constant.modules() if isinstance(m, ResidualBlock)} == {8}


def test_conditional_by_embedding_in_G_and_projection_in_D():
    G, D = build(classes=3)
    G.eval()
    z, labels = torch.randn(4, 6), torch.tensor([0, 1, 2, 1])
    soft = torch.nn.functional.one_hot(labels, 3).float()
    with torch.no_grad():
        x = G(z, labels)
        assert torch.allclose(x, G(z, soft), atol=1e-6)
        assert not torch.allclose(x, G(z, torch.tensor([1, 2, 0, 0])))
        per_class = torch.stack([D(x, torch.full((4,), k)) for k in range(3)], 1)
        mix = torch.tensor([[0.2, 0.3, 0.5]]).expand(4, 3)
        assert torch.allclose(D(x, mix), (per_class * mix).sum(1), atol=1e-5)  # projection is linear in the class
    with pytest.raises(ValueError, match="pass labels"):
        G(z)


def test_bad_options_and_sides_are_one_line_errors():
    with pytest.raises(GancliError, match="must be multiples of group_channels 16, and 24 is not"):
        build(width=12, max_width=12)
    with pytest.raises(GancliError, match="r3gan needs a square image side"):
        build(27)
    with pytest.raises(GancliError, match="r3gan needs square images"):
        R3GANArchitecture().build_generator(DataSpec("image", (1, 16, 32)), 8, 0)
    one_line_error(run("train", *R3GAN, "--arch-opt", "group_channels=3", "--steps", 1), "group_channels 3")


def test_spectral_norm_refuses_the_zero_initialised_layers():
    one_line_error(run("train", "--arch", "r3gan", "--loss", "hinge", "--lipschitz", "spectral-norm", "--steps", 1,
                       *TINY), "spectral-norm cannot normalise D's layer")


def test_bf16_autocast_and_channels_last():
    G, D = build(32, 3, classes=3)
    G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    labels = torch.tensor([0, 1, 2, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = G(torch.randn(4, 6), labels)
        score = D(x, labels)
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.bfloat16 and score.shape == (4,)
    score.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in G.parameters() if p.grad is not None)


# ---- end to end ----------------------------------------------------------------------------------------

def test_trains_through_the_cli_and_samples(tmp_path):
    out = tmp_path / "run"
    result = run("train", *R3GAN, "--conditional", "--ema", "0.9", "--precision", "bf16", "--steps", 3,
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert "r3gan + rpgan + r1 + r2" in " ".join(result.output.split())  # a long --out may wrap the line
    records = metrics(out)
    assert len(records) == 3 and all(r["penalty"] > 0 and math.isfinite(r["d_loss"]) for r in records)
    result = run("sample", out, "-n", 4, "-o", tmp_path / "grid.png")
    assert result.exit_code == 0, result.output


def test_resume_continues_exactly(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run("train", "--steps", 4, "--out", straight, *R3GAN).exit_code == 0
    assert run("train", "--steps", 2, "--out", split, *R3GAN).exit_code == 0
    result = run("train", "--resume", split, "--steps", 4)
    assert result.exit_code == 0, result.output
    a, b = load_file(str(straight / "generator.safetensors")), load_file(str(split / "generator.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(a[k].abs().sum() > 0 for k in a if k.endswith("project.weight"))  # the zero layers have trained


def test_two_processes_match_one_process(tmp_path):
    """rpgan pairs within each rank's shard, so the mean over ranks is the global batch's mean: DDP is exact."""
    two, one = tmp_path / "two", tmp_path / "one"
    exact = [*R3GAN, "--precision", "fp32"]  # float32: the same sums in another order
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone", "-m", "gancli",
               "train", "--steps", 2, "--out", two, *exact]
    result = subprocess.run([str(a) for a in command], capture_output=True, text=True, timeout=180,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert run("train", "--steps", 2, "--out", one, *exact).exit_code == 0
    last = "checkpoints/step-00000002.safetensors"
    a, b = load_file(str(two / last)), load_file(str(one / last))
    nets = [k for k in a if k[:2] in ("G.", "D.")]
    assert max((a[k] - b[k]).abs().max().item() for k in nets) < 1e-5


@pytest.mark.parametrize("conditional", [False, True])
def test_onnx_export_passes_verification(tmp_path, conditional):
    out = tmp_path / "run"
    flags = ["--conditional"] if conditional else []
    assert run("train", *R3GAN, *flags, "--steps", 2, "--out", out).exit_code == 0
    result = run("export", out, "--onnx", tmp_path / "g.onnx", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    (export,) = report["exports"]
    assert max(export["max_abs_difference"].values()) <= export["tolerance"] == 1e-4
    G, meta = load_generator(str(out))
    z = np.random.default_rng(3).standard_normal((3, 64), dtype=np.float32)
    labels = np.array([9, 0, 4]) if conditional else None
    with torch.no_grad():
        eager = G(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
    assert np.abs(OnnxGenerator(str(tmp_path / "g.onnx"))(z, labels) - eager).max() < 1e-5
    assert meta["arch"]["name"] == "r3gan"
