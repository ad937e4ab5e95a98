"""The metric formulas against known answers."""

import math

import numpy as np
import pytest
import scipy.linalg

from gancli.data.mixtures import grid_centres, ring_centres
from gancli.metrics.coverage import class_coverage, digit_factors, kl_to_uniform, mixture_scores
from gancli.metrics.frechet import frechet_between, frechet_distance
from gancli.metrics.kid import kernel_distance, mmd2_unbiased
from gancli.metrics.prdc import density_coverage, knn_radii, precision_recall


def random_covariance(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_of_identical_sets_is_zero():
    x = np.random.default_rng(0).normal(size=(500, 8))
    assert frechet_between(x, x) == pytest.approx(0, abs=1e-8)


def test_frechet_of_shifted_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    s1, s2 = random_covariance(rng, 6), random_covariance(rng, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    # same covariance, shifted mean: the distance is the squared shift
    assert frechet_distance(mu1, s1, mu1 + 3.0, s1) == pytest.approx(9.0 * 6, rel=1e-9)
    # isotropic 1 vs 4: Tr(I + 4I - 2 * 2I) = d
    assert frechet_distance(mu1, np.eye(6), mu1, 4 * np.eye(6)) == pytest.approx(6.0, rel=1e-9)


def test_frechet_from_samples_approaches_the_population_value():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20000, 3))
    b = rng.normal(size=(20000, 3)) * 2 + np.array([1.0, 0, 0])  # population value 1 + 3 * (1 + 4 - 4) = 4
    assert frechet_between(a, b) == pytest.approx(4.0, rel=0.03)


def test_frechet_handles_singular_covariances():
    x = np.random.default_rng(3).normal(size=(50, 2))
    x = np.concatenate([x, np.zeros((50, 3))], axis=1)  # rank 2 of 5
    assert frechet_between(x, x) == pytest.approx(0, abs=1e-8)


def test_unbiased_mmd_by_hand():
    # k(x, y) = (x y + 1)^3 in one dimension: Krr off-diagonal 1, Kff off-diagonal 1, Krf sum 1+1+1+27
    assert mmd2_unbiased(np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]])) == pytest.approx(2 - 2 * 7.5)


def test_kid_is_about_zero_for_the_same_distribution_and_positive_otherwise():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(600, 16)), rng.normal(size=(600, 16))
    mean, std = kernel_distance(a, b, subsets=50, subset_size=300)
    assert abs(mean) < 3 * std / math.sqrt(50) + 1e-3
    shifted_mean, shifted_std = kernel_distance(a, b + 0.5, subsets=50, subset_size=300)
    assert shifted_mean > 20 * shifted_std / math.sqrt(50) and shifted_mean > 0.05


def test_knn_radii_exclude_the_point_itself():
    line = np.array([[0.0, 0], [1, 0], [3, 0], [7, 0]])
    assert knn_radii(line, 1).tolist() == [1, 1, 2, 4]
    assert knn_radii(line, 2).tolist() == [3, 2, 3, 6]


def test_precision_recall_density_coverage_on_constructed_sets():
    real = np.array([[float(i), 0.0] for i in range(10)])  # every 1-NN radius is 1
    fake = np.array([[0.5, 0.0], [100.0, 0.0]])  # one fake between reals 0 and 1, one far away
    precision, recall = precision_recall(real, fake, k=1)
    assert precision == 0.5  # the far fake lies in no real ball
    assert recall == 1.0  # the two fakes are 99.5 apart, so the fake balls cover every real
    density, coverage = density_coverage(real, fake, k=1)
    assert density == 1.0  # two real balls hold the near fake, none the far one: 2 / (1 * 2)
    assert coverage == 0.2  # only the balls of reals 0 and 1 hold a fake


def test_prdc_of_identical_sets_is_perfect():
    x = np.random.default_rng(5).normal(size=(300, 4))
    assert precision_recall(x, x, k=3) == (1.0, 1.0)
    assert density_coverage(x, x, k=5)[1] == 1.0


