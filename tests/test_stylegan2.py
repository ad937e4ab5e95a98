"""The stylegan2 architecture: contract, shapes, conditioning, W space through gancli.latents, mixing, resume, bf16."""

import pytest
import torch
from safetensors.torch import load_file

from gancli.components import DataSpec
from gancli.default_plugins.architectures import StyleGAN2Architecture
from gancli.default_plugins.lipschitz import SpectralNormEnforcer
from gancli.errors import GancliError
from gancli.latents import LatentSpaces
from gancli.nn.stylegan2 import MinibatchStd, StyleGAN2Discriminator, downsample2x, fir_kernel, group_size, upsample2x
from gancli.testing import check_architecture
from helpers import TINY, run

SMALL = {"width": 4, "max_width": 8, "w_dim": 8, "mapping_depth": 2}
DIGITS = tuple(str(i) for i in range(10))
FAST = [*TINY, "--arch-opt", "w_dim=8", "--arch-opt", "mapping_depth=2", "--arch-opt", "max_width=8"]


def build(side=16, channels=1, classes=0, z_dim=6, **options):
    arch = StyleGAN2Architecture(**{**SMALL, **options})
    spec = DataSpec("image", (channels, side, side), DIGITS[:classes] if classes else ())
    torch.manual_seed(0)
    return arch.build_generator(spec, z_dim, classes), arch.build_discriminator(spec, classes)


def with_noise(G, strength=0.5):
    """Noise strengths start at 0 (as in the paper); give them a value so that noise shows."""
    with torch.no_grad():
        for layer in G.synthesis.layers:
            layer.noise_strength.fill_(strength)
    return G


def test_passes_the_architecture_contract():
    check_architecture(StyleGAN2Architecture, SMALL)


@pytest.mark.parametrize("side, ws", [(28, 6), (32, 8), (64, 10)])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_28_32_and_64_pixels(side, ws, channels):
    G, D = build(side, channels)
    with torch.no_grad():
        x = G(torch.randn(5, 6))
    assert x.shape == (5, channels, side, side) and G.num_ws == ws and G.w_dim == 8
    assert float(x.abs().max()) <= 1
    assert D(x).shape == (5,)


def test_widths_double_towards_low_resolutions_up_to_max_width():
    G, D = build(32, width=4, max_width=16)
    convs = [tuple(layer.weight.shape[:2]) for layer in G.synthesis.layers]
    assert convs == [(16, 16), (16, 16), (16, 16), (8, 16), (8, 8), (4, 8), (4, 4)]  # 4x4 .. 32x32
    assert D.fromrgb.weight.shape[0] == 4 and D.fc.weight.shape == (16, 16 * 4 * 4)


def test_sides_that_doubling_cannot_reach_are_one_line_errors():
    with pytest.raises(GancliError, match="stylegan2 needs a square image side"):
        build(27)
    with pytest.raises(GancliError, match="stylegan2 needs square images"):
        StyleGAN2Architecture().build_generator(DataSpec("image", (1, 16, 32)), 8, 0)


def test_conditional_on_int_and_soft_labels():
    G, D = build(classes=3)
    G.eval()
    z, labels = torch.randn(4, 6), torch.tensor([0, 1, 2, 1])
    soft = torch.nn.functional.one_hot(labels, 3).float()
    with torch.no_grad():
        x = G(z, labels)
        assert torch.allclose(x, G(z, soft), atol=1e-6)
        assert not torch.allclose(x, G(z, torch.tensor([1, 2, 0, 0])))
        assert torch.allclose(D(x, labels), D(x, soft), atol=1e-5)
        halfway = G(z, torch.full((4, 3), 1 / 3))
    assert torch.isfinite(halfway).all()
    with pytest.raises(ValueError, match="pass labels"):
        G(z)


def test_w_avg_moves_in_train_mode_only():
    G, _ = build()
    assert torch.equal(G.w_avg, torch.zeros(8))
    G.eval()(torch.randn(8, 6))
    assert torch.equal(G.w_avg, torch.zeros(8))
    z = torch.randn(8, 6)
    G.train()(z)
    w = G.mapping(z, update_w_avg=False)
    assert torch.allclose(G.w_avg, 0.005 * w.detach().mean(0), atol=1e-6)  # lerp towards the mean, beta 0.995
    assert "mapping.w_avg" in G.state_dict()


