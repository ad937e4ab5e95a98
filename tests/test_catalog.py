"""The catalog of components: losses at known points, enforcers doing what they claim, architectures' shapes,
conditioning (class channels, projection, soft labels), spectral norm through checkpoints, refused combinations."""

import math

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from gancli.components import DataSpec
from gancli.errors import GancliError
from gancli.nn.common import one_hot
from gancli.nn.resnet import UpBlock
from gancli.plugins import build_registry
from helpers import TINY, one_line_error, run

DIGITS = tuple("0123456789")


@pytest.fixture
def registry():
    return build_registry(third_party=False)


def build(registry, kind, name, **options):
    return registry.get(kind, name).cls(**options)


def generator_grad(loss, value: float) -> float:
    """d G-loss / d D(G(z)) for a batch whose scores all equal ``value`` (per sample, times the batch size)."""
    fake_out = torch.full((4,), value, requires_grad=True)
    loss.generator_loss(fake_out).backward()
    return fake_out.grad[0].item() * 4


def linear_critic(weight):
    return lambda x: x.flatten(1) @ weight


# ---- losses -------------------------------------------------------------------------------------------

def test_minimax_bce_saturates_where_the_non_saturating_one_does_not(registry):
    minimax, bce = build(registry, "loss", "bce-minimax"), build(registry, "loss", "bce")
    zeros = torch.zeros(4)
    assert minimax.discriminator_loss(zeros, zeros).item() == pytest.approx(math.log(2))
    assert minimax.generator_loss(zeros).item() == pytest.approx(-math.log(2))  # log(1 - 1/2)
    assert minimax.generator_loss(torch.full((4,), -10.0)).item() == pytest.approx(math.log1p(-1 / (1 + math.e ** 10)))
    # D confidently rejects the fakes (score -10): minimax's gradient has vanished, bce's is still -1
    assert -1e-4 < generator_grad(minimax, -10.0) < 0
    assert generator_grad(bce, -10.0) == pytest.approx(-1.0, abs=1e-4)
    # once D is fooled (score +10) it is the other way round: both push the score up (negative gradient)
    assert generator_grad(minimax, 10.0) == pytest.approx(-1.0, abs=1e-4)
    assert -1e-4 < generator_grad(bce, 10.0) < 0


def test_hinge_loss_values_and_margin(registry):
    hinge = build(registry, "loss", "hinge")
    assert hinge.output == "logit" and hinge.lipschitz == ()
    assert hinge.discriminator_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2.0)
    assert hinge.discriminator_loss(torch.tensor([0.5, 3.0]), torch.tensor([0.5, -3.0])).item() == pytest.approx(1.0)
    real, fake = torch.tensor([2.0, 0.0], requires_grad=True), torch.tensor([-2.0, 0.0], requires_grad=True)
    hinge.discriminator_loss(real, fake).backward()
    assert real.grad.tolist() == [0.0, -0.5] and fake.grad.tolist() == [0.0, 0.5]  # nothing beyond the margin
    assert hinge.generator_loss(torch.tensor([1.0, 3.0])).item() == pytest.approx(-2.0)
    assert generator_grad(hinge, -50.0) == pytest.approx(-1.0)  # never saturates


def test_lsgan_targets(registry):
    default = build(registry, "loss", "lsgan")
    assert default.discriminator_loss(torch.ones(3), torch.zeros(3)).item() == 0.0
    assert default.discriminator_loss(torch.zeros(3), torch.ones(3)).item() == pytest.approx(1.0)
    assert default.generator_loss(torch.ones(3)).item() == 0.0
    assert default.generator_loss(torch.zeros(3)).item() == pytest.approx(0.5)
    assert generator_grad(default, -3.0) == pytest.approx(-4.0)  # pulls fakes towards c = 1, harder from afar
    chi2 = build(registry, "loss", "lsgan", a=-1.0, b=1.0, c=0.0)
    assert chi2.discriminator_loss(torch.ones(3), -torch.ones(3)).item() == 0.0
    assert chi2.generator_loss(torch.zeros(3)).item() == 0.0


def test_new_losses_are_listed_and_train_without_an_enforcer(tmp_path):
    listing = run("list", "losses").output
    assert all(name in listing for name in ("bce-minimax", "hinge", "lsgan"))
    result = run("train", "--loss", "lsgan", "--loss-opt", "a=-1", "--loss-opt", "c=0", "--steps", 2,
                 "--out", tmp_path / "r", *TINY)
    assert result.exit_code == 0, result.output
    assert '"a": -1.0' in (tmp_path / "r" / "run.json").read_text()