def test_kl_to_uniform_known_values():
    assert kl_to_uniform(np.array([5, 5, 5, 5])) == 0.0
    assert kl_to_uniform(np.array([1, 1, 0, 0])) == pytest.approx(math.log(2))
    assert kl_to_uniform(np.array([7, 0, 0, 0, 0, 0, 0, 0])) == pytest.approx(math.log(8))
    assert math.isnan(kl_to_uniform(np.zeros(3)))


@pytest.mark.parametrize("centres, std, modes", [(ring_centres(), 0.01, 8), (grid_centres(), 0.05, 25)])
def test_perfect_mixture_sample_covers_every_mode(centres, std, modes):
    rng = np.random.default_rng(6)
    points = np.repeat(centres.numpy(), 100, axis=0) + rng.normal(size=(100 * modes, 2)) * std * 0.5
    scores = mixture_scores(points, centres.numpy(), std)
    assert scores == {"modes": modes, "hq": 1.0, "kl": pytest.approx(0.0, abs=1e-12)}


def test_collapsed_and_off_mode_mixture_samples():
    centres = ring_centres().numpy()
    collapsed = centres[[3]] + np.random.default_rng(7).normal(size=(2500, 2)) * 0.001
    assert mixture_scores(collapsed, centres, 0.01) == {"modes": 1, "hq": 1.0, "kl": pytest.approx(math.log(8))}
    half_off = np.concatenate([centres[[0, 1]], [[0.0, 0.0], [5.0, 5.0]]])  # two on modes, two far from any
    scores = mixture_scores(half_off, centres, 0.01)
    assert scores["modes"] == 2 and scores["hq"] == 0.5 and scores["kl"] == pytest.approx(math.log(4))


def test_a_point_just_beyond_three_std_is_not_high_quality():
    centres = ring_centres().numpy()
    points = centres[[0, 0]] + np.array([[0.0299, 0.0], [0.0301, 0.0]])
    assert mixture_scores(points, centres, 0.01)["hq"] == 0.5


def test_class_coverage_counts_modes_and_kl():
    assert class_coverage(np.arange(1000).repeat(26), 1000) == {"modes": 1000, "kl": 0.0}
    scores = class_coverage(np.array([0, 0, 1, 1]), 1000)
    assert scores["modes"] == 2 and scores["kl"] == pytest.approx(math.log(500))


def test_stacked_kl_splits_into_channel_balance_and_channel_dependence():
    rng = np.random.default_rng(3)
    independent_but_unbalanced = rng.choice(10, size=(20000, 3), p=[0.3] + [0.7 / 9] * 9) @ [100, 10, 1]
    scores = class_coverage(independent_but_unbalanced, 1000, (10, 10, 10))
    assert scores["kl_parts"] == pytest.approx(scores["kl"], abs=0.05) and scores["kl_dependence"] < 0.05
    first = rng.integers(10, size=20000)
    copied = first * 111  # every channel shows the same digit: each channel balanced, the channels dependent
    scores = class_coverage(copied, 1000, (10, 10, 10))
    assert scores["kl_parts"] == pytest.approx(0, abs=0.01)
    assert scores["kl_dependence"] == pytest.approx(2 * math.log(10), abs=0.01)
    for classes in (independent_but_unbalanced, copied, rng.integers(1000, size=500)):
        scores = class_coverage(classes, 1000, (10, 10, 10))
        assert scores["kl_parts"] + scores["kl_dependence"] == pytest.approx(scores["kl"], abs=1e-9)


def test_only_classes_named_by_every_digit_string_factor():
    assert digit_factors([f"{i:03d}" for i in range(1000)]) == (10, 10, 10)
    assert digit_factors([str(i) for i in range(10)]) == ()  # one digit: nothing to split
    assert digit_factors(["T-shirt", "Trouser"]) == () and digit_factors([]) == ()


def test_undefined_figures_are_written_as_json_null():
    import json

    from gancli.metrics.coverage import mixture_scores
    from gancli.metrics.records import json_ready

    far_away = mixture_scores(np.full((5, 2), 100.0), np.zeros((3, 2)), 0.1)
    assert far_away["hq"] == 0 and far_away["kl"] != far_away["kl"]  # NaN: no high-quality point to histogram
    assert json.loads(json.dumps(json_ready({"scores": [far_away]}), allow_nan=False))["scores"][0]["kl"] is None
