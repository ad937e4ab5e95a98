"""The checkerboard measure: synthetic images with and without a checkerboard, and through gancli evaluate."""

import json

import pytest
import torch
import torch.nn.functional as F

from gancli.metrics.checkerboard import aliasing_region, checkerboard_share
from helpers import TINY, one_line_error, run

N = 16


def grid():
    return torch.meshgrid(torch.arange(N, dtype=torch.float64), torch.arange(N, dtype=torch.float64), indexing="ij")


def blobs(count=8, seed=0):
    """Smooth images: random low-resolution noise resized with bicubic interpolation."""
    low = torch.rand(count, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
    return F.interpolate(low, size=(N, N), mode="bicubic", align_corners=False)


def test_a_pure_checkerboard_and_pure_stripes_are_all_aliasing_energy():
    y, x = grid()
    assert checkerboard_share(((-1.0) ** (y + x)).view(1, 1, N, N)) == pytest.approx(1.0)
    assert checkerboard_share(((-1.0) ** x).view(1, 1, N, N)) == pytest.approx(1.0)  # (0, N/2)
    assert checkerboard_share(((-1.0) ** y).view(1, 1, N, N)) == pytest.approx(1.0)  # (N/2, 0)


def test_smooth_images_have_almost_none_and_a_faint_checkerboard_shows():
    smooth = blobs()
    y, x = grid()
    pattern = ((-1.0) ** (y + x)).float().view(1, 1, N, N)
    clean, faint = checkerboard_share(smooth), checkerboard_share(smooth + 0.05 * pattern)
    assert clean < 1e-3 and faint > 100 * clean


def test_a_constant_offset_does_not_count():
    smooth = blobs()
    assert checkerboard_share(smooth + 3) == pytest.approx(checkerboard_share(smooth), rel=1e-3)  # float32 rounding
    assert checkerboard_share(torch.ones(2, 1, N, N)) == 0.0  # no energy at all once the mean is gone


def test_white_noise_spreads_its_energy_evenly():
    region = aliasing_region(N, N)
    noise = torch.randn(200, 1, N, N, generator=torch.Generator().manual_seed(0))
    assert region.sum() == 27  # three peaks, 3x3 frequencies each
    assert checkerboard_share(noise) == pytest.approx(27 / (N * N - 1), rel=0.1)  # the mean is removed: N*N - 1


def test_zero_insertion_upsampling_leaves_a_checkerboard_that_interpolation_does_not():
    low = blobs(seed=1)[:, :, ::2, ::2]  # 8x8 smooth maps
    zeros = torch.zeros(len(low), 1, N, N)
    zeros[:, :, ::2, ::2] = low  # a stride-2 transposed convolution with a 1x1 kernel
    nearest = F.interpolate(low, scale_factor=2, mode="nearest")
    bilinear = F.interpolate(low, scale_factor=2, mode="bilinear", align_corners=False)
    assert checkerboard_share(zeros) > 0.5
    assert checkerboard_share(nearest) < 0.1 and checkerboard_share(bilinear) < 0.01  # nearest: blocks, faintly


def test_odd_sides_are_refused():
    with pytest.raises(ValueError, match="even image side"):
        checkerboard_share(torch.zeros(1, 1, 7, 7))


def test_evaluate_reports_it_beside_the_real_images_floor(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0
    result = run("evaluate", out, "--metrics", "checkerboard", "-n", 64, "--json", "--no-record")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["values"]) == {"checkerboard"} and 0 <= data["values"]["checkerboard"] <= 1
    assert data["floors"]["checkerboard"] < 0.01  # bicubic-resized real digits


def test_evaluate_refuses_it_on_an_odd_side(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, "--arch", "mlp", "--data-opt", "size=9", "--arch-opt",
               "width=4", "--batch-size", 8).exit_code == 0
    one_line_error(run("evaluate", out, "--metrics", "checkerboard", "-n", 16), "even image side")
