"""Resize-convolution generators (upsample=nearest|bilinear) beside transposed convolutions."""

import json

import pytest
import torch
from torch import nn

from gancli.default_plugins.architectures import DCGANArchitecture, ResNetArchitecture
from gancli.components import DataSpec
from gancli.metrics.checkerboard import checkerboard_share
from gancli.options import resolve
from helpers import TINY, run


def spec(side, channels=1):
    return DataSpec(kind="image", shape=(channels, side, side))


def count(module, kind):
    return sum(isinstance(m, kind) for m in module.modules())


@pytest.mark.parametrize("upsample", ["nearest", "bilinear"])
@pytest.mark.parametrize("layout, side", [("standard", 16), ("standard", 28), ("standard", 32), ("course", 28)])
def test_dcgan_resize_convolutions_replace_every_transposed_one_after_the_first(upsample, layout, side):
    G = DCGANArchitecture(layout=layout, width=4, upsample=upsample).build_generator(spec(side), 8)
    assert count(G, nn.ConvTranspose2d) == 1  # the projection from the 1x1 latent
    assert count(G, nn.Upsample) == count(G, nn.Conv2d) >= 2
    assert all(m.mode == upsample for m in G.modules() if isinstance(m, nn.Upsample))
    assert G(torch.randn(3, 8)).shape == (3, 1, side, side)


@pytest.mark.parametrize("upsample", ["nearest", "bilinear", "transposed"])
def test_resnet_offers_the_same_choice(upsample):
    G = ResNetArchitecture(width=4, upsample=upsample).build_generator(spec(16, 3), 8)
    assert count(G, nn.ConvTranspose2d) == (2 if upsample == "transposed" else 0)
    assert G(torch.randn(2, 8)).shape == (2, 3, 16, 16)


def test_the_defaults_build_the_networks_older_checkpoints_hold():
    """Runs recorded before the option existed resolve to upsample=transposed (dcgan) and nearest (resnet)."""
    assert resolve(DCGANArchitecture.Options, {"width": 4}, "dcgan")["upsample"] == "transposed"
    assert resolve(ResNetArchitecture.Options, {"width": 4}, "resnet")["upsample"] == "nearest"
    G = DCGANArchitecture(width=4).build_generator(spec(16), 8)
    assert count(G, nn.ConvTranspose2d) == 3 and count(G, nn.Upsample) == 0
    assert sorted(G.state_dict()) == sorted(DCGANArchitecture(width=4, upsample="transposed")
                                            .build_generator(spec(16), 8).state_dict())


def test_at_initialisation_transposed_convolutions_already_draw_a_checkerboard():
    torch.manual_seed(0)
    shares = {}
    for upsample in ("transposed", "nearest"):
        G = DCGANArchitecture(width=8, upsample=upsample).build_generator(spec(16), 16)
        with torch.no_grad():
            shares[upsample] = checkerboard_share(G(torch.randn(64, 16)))
    assert shares["transposed"] > 3 * shares["nearest"]


def test_a_resize_convolution_run_trains_samples_and_records_the_option(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 2, "--out", out, "--arch-opt", "upsample=bilinear", *TINY)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["arch"]["options"]["upsample"] == "bilinear"
    assert run("sample", out, "-n", 4, "-o", tmp_path / "grid.png").exit_code == 0