# ---- enforcers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("slope, two_sided, one_sided", [(0.5, 10 * 0.25, 0.0), (1.0, 0.0, 0.0), (3.0, 40.0, 40.0)])
def test_one_sided_gradient_penalty_ignores_norms_below_one(registry, slope, two_sided, one_sided):
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    weight = torch.zeros(16)
    weight[3] = slope
    for option, expected in ((False, two_sided), (True, one_sided)):
        gp = build(registry, "lipschitz", "gradient-penalty", one_sided=option)
        assert gp.penalty(linear_critic(weight), real, fake).item() == pytest.approx(expected, abs=1e-5)


def test_r1_is_half_gamma_times_the_squared_slope_on_real_data(registry):
    real, fake = torch.randn(6, 1, 3, 3), torch.randn(6, 1, 3, 3)
    r1 = build(registry, "lipschitz", "r1", gamma=4.0)
    constant = r1.penalty(lambda x: x.flatten(1).sum(1) * 0 + 3.0, real, fake)
    assert constant.item() == 0.0
    weight = torch.arange(9.0) / 4
    assert r1.penalty(linear_critic(weight), real, fake).item() == pytest.approx(4.0 / 2 * weight.pow(2).sum().item())
    assert not real.requires_grad  # the caller's batch is left alone


def test_r1_penalises_the_slope_at_the_real_points(registry):
    real = torch.tensor([[1.0], [2.0]])
    r1 = build(registry, "lipschitz", "r1", gamma=2.0)
    # critic x^2 has slope 2x: gamma/2 * mean(4x^2) = 1 * (4 + 16) / 2
    assert r1.penalty(lambda x: x.pow(2).sum(1), real, torch.zeros(2, 1)).item() == pytest.approx(10.0)


def test_lazy_r1_runs_every_k_steps_scaled_by_k(registry):
    real = torch.randn(4, 2)
    weight = torch.tensor([1.0, 2.0])
    lazy = build(registry, "lipschitz", "r1", gamma=10.0, interval=4)
    values = [lazy.penalty(linear_critic(weight), real, real, step=s) for s in range(9)]
    assert [s for s, v in enumerate(values) if v is not None] == [0, 4, 8]
    assert values[4].item() == pytest.approx(4 * 10.0 / 2 * 5.0)


def test_r1_trains_the_critic(registry):
    D = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    term = build(registry, "lipschitz", "r1").penalty(lambda x: D(x).view(-1), torch.randn(3, 4), torch.randn(3, 4))
    term.backward()
    assert D[1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("arch, shape", [("dcgan", (1, 16, 16)), ("dcgan", (1, 28, 28)), ("resnet", (3, 16, 16))])
def test_spectral_norm_makes_every_weight_layer_of_norm_one(registry, arch, shape):
    spec = DataSpec("image", shape, DIGITS[:3])
    D = build(registry, "architecture", arch, width=8, projection=True).build_discriminator(spec, 3)
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert max(torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() for m in layers) < 0.9  # N(0, 0.02)
    D = build(registry, "lipschitz", "spectral-norm").prepare(D).train()
    for _ in range(30):  # one power iteration per forward pass; close singular values converge slowly
        D(torch.randn(4, *shape), torch.tensor([0, 1, 2, 0]))
    assert all(nn.utils.parametrize.is_parametrized(m, "weight") for m in layers)
    for m in layers:
        assert torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=1e-2)