def test_const_noise_makes_eval_output_deterministic():
    G = with_noise(build()[0]).eval()
    z = torch.randn(3, 6)
    ws = G.mapping(z).unsqueeze(1).repeat(1, G.num_ws, 1)
    with torch.no_grad():
        assert torch.equal(G(z), G(z))
        assert torch.equal(G(z), G.synthesis(ws, "const"))
        assert not torch.allclose(G.synthesis(ws, "random"), G.synthesis(ws, "random"))
        assert not torch.allclose(G.synthesis(ws, "none"), G.synthesis(ws, "const"))
    with pytest.raises(ValueError, match="noise must be one of"):
        G.synthesis(ws, "fixed")
    with pytest.raises(ValueError, match="ws must have shape"):
        G.synthesis(ws[:, :2])


def test_noise_off_makes_the_image_a_function_of_ws_alone():
    G = with_noise(build(noise=False)[0]).train()
    ws = G.mapping(torch.randn(3, 6)).unsqueeze(1).repeat(1, G.num_ws, 1)
    with torch.no_grad():
        images = G.synthesis(ws, "random")
        assert torch.equal(images, G.synthesis(ws, "random"))
        assert torch.equal(images, G.synthesis(ws, "const"))
        assert torch.equal(images, G.synthesis(ws, "none"))
    assert not torch.allclose(images, with_noise(build()[0]).train().synthesis(ws, "random"))


def test_latent_spaces_over_stylegan2():
    G, _ = build(classes=0)
    G = with_noise(G)
    G.train()(torch.randn(64, 6))  # w_avg away from zero
    G.eval()
    spaces = LatentSpaces(G, z_dim=6)
    assert spaces.spaces == ("z", "w", "w+")
    assert spaces.shape("z") == (6,) and spaces.shape("w") == (8,)
    assert spaces.shape("w+") == (6, 8) == (G.num_ws, G.w_dim)
    z = spaces.sample_z(5, seed=3)
    # psi = 0: every z gives the image of w_avg
    with torch.no_grad():
        centre = G.synthesis(G.w_avg.expand(5, G.num_ws, -1), "const")
    truncated = spaces.decode(z, "z", truncation=0.0)
    assert torch.allclose(truncated, centre, atol=1e-6) and torch.allclose(truncated, truncated[:1], atol=1e-6)
    assert not torch.allclose(spaces.decode(z, "z"), truncated)
    # decoding z is decoding its W+ latents
    wplus = spaces.convert(z, "z", "w+")
    assert wplus.shape == (5, 6, 8)
    assert torch.allclose(spaces.decode(z, "z"), spaces.decode(wplus, "w+"), atol=1e-6)
    weights = G.style_weights()
    assert [tuple(m.shape) for m in weights] == [(layer.weight.shape[1], 8) for layer in G.synthesis.layers]
    assert spaces.style_weights().shape == (sum(m.shape[0] for m in weights), 8)


def test_style_mixing_changes_train_mode_output_and_is_off_in_eval():
    mixed = build(mixing=1.0)[0]
    plain = build(mixing=0.0)[0]
    plain.load_state_dict(mixed.state_dict())
    z = torch.randn(4, 6)
    torch.manual_seed(1)
    a = mixed.train()(z, noise="const")
    torch.manual_seed(1)
    b = plain.train()(z, noise="const")
    assert not torch.allclose(a, b)
    with torch.no_grad():
        assert torch.equal(mixed.eval()(z), plain.eval()(z))


def test_style_mixing_draws_the_same_randomness_whether_or_not_it_mixes():
    z = torch.randn(4, 6)
    states = []
    for mixing in (1.0, 1e-9):
        G = build(mixing=mixing)[0].train()
        torch.manual_seed(5)
        G(z, noise="const")
        states.append(torch.get_rng_state())
    assert torch.equal(*states)


