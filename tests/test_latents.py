"""gancli.latents: the one module that owns latent spaces, on a toy style-based generator and a Z-only one."""

import pytest
import torch
from torch import nn

from gancli.errors import GancliError
from gancli.latents import LatentSpaces, check_truncation
from helpers import toy_style_generator


def spaces_of_toy():
    return LatentSpaces(toy_style_generator(z_dim=6, w_dim=5, num_ws=3), 6)


def test_spaces_and_shapes():
    spaces = spaces_of_toy()
    assert spaces.spaces == ("z", "w", "w+") and spaces.has_w
    assert spaces.shape("z") == (6,) and spaces.shape("w") == (5,) and spaces.shape("w+") == (3, 5)
    flat = LatentSpaces(nn.Linear(6, 4), 6)
    assert flat.spaces == ("z",) and not flat.has_w
    with pytest.raises(GancliError, match="--space w needs a generator with a W space"):
        flat.check_space("w")


def test_every_path_to_an_image_agrees():
    spaces = spaces_of_toy()
    z = spaces.sample_z(7, seed=3)
    direct = spaces.generate(z, "z")
    via_w = spaces.generate(spaces.convert(z, "z", "w"), "w")
    via_ws = spaces.generate(spaces.sample(7, 3, "w+"), "w+")
    assert torch.equal(direct, via_w) and torch.equal(direct, via_ws)
    with pytest.raises(GancliError, match="cannot be turned back"):
        spaces.convert(spaces.sample(2, 0, "w"), "w", "z")


def test_truncation_pulls_towards_w_avg_and_the_cutoff_keeps_the_fine_layers():
    spaces = spaces_of_toy()
    G = spaces.G
    w_avg = G.w_avg.expand(4, 3, -1)
    assert torch.allclose(spaces.sample(4, 0, "w+", truncation=0.0), w_avg)
    half = spaces.sample(4, 0, "w+", truncation=0.5)
    full = spaces.sample(4, 0, "w+")
    assert torch.allclose(half, w_avg + 0.5 * (full - w_avg))
    cut = spaces.sample(4, 0, "w+", truncation=0.0, cutoff=1)
    assert torch.allclose(cut[:, 0], w_avg[:, 0]) and torch.equal(cut[:, 1:], full[:, 1:])
    assert torch.allclose(spaces.generate(spaces.sample_z(4, 0), "z", truncation=0.5),
                          spaces.generate(half, "w+"))


def test_truncation_out_of_range_or_on_a_z_only_generator_is_refused():
    spaces = spaces_of_toy()
    for psi in (-1.5, 2.5):
        with pytest.raises(GancliError, match=r"--truncation must be in \[-1, 2\]"):
            spaces.check_truncation(psi)
    with pytest.raises(GancliError, match="--truncation-cutoff must be a layer count in 1..3"):
        spaces.check_truncation(0.7, 4)
    with pytest.raises(GancliError, match="Z space only: drop --truncation"):
        check_truncation(nn.Linear(6, 4), 0.7)
    check_truncation(nn.Linear(6, 4), None)  # no truncation asked: fine everywhere


def test_mixing_takes_the_asked_layers_from_the_other_latents():
    spaces = spaces_of_toy()
    ws, other = spaces.sample(4, 0, "w+"), spaces.sample(4, 1, "w")
    mixed = spaces.mix(ws, other, (1, 3))
    assert torch.equal(mixed[:, 0], ws[:, 0]) and torch.equal(mixed[:, 1], other) and torch.equal(mixed[:, 2], other)
    with pytest.raises(GancliError, match="--mix-layers must be A:B"):
        spaces.mix(ws, other, (2, 5))


def test_scale_is_one_in_z_and_the_rms_std_of_mapped_latents_in_w():
    spaces = spaces_of_toy()
    assert spaces.scale("z") == 1.0
    w = spaces.sample(10_000, 2**31 - 7, "w")
    assert spaces.scale("w") == pytest.approx(float(w.double().var(0).mean().sqrt()))
    assert spaces.scale("w+") == spaces.scale("w")


def test_the_finders_view_is_standardised_and_round_trips():
    spaces = spaces_of_toy()
    view = spaces.view("w+")
    ws = spaces.sample(500, 0, "w+")
    u = view.to_view(ws)
    assert u.shape == (500, 15) and torch.allclose(view.from_view(u), ws, atol=1e-6)
    assert float(u.var(0).mean().sqrt()) == pytest.approx(1.0, rel=0.1)  # a unit step means one std, as in Z
    assert torch.allclose(view.decode(u), spaces.generate(ws, "w+"), atol=1e-6)
    direction = view.direction_to_space(torch.ones(15))
    assert direction.shape == (3, 5) and float(direction.norm()) == pytest.approx(1.0)
    z_view = spaces.view("z")
    z = spaces.sample_z(3, 0)
    assert torch.equal(z_view.to_view(z), z)  # Z is left exactly as it is
