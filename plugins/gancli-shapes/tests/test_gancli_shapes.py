"""gancli-shapes' tests: the contract checks, what the images hold, and conditional training on them."""

import json

import torch

import gancli.testing
import gancli_shapes
from gancli_shapes.draw import draw_shapes

TINY = ["--steps", 2, "--batch-size", 8, "--arch-opt", "width=4", "--log-every", 1]


def test_plugin_passes_the_contract_checks():
    plugin = gancli.testing.check_plugin(gancli_shapes, options={"shapes": {"n": 30, "size": 16}})
    assert plugin.components == [("dataset", "shapes")]


def test_colour_images_pass_the_dataset_checks():
    bundle = gancli.testing.check_dataset(gancli_shapes.ShapesDataset, {"n": 30, "size": 16, "color": True})
    assert bundle.spec.shape == (3, 16, 16) and bundle.spec.class_names == ("circle", "square", "triangle")


def test_classes_are_balanced_and_seeds_differ():
    images, labels = draw_shapes(300, 16, False, seed=0)
    assert torch.bincount(torch.from_numpy(labels)).tolist() == [100, 100, 100]
    assert not (draw_shapes(300, 16, False, seed=1)[0] == images).all()


def test_each_shape_covers_the_area_its_formula_gives():
    """One large unrotated shape of each kind, centred: its pixel coverage matches its geometric area."""
    import numpy as np

    from gancli_shapes.draw import _coverage

    size, r = 256, 0.6
    labels, radius = np.array([0, 1, 2]), np.full(3, r)
    coverage = _coverage(labels, radius, np.zeros((3, 2)), np.zeros(3), size)
    area = coverage.sum(axis=(1, 2)) * (2 / size) ** 2  # the frame is [-1, 1]^2
    side = 2 * 0.95 * r
    expected = [np.pi * r ** 2, (2 * 0.8 * r) ** 2, np.sqrt(3) / 4 * side ** 2]
    assert np.allclose(area, expected, rtol=0.01), (area, expected)


def test_installed_entry_point_trains_a_conditional_model(tmp_path):
    """Through the real entry point: what `pip install gancli-shapes` gives a user."""
    with gancli.testing.installed_plugins():
        result = gancli.testing.run_cli("train", "--data", "shapes", "--data-opt", "n=64", "--data-opt", "size=16",
                                        "--conditional", "--out", tmp_path / "run", *TINY)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "run" / "run.json").read_text())["data"]
    assert data["name"] == "shapes" and data["distribution"] == "gancli-shapes"