def test_spectral_norm_round_trips_through_checkpoints_and_resumes_exactly(registry, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--loss", "hinge", "--lipschitz", "spectral-norm", "--arch-opt", "d_norm=none", "--n-critic", 2,
              *TINY]
    assert run("train", "--steps", 4, "--out", straight, *common).exit_code == 0
    assert run("train", "--steps", 2, "--out", split, *common).exit_code == 0
    middle = load_file(str(split / "checkpoints" / "step-00000002.safetensors"))
    result = run("train", "--resume", split, "--steps", 4)
    assert result.exit_code == 0 and "from step 2" in result.output, result.output
    a = load_file(str(straight / "checkpoints" / "step-00000004.safetensors"))
    b = load_file(str(split / "checkpoints" / "step-00000004.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    vectors = [k for k in a if k.startswith("D.") and k.endswith(("._u", "._v"))]
    assert len(vectors) == 2 * sum(k.endswith(".weight.original") for k in a) > 0
    assert any(not torch.equal(a[k], middle[k]) for k in vectors)  # the power iteration moved on after resuming

    # a discriminator rebuilt, prepared and loaded from the checkpoint holds exactly the saved state
    spec = DataSpec("image", (1, 16, 16), DIGITS)
    D = build(registry, "architecture", "dcgan", width=4, d_norm="none").build_discriminator(spec)
    D = build(registry, "lipschitz", "spectral-norm").prepare(D)
    D.load_state_dict({k[2:]: v for k, v in a.items() if k.startswith("D.")})
    assert all(torch.equal(v, a["D." + k]) for k, v in D.state_dict().items())


_CONFLICTS = [
    (["weight-clip", "spectral-norm"], "clipping its parametrised original weights"),
    (["gradient-penalty", "weight-clip"], "weight clipping fights the gradient penalty"),
    (["r1", "gradient-penalty"], "opposite targets"),
]


@pytest.mark.parametrize("names, reason", _CONFLICTS)
def test_conflicting_enforcers_are_refused_with_the_reason(names, reason):
    for order in (names, names[::-1]):
        args = [a for name in order for a in ("--lipschitz", name)]
        one_line_error(run("train", "--loss", "wgan", *args, "--dry-run"), reason)


def test_conflicts_are_declared_on_both_sides(registry):
    entries = {e.name: e.cls for e in registry.entries("lipschitz")}
    for name, cls in entries.items():
        for other, reason in cls.conflicts.items():
            assert entries[other].conflicts[name] == reason


def test_r1_alone_does_not_bound_a_wasserstein_critic():
    one_line_error(run("train", "--loss", "wgan", "--lipschitz", "r1", "--dry-run"), "r1 does not bound it")
    allowed = run("train", "--loss", "wgan", "--lipschitz", "spectral-norm", "--lipschitz", "r1", "--dry-run")
    assert allowed.exit_code == 0, allowed.output


# ---- architectures ------------------------------------------------------------------------------------

def _sides(module, kind, x, *args):
    """Spatial side and channels of each ``kind`` layer's output during one forward pass."""
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((o.shape[1], o.shape[-1])))
             for m in module.modules() if isinstance(m, kind)]
    module(x, *args)
    for hook in hooks:
        hook.remove()
    return seen


def test_dcgan_course_layout_is_the_courses_network(registry):
    spec = DataSpec("image", (1, 28, 28))
    arch = build(registry, "architecture", "dcgan", layout="course")
    G, D = arch.build_generator(spec, 10), arch.build_discriminator(spec)
    assert _sides(G, nn.ConvTranspose2d, torch.randn(2, 10)) == [(256, 3), (128, 6), (64, 13), (1, 28)]
    assert _sides(D, nn.Conv2d, torch.randn(2, 1, 28, 28)) == [(16, 13), (32, 5), (1, 1)]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == 2
    x = torch.randn(2, 1, 28, 28, requires_grad=True)
    D.eval()(x).sum().backward()
    seen = x.grad[0, 0].abs() > 0  # unpadded convolutions: the course's D sees only the top-left 22x22 pixels
    assert seen[:22, :22].all() and not seen[22:].any() and not seen[:, 22:].any()
    per_sample = arch.build_discriminator(spec, batch_independent=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in per_sample.modules())
    standard = build(registry, "architecture", "dcgan").build_generator(spec, 10)  # the default layout
    assert _sides(standard, nn.ConvTranspose2d, torch.randn(2, 10)) == [(128, 7), (64, 14), (1, 28)]


def test_dcgan_course_layout_needs_28x28(registry):
    arch = build(registry, "architecture", "dcgan", layout="course")
    with pytest.raises(GancliError, match="layout=standard"):
        arch.build_generator(DataSpec("image", (1, 32, 32)), 8)
    default = build(registry, "architecture", "dcgan").build_generator(DataSpec("image", (3, 32, 32)), 8)
    assert _sides(default, nn.ConvTranspose2d, torch.randn(2, 8))[-1] == (3, 32)


_SIZES = [(1, 28, 28), (3, 32, 32), (3, 64, 64)]
_BUILDS = ([(arch, options, shape) for arch, options in (("resnet", {}), ("resnet", {"projection": True}),
                                                         ("dcgan", {"projection": True})) for shape in _SIZES]
           + [("dcgan", {"layout": "course"}, shape) for shape in ((1, 28, 28), (3, 28, 28))])


@pytest.mark.parametrize("arch, options, shape", _BUILDS)
@pytest.mark.parametrize("classes", [0, 10])
def test_architectures_build_for_sizes_channels_and_classes(registry, arch, options, shape, classes):
    spec = DataSpec("image", shape, DIGITS[:classes])
    a = build(registry, "architecture", arch, width=8, **options)
    G, D = a.build_generator(spec, 16, classes), a.build_discriminator(spec, classes)
    labels = torch.tensor([0, 9, 4]) if classes else None
    images = G(torch.randn(3, 16), labels)
    assert images.shape == (3, *shape) and images.min() >= -1 and images.max() <= 1
    assert D(images, labels).shape == (3,)


