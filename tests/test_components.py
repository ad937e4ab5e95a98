import math

import pytest
import torch

from gancli.components import DataSpec
from gancli.errors import GancliError
from gancli.plugins import build_registry


@pytest.fixture
def registry():
    return build_registry(third_party=False)


def build(registry, kind, name, **options):
    return registry.get(kind, name).cls(**options)


def test_bce_loss_values(registry):
    loss = build(registry, "loss", "bce")
    zeros = torch.zeros(4)
    assert loss.discriminator_loss(zeros, zeros).item() == pytest.approx(math.log(2))
    assert loss.generator_loss(zeros).item() == pytest.approx(math.log(2))
    # confident, correct discriminator -> small loss; the generator's non-saturating loss stays large
    assert loss.discriminator_loss(torch.full((4,), 10.0), torch.full((4,), -10.0)).item() < 1e-4
    assert loss.generator_loss(torch.full((4,), -10.0)).item() == pytest.approx(10.0, abs=1e-3)


def test_wasserstein_losses(registry):
    wgan, wgan_gp = build(registry, "loss", "wgan"), build(registry, "loss", "wgan-gp")
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([1.0, -1.0])
    assert wgan.discriminator_loss(real, fake).item() == pytest.approx(0.0 - 3.0)
    assert wgan.generator_loss(fake).item() == pytest.approx(0.0)
    assert wgan.output == "critic" and wgan.lipschitz == ()
    assert wgan_gp.n_critic == 5 and wgan_gp.lipschitz == (("gradient-penalty", {"lambda": 10.0}),)


def test_gradient_penalty_of_a_linear_critic_matches_its_slope(registry):
    gp = build(registry, "lipschitz", "gradient-penalty", lambda_=10.0)
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    for slope, expected in ((1.0, 0.0), (3.0, 10.0 * 4.0)):
        weight = torch.zeros(16)
        weight[0] = slope  # |grad| = slope everywhere

        def critic(x, w=weight):
            return x.flatten(1) @ w

        assert gp.penalty(critic, real, fake).item() == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_backpropagates_into_the_critic(registry):
    gp = build(registry, "lipschitz", "gradient-penalty")
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1))
    term = gp.penalty(lambda x: D(x).view(-1), torch.randn(4, 1, 4, 4), torch.randn(4, 1, 4, 4))
    term.backward()
    assert D[1].weight.grad is not None and D[1].weight.grad.abs().sum() > 0


def test_weight_clip_bounds_every_parameter(registry):
    clip = build(registry, "lipschitz", "weight-clip", clip=0.05)
    D = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 1))
    clip.after_step(D)
    largest = max(p.abs().max().item() for p in D.parameters())
    assert largest == pytest.approx(0.05)  # clipped, not merely small


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 16, 16), (3, 64, 64)])
@pytest.mark.parametrize("classes", [0, 3])
def test_architectures_adapt_to_shapes_and_classes(registry, arch, shape, classes):
    spec = DataSpec("image", shape, tuple(str(i) for i in range(classes)))
    a = build(registry, "architecture", arch, width=8)
    G, D = a.build_generator(spec, 16, classes), a.build_discriminator(spec, classes)
    labels = torch.tensor([0, 2, 1]) % max(classes, 1) if classes else None
    images = G(torch.randn(3, 16), labels)
    assert images.shape == (3, *shape)
    assert images.min() >= -1 and images.max() <= 1
    assert D(images, labels).shape == (3,)


def test_conditional_models_require_labels(registry):
    spec = DataSpec("image", (1, 28, 28), ("a", "b"))
    G = build(registry, "architecture", "dcgan", width=4).build_generator(spec, 8, 2)
    with pytest.raises(ValueError, match="pass labels"):
        G(torch.randn(2, 8))


def test_labels_change_a_conditional_generators_output(registry):
    spec = DataSpec("image", (1, 28, 28), ("a", "b"))
    G = build(registry, "architecture", "dcgan", width=4).build_generator(spec, 8, 2).eval()
    z = torch.randn(1, 8)
    assert not torch.allclose(G(z, torch.tensor([0])), G(z, torch.tensor([1])))


def test_mlp_handles_points_unbounded(registry):
    spec = DataSpec("points", (2,))
    a = build(registry, "architecture", "mlp", width=8)
    G, D = a.build_generator(spec, 4), a.build_discriminator(spec)
    out = G(torch.randn(5, 4))
    assert out.shape == (5, 2) and D(out).shape == (5,)
    assert not any(isinstance(m, torch.nn.Tanh) for m in G.modules())


def test_dcgan_discriminator_norm_follows_batch_independence(registry):
    spec = DataSpec("image", (1, 28, 28))
    a = build(registry, "architecture", "dcgan", width=4)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in a.build_discriminator(spec).modules())
    per_sample = a.build_discriminator(spec, batch_independent=True)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in per_sample.modules())
    with pytest.raises(GancliError, match="d_norm=batch mixes samples"):
        build(registry, "architecture", "dcgan", d_norm="batch").build_discriminator(spec, batch_independent=True)


def test_dcgan_refuses_sizes_it_cannot_reach(registry):
    a = build(registry, "architecture", "dcgan")
    with pytest.raises(GancliError, match="size=32"):
        a.build_generator(DataSpec("image", (1, 13, 13)), 8)
    with pytest.raises(GancliError, match="square"):
        a.build_generator(DataSpec("image", (1, 28, 32)), 8)


def test_dcgan_init_is_the_courses(registry):
    G = build(registry, "architecture", "dcgan").build_generator(DataSpec("image", (1, 28, 28)), 64)
    conv = next(m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d))
    assert conv.weight.std().item() == pytest.approx(0.02, rel=0.1)


def test_digits_dataset(registry):
    bundle = build(registry, "dataset", "digits", size=28).load()
    assert bundle.x.shape == (1797, 1, 28, 28) and bundle.spec.shape == (1, 28, 28)
    assert bundle.x.min() >= -1 and bundle.x.max() <= 1 and bundle.x.max() > 0.9
    assert bundle.spec.class_names == tuple("0123456789")
    assert sorted(bundle.labels.unique().tolist()) == list(range(10))


@pytest.mark.parametrize("name, centres, std", [("ring", 8, 0.01), ("grid", 25, 0.05)])
def test_mixture_datasets_follow_the_protocol(registry, name, centres, std):
    bundle = build(registry, "dataset", name, n=20000).load()
    assert bundle.x.shape == (20000, 2) and bundle.spec.kind == "points"
    assert bundle.labels.unique().numel() == centres
    from gancli.data.mixtures import grid_centres, ring_centres

    table = ring_centres() if name == "ring" else grid_centres()
    offsets = bundle.x - table[bundle.labels]
    assert offsets.std().item() == pytest.approx(std, rel=0.05)
    assert torch.equal(bundle.x, build(registry, "dataset", name, n=20000).load().x)  # drawn once from the seed
    if name == "ring":
        assert torch.allclose(table.norm(dim=1), torch.ones(8))


def test_mlp_flat_layout_for_points(registry):
    spec = DataSpec("points", (2,))
    a = build(registry, "architecture", "mlp", width=16, layout="flat", g_norm="none")
    G, D = a.build_generator(spec, 2), a.build_discriminator(spec)
    widths = [m.out_features for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [16, 16, 16, 2]
    assert [m.out_features for m in D.modules() if isinstance(m, torch.nn.Linear)] == [16, 16, 16, 1]
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules())
    assert G(torch.randn(5, 2)).shape == (5, 2)