def test_resampling_filters():
    x = torch.randn(2, 3, 8, 8)
    up = upsample2x(x, fir_kernel())  # [1, 3, 3, 1] upsampling is bilinear interpolation away from the border
    bilinear = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert up.shape == (2, 3, 16, 16) and torch.allclose(up[..., 1:-1, 1:-1], bilinear[..., 1:-1, 1:-1], atol=1e-6)
    strided = downsample2x(x, fir_kernel())  # float32: a strided convolution; other dtypes: filter, then slice
    sliced = downsample2x(x.double(), fir_kernel().double())
    assert strided.shape == (2, 3, 4, 4) and torch.allclose(strided.double(), sliced, atol=1e-6)
    assert torch.allclose(downsample2x(torch.ones(1, 1, 8, 8), fir_kernel())[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2))


def test_minibatch_std_works_for_every_batch_size():
    assert [group_size(n, 4) for n in (1, 2, 3, 4, 5, 6, 8, 9, 12)] == [1, 2, 3, 4, 1, 3, 4, 3, 4]
    layer = MinibatchStd(4)
    for n in (1, 5, 6, 7, 8):
        out = layer(torch.randn(n, 3, 4, 4))
        assert out.shape == (n, 4, 4, 4) and torch.isfinite(out).all()


def test_mbstd_auto_is_off_when_an_enforcer_needs_per_sample_scores():
    arch = StyleGAN2Architecture(**SMALL)
    spec = DataSpec("image", (1, 16, 16))
    assert arch.build_discriminator(spec, 0, batch_independent=False).mbstd is not None
    assert arch.build_discriminator(spec, 0, batch_independent=True).mbstd is None
    forced = StyleGAN2Architecture(**SMALL, mbstd="on").build_discriminator(spec, 0, batch_independent=True)
    assert forced.mbstd is not None
    assert StyleGAN2Architecture(**SMALL, mbstd="off").build_discriminator(spec, 0).mbstd is None
    D = arch.build_discriminator(spec, 0, batch_independent=False)
    x = torch.randn(8, 1, 16, 16)
    with torch.no_grad():  # with mbstd, a sample's score depends on its group
        assert not torch.allclose(D(x)[:2], D(x[:2]))


def test_spectral_norm_reaches_the_equalised_layers():
    D = StyleGAN2Discriminator((1, 16, 16), 3, width=4, max_width=8)
    D = SpectralNormEnforcer().prepare(D)
    wrapped = [m for m in D.modules() if hasattr(m, "parametrizations")]
    assert len(wrapped) == sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in D.modules())
    assert torch.isfinite(D(torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 0]))).all()


def test_bf16_autocast_and_channels_last():
    G, D = build(32, 3, classes=3)
    G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    labels = torch.tensor([0, 1, 2, 0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = G.train()(torch.randn(4, 6), labels)
        score = D(x, labels)
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.bfloat16 and score.shape == (4,)
    assert torch.isfinite(score.float()).all()
    score.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in G.parameters() if p.grad is not None)
    assert G.w_avg.dtype == torch.float32


def test_trains_through_the_cli_and_samples(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--arch", "stylegan2", "--lipschitz", "r1", "--lipschitz-opt", "interval=2",
                 "--conditional", "--ema", "0.9", "--precision", "bf16", "--steps", 2, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    result = run("sample", out, "-n", 4, "-o", tmp_path / "grid.png", "--truncation", 0.7)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "grid.png").exists()


def test_resume_with_style_mixing_continues_exactly(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--arch", "stylegan2", "--arch-opt", "mixing=0.5", *FAST]
    assert run("train", "--steps", 4, "--out", straight, *common).exit_code == 0
    assert run("train", "--steps", 2, "--out", split, *common).exit_code == 0
    result = run("train", "--resume", split, "--steps", 4)
    assert result.exit_code == 0, result.output
    assert "from step 2" in result.output
    a, b = load_file(str(straight / "generator.safetensors")), load_file(str(split / "generator.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(k.endswith("w_avg") for k in a) and a["G.mapping.w_avg"].abs().sum() > 0


def test_trains_data_parallel_on_two_processes(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone", "-m", "gancli",
               "train", "--arch", "stylegan2", "--arch-opt", "mixing=1", "--steps", 2, "--out", out, *FAST]
    result = subprocess.run([str(a) for a in command], capture_output=True, text=True, timeout=180,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on 2 processes" in result.stderr
    G = load_file(str(out / "generator.safetensors"))
    assert G["G.mapping.w_avg"].abs().sum() > 0