@pytest.mark.parametrize("arch", ["resnet", "dcgan"])
def test_projection_discriminator_conditions_on_features_not_input_channels(registry, arch):
    spec = DataSpec("image", (3, 32, 32), DIGITS[:4])
    course_way = build(registry, "architecture", arch, width=8).build_discriminator(spec, 4)
    projected = build(registry, "architecture", arch, width=8, projection=True).build_discriminator(spec, 4)
    first = [next(m for m in D.modules() if isinstance(m, nn.Conv2d)).in_channels for D in (course_way, projected)]
    assert first == [3 + 4, 3]
    projected.eval()
    x = torch.randn(2, 3, 32, 32)
    scores = [projected(x, torch.full((2,), k)) for k in range(4)]
    assert not torch.allclose(scores[0], scores[1])
    # soft labels mix the class terms linearly: weights summing to one give the same mix of scores
    soft = torch.tensor([[0.25, 0.75, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
    mixed = torch.stack([0.25 * scores[0][0] + 0.75 * scores[1][0], 0.5 * scores[2][1] + 0.5 * scores[3][1]])
    assert torch.allclose(projected(x, soft), mixed, atol=1e-5)


def test_one_hot_accepts_class_indices_or_soft_weights():
    like = torch.zeros(1, dtype=torch.float64)
    hard = one_hot(torch.tensor([2, 0]), 3, like)
    assert hard.dtype == torch.float64 and hard.tolist() == [[0, 0, 1], [1, 0, 0]]
    soft = torch.tensor([[0.2, 0.3, 0.5]])
    assert torch.equal(one_hot(soft, 3, like), soft.double())
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        one_hot(torch.ones(2, 4), 3, like)


@pytest.mark.parametrize("arch", ["mlp", "dcgan", "resnet"])
def test_generators_take_soft_labels(registry, arch):
    spec = DataSpec("image", (1, 28, 28), DIGITS)
    G = build(registry, "architecture", arch, width=8).build_generator(spec, 8, 10).eval()
    z = torch.randn(2, 8)
    labels = torch.tensor([3, 7])
    assert torch.equal(G(z, labels), G(z, nn.functional.one_hot(labels, 10).float()))
    halfway = torch.zeros(2, 10)
    halfway[:, 3] = halfway[:, 7] = 0.5
    between = G(z, halfway)
    assert not torch.allclose(between, G(z, labels))


def test_resnet_blocks_follow_sngan(registry):
    spec = DataSpec("image", (3, 32, 32))
    arch = build(registry, "architecture", "resnet", width=16)
    G, D = arch.build_generator(spec, 8), arch.build_discriminator(spec)
    assert _sides(G, UpBlock, torch.randn(2, 8)) == [(16, 8), (16, 16), (16, 32)]
    assert [b.down for b in D.blocks] == [True, True, False, False]  # 32 -> 16 -> 8, then two blocks at 8x8
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in D.modules())


def test_resnet_initialisations(registry):
    spec = DataSpec("image", (3, 32, 32))
    dcgan_init = build(registry, "architecture", "resnet", width=64).build_generator(spec, 8)
    assert dcgan_init.blocks[0].c1.weight.std().item() == pytest.approx(0.02, rel=0.1)
    xavier = build(registry, "architecture", "resnet", width=64, init="xavier").build_generator(spec, 8)
    fan = 64 * 9 * 2  # fan_in + fan_out of a 3x3 convolution from 64 to 64 channels
    assert xavier.blocks[0].c1.weight.std().item() == pytest.approx(math.sqrt(2) * math.sqrt(2 / fan), rel=0.05)
    assert xavier.blocks[0].c_sc.weight.std().item() == pytest.approx(math.sqrt(2 / 128), rel=0.1)


def test_conditional_resnet_with_projection_and_spectral_norm_trains(tmp_path):
    out = tmp_path / "r"
    result = run("train", "--arch", "resnet", "--arch-opt", "projection=true", "--loss", "hinge",
                 "--lipschitz", "spectral-norm", "--lipschitz", "r1", "--lipschitz-opt", "r1.interval=2",
                 "--conditional", "--steps", 2, "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    state = load_file(str(out / "checkpoints" / "step-00000002.safetensors"))
    assert "D.projection.embed.parametrizations.weight.original" in state
