"""gancli's own classifiers: training with a held-out split, features, saving, loading and the cache."""

from dataclasses import replace

import pytest
import torch

from gancli.classifiers import (Classifier, TrainSettings, cached_classifier, load_classifier, save_classifier,
                                train_classifier)
from gancli.classifiers.store import cache_path
from gancli.errors import GancliError

FAST = TrainSettings(width=4, feature_dim=8, epochs=20, max_steps=80, batch_size=16, lr=1e-2)


def quadrant_images(n=96, seed=0):
    """8x8 images with one bright quadrant: the quadrant (0-3) is the class; two attributes tell top/left."""
    gen = torch.Generator().manual_seed(seed)
    quadrant = torch.randint(4, (n,), generator=gen)
    x = torch.full((n, 1, 8, 8), -1.0) + 0.1 * torch.randn(n, 1, 8, 8, generator=gen)
    for i, q in enumerate(quadrant.tolist()):
        top, left = divmod(q, 2)
        x[i, 0, 4 * top:4 * top + 4, 4 * left:4 * left + 4] += 1.8
    attributes = torch.stack([quadrant // 2, quadrant % 2], dim=1).float()
    return x, quadrant, attributes


def test_multiclass_classifier_learns_and_reports_held_out_accuracy():
    x, classes, _ = quadrant_images()
    clf = train_classifier(x, classes, ["a", "b", "c", "d"], FAST)
    assert clf.info["task"] == "multiclass" and clf.info["n_holdout"] == 19 and clf.info["n_train"] == 77
    assert clf.accuracy >= 0.9
    assert clf.features(x).shape == (96, 8)
    assert clf.predict(x).shape == (96,) and (clf.predict(x) == classes).float().mean() >= 0.9
    probabilities = clf.probabilities(x)
    assert torch.allclose(probabilities.sum(1), torch.ones(96), atol=1e-5)


def test_multilabel_classifier_predicts_each_attribute():
    x, _, attributes = quadrant_images()
    clf = train_classifier(x, attributes, ["bottom", "right"], FAST)
    assert clf.info["task"] == "multilabel"
    assert clf.predict(x).dtype == torch.bool and clf.predict(x).shape == (96, 2)
    assert clf.accuracy >= 0.9
    assert ((clf.probabilities(x) >= 0) & (clf.probabilities(x) <= 1)).all()


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    x, classes, _ = quadrant_images()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = train_classifier(x, classes, list("abcd"), FAST)
    assert torch.equal(torch.get_rng_state(), before)
    b = train_classifier(x, classes, list("abcd"), FAST)
    assert torch.equal(a.features(x), b.features(x))


def test_save_and_load_round_trip(tmp_path):
    x, classes, _ = quadrant_images()
    clf = train_classifier(x, classes, list("abcd"), FAST)
    save_classifier(str(tmp_path / "c.safetensors"), clf)
    loaded = load_classifier(str(tmp_path / "c.safetensors"))
    assert isinstance(loaded, Classifier) and loaded.info["accuracy"] == clf.info["accuracy"]
    assert torch.equal(loaded.features(x), clf.features(x))
    with pytest.raises(ValueError, match="shape"):
        loaded.features(torch.zeros(2, 3, 8, 8))


def test_cache_trains_once_per_key_and_replaces_a_damaged_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(tmp_path / "cache"))
    x, classes, _ = quadrant_images()
    loads = []

    def load_data():
        loads.append(1)
        return x, classes, list("abcd")

    key = {"name": "quadrants", "options": {"size": 8}, "shape": [1, 8, 8]}
    first, path, trained = cached_classifier(key, load_data, FAST)
    assert trained and path.startswith(str(tmp_path / "cache")) and len(loads) == 1
    again, same_path, trained = cached_classifier(key, load_data, FAST)
    assert not trained and same_path == path and len(loads) == 1
    assert torch.equal(again.features(x), first.features(x))
    other = cache_path({**key, "options": {"size": 16}}, FAST)
    assert other != path and cache_path(key, TrainSettings()) != path
    with open(path, "wb") as fh:
        fh.write(b"not a safetensors file")
    _, _, trained = cached_classifier(key, load_data, FAST)
    assert trained and len(loads) == 2


def test_an_ensemble_averages_its_members_and_its_first_member_is_the_single_network(tmp_path):
    x, _, attributes = quadrant_images()
    single = train_classifier(x, attributes, ["bottom", "right"], FAST)
    ensemble = train_classifier(x, attributes, ["bottom", "right"], replace(FAST, members=3))
    members = ensemble.net.members
    assert ensemble.info["members"] == 3 and len(ensemble.info["member_accuracy"]) == 3
    assert all(torch.equal(a, b) for a, b in zip(single.net.state_dict().values(), members[0].state_dict().values()))
    assert not torch.equal(members[0].head.weight, members[1].head.weight)  # seeded apart
    one_by_one = torch.stack([Classifier(m, single.info).logits(x) for m in members])
    assert torch.allclose(ensemble.logits(x), one_by_one.mean(0), atol=1e-6)
    assert ensemble.feature_dim == 24 and ensemble.features(x).shape == (96, 24)
    assert ensemble.accuracy >= 0.9
    save_classifier(str(tmp_path / "e.safetensors"), ensemble)
    loaded = load_classifier(str(tmp_path / "e.safetensors"))
    assert torch.equal(loaded.logits(x), ensemble.logits(x))
    assert cache_path({"name": "q"}, FAST) != cache_path({"name": "q"}, replace(FAST, members=3))
    with pytest.raises(GancliError, match="at least 1 member"):
        train_classifier(x, attributes, ["bottom", "right"], replace(FAST, members=0))


def test_bad_training_data_is_refused():
    x, classes, _ = quadrant_images()
    with pytest.raises(GancliError, match="too small"):
        train_classifier(torch.zeros(10, 1, 2, 2), classes[:10], list("abcd"), FAST)
    with pytest.raises(GancliError, match="labels"):
        train_classifier(x, classes[:5], list("abcd"), FAST)
    with pytest.raises(GancliError, match="at least 2 classes"):
        train_classifier(x, torch.zeros(96, dtype=torch.int64), ["only"], FAST)


def test_a_robust_classifier_keeps_reading_digits_through_blur():
    from gancli.classifiers.train import _corrupt, box_blur as blur
    from gancli.data.digits import load_digits

    digits = load_digits(8)
    quick = dict(width=8, feature_dim=32, max_steps=300, batch_size=32, lr=3e-3)
    plain = train_classifier(digits.x, digits.labels, digits.spec.class_names, TrainSettings(**quick))
    robust = train_classifier(digits.x, digits.labels, digits.spec.class_names, TrainSettings(**quick, robust=True))
    assert robust.info["settings"]["robust"] and robust.accuracy >= 0.85  # still right on clean digits

    def accuracy(clf):  # twice blurred: more than the training corruptions, which blur once
        return float((clf.predict(blur(blur(digits.x))) == digits.labels).float().mean())

    assert accuracy(robust) > accuracy(plain) + 0.3
    corrupted = _corrupt(digits.x[:64])
    assert corrupted.shape == (64, 1, 8, 8) and corrupted.min() >= -1 and corrupted.max() <= 1
    assert not torch.equal(corrupted, digits.x[:64])
    assert cache_path({"name": "d"}, TrainSettings(robust=True)) != cache_path({"name": "d"}, TrainSettings())


# ---- balanced attribute classifiers -------------------------------------------------------------------

def correlated_attributes(n=4000, correlation=0.8, seed=0):
    """(n, 3) 0/1: a fair, b tied to a (P(b | a) = (1 + c) / 2, P(b | not a) = (1 - c) / 2), c independent at 0.3."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.rand(n, generator=gen) < 0.5
    b = torch.rand(n, generator=gen) < torch.where(a, (1 + correlation) / 2, (1 - correlation) / 2)
    c = torch.rand(n, generator=gen) < 0.3
    return torch.stack([a, b, c], 1).float()


def test_balancing_makes_strongly_correlated_attributes_independent_with_their_margins_kept():
    from gancli.classifiers.balance import balance_weights, weighted_correlation

    x = correlated_attributes()
    assert weighted_correlation(x)[0, 1] > 0.75
    weights, report = balance_weights(x)
    corr = weighted_correlation(x, weights)
    assert corr[0, 1].abs() < 0.01 and corr[0, 2].abs() < 0.01 and corr[1, 2].abs() < 0.01
    assert torch.allclose((weights[:, None] * x).mean(0), x.mean(0), atol=1e-3)  # frequencies kept
    assert abs(float(weights.mean()) - 1) < 1e-4 and (weights > 0).all()
    assert report.max_abs_correlation_before > 0.75 and report.max_abs_correlation_after < 0.01
    assert report.clipped == 0 and 0.2 < report.effective_sample_fraction < 1
    # The weights are what each 2x2 cell needs: P(a) P(b) / P(a, b), the rare disagreeing cells weighed up.
    rare = (x[:, 0] == 1) & (x[:, 1] == 0)
    assert float(weights[rare].mean()) > 4 * float(weights[~rare & (x[:, 0] == 1)].mean())


def test_balancing_many_attributes_with_an_empty_cell_stays_bounded():
    """CelebA-like: 12 attributes, several pairs correlated, one pair never seen together; the cap holds and
    every correlation that can be removed is reduced."""
    from gancli.classifiers.balance import balance_weights, weighted_correlation

    gen = torch.Generator().manual_seed(1)
    n = 3000
    factors = torch.randn(n, 3, generator=gen)
    x = (factors @ torch.randn(3, 12, generator=gen) + torch.linspace(-1.5, 0.5, 12)
         + torch.randn(n, 12, generator=gen) > 0).float()
    x[:, 11] = x[:, 11] * (1 - x[:, 10])  # attributes 10 and 11 never together: their independence is infeasible
    weights, report = balance_weights(x, max_weight=10.0)
    assert float(weights.max()) <= 10.0 + 1e-4 and abs(float(weights.mean()) - 1) < 1e-4
    before, after = weighted_correlation(x).abs(), weighted_correlation(x, weights).abs()
    off = ~torch.eye(12, dtype=torch.bool)
    off[10, 11] = off[11, 10] = False
    assert float(after[off].mean()) < 0.5 * float(before[off].mean())
    assert report.max_abs_correlation_after < report.max_abs_correlation_before
    assert report.as_json()["method"].startswith("pairwise entropy balancing")


def hidden_attribute_images(n=600, seed=0):
    """8x8 images: attribute a lights the top-left quadrant, b the bottom-right one, but b's quadrant is
    covered (uniform grey) in half the images; b follows a 90% of the time. Where b cannot be seen, a
    classifier that learned the correlation reads b from a."""
    attributes = correlated_attributes(n, correlation=0.8, seed=seed)[:, :2]
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.full((n, 1, 8, 8), -1.0) + 0.05 * torch.randn(n, 1, 8, 8, generator=gen)
    x[:, 0, :4, :4] += 1.8 * attributes[:, 0, None, None]
    x[:, 0, 4:, 4:] += 1.8 * attributes[:, 1, None, None]
    hidden = torch.arange(n) % 2 == 1
    x[hidden, 0, 4:, 4:] = 0.0
    return x, attributes, hidden


def test_a_balanced_classifier_does_not_read_one_attribute_from_a_correlated_one():
    x, attributes, hidden = hidden_attribute_images()
    settings = replace(FAST, max_steps=150, holdout=0.1)
    plain = train_classifier(x, attributes, ["a", "b"], settings)
    balanced = train_classifier(x, attributes, ["a", "b"], replace(settings, balance=True))
    assert not plain.info["balanced"] and "balance" not in plain.info
    assert balanced.info["balanced"] and balanced.info["balance"]["max_abs_correlation_after"] < 0.02
    assert balanced.info["settings"]["balance"] is True

    def p_b_given_a(clf):  # on images whose b cannot be seen: P(b) with a shown minus without
        p = clf.probabilities(x[hidden])[:, 1]
        a = attributes[hidden, 0] > 0.5
        return float(p[a].mean() - p[~a].mean())

    assert p_b_given_a(plain) > 0.5  # learned the correlation (the data's own gap is 0.8)
    assert abs(p_b_given_a(balanced)) < 0.3  # seeds 0-3 measured -0.14 to 0.17 (plain: 0.62 to 0.85)
    assert balanced.info["accuracy_per_name"]["a"] > 0.9


def test_balancing_is_for_attribute_classifiers_and_changes_the_cache_key():
    from gancli.classifiers.attributes import ATTRIBUTE_SETTINGS

    x, classes, attributes = quadrant_images()
    with pytest.raises(GancliError, match="class classifier"):
        train_classifier(x, classes, list("abcd"), replace(FAST, balance=True))
    assert ATTRIBUTE_SETTINGS.balance  # editing's default classifier is balanced
    key = {"name": "faces", "task": "attributes", "options": {"size": 32}, "shape": [3, 32, 32]}
    unbalanced = replace(ATTRIBUTE_SETTINGS, balance=False)
    assert cache_path(key, ATTRIBUTE_SETTINGS) != cache_path(key, unbalanced)
    assert "balance" not in unbalanced.as_json()  # files cached before balancing existed keep their names


def test_a_cached_unbalanced_classifier_is_not_reused_as_a_balanced_one(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(tmp_path / "cache"))
    x, _, attributes = quadrant_images()
    key = {"name": "quadrants", "task": "attributes", "shape": [1, 8, 8]}
    plain, plain_path, trained = cached_classifier(key, lambda: (x, attributes, ["bottom", "right"]), FAST)
    assert trained and not plain.info["balanced"]
    settings = replace(FAST, balance=True, members=2)
    balanced, path, trained = cached_classifier(key, lambda: (x, attributes, ["bottom", "right"]), settings)
    assert trained and path != plain_path and balanced.info["balanced"] and balanced.info["members"] == 2
    loaded = load_classifier(path)  # the balance report travels with the file
    assert loaded.info["balance"] == balanced.info["balance"] and loaded.info["settings"]["balance"]
    _, again, trained = cached_classifier(key, lambda: (x, attributes, ["bottom", "right"]), settings)
    assert not trained and again == path


def test_classifier_train_balances_by_default_and_records_it(tmp_path, monkeypatch):
    import json

    from helpers import one_line_error, run

    monkeypatch.setenv("GANCLI_CACHE_DIR", str(tmp_path / "cache"))
    args = ["classifier", "train", "--data", "faces", "--data-opt", "n=80", "--steps", "3", "--members", "1"]
    balanced = run(*args, "--json")
    assert balanced.exit_code == 0, balanced.output
    report = json.loads(balanced.output)
    assert report["balanced"] and report["balance"]["max_abs_correlation_after"] < 0.02
    assert load_classifier(report["cache"]).info["balanced"]
    plain = run(*args, "--no-balance", "--json")
    assert plain.exit_code == 0, plain.output
    assert not json.loads(plain.output)["balanced"] and json.loads(plain.output)["cache"] != report["cache"]
    text = run(*args)
    assert text.exit_code == 0 and "cached" in text.output and "balanced: largest pairwise" in text.output
    capped = run(*args, "--balance-max-weight", "3", "--json")
    assert json.loads(capped.output)["cache"] != report["cache"]
    assert load_classifier(json.loads(capped.output)["cache"]).info["settings"]["balance_max_weight"] == 3
    one_line_error(run(*args, "--balance-max-weight", "0.5"), "--balance-max-weight must be above 1")


def test_the_independent_judge_shares_no_seed_and_no_correlation_with_what_it_judges():
    import json
    import os

    from gancli.classifiers.attributes import ATTRIBUTE_SETTINGS
    from gancli.classifiers.judge import JUDGE_DATA, JUDGE_SETTINGS, JUDGE_TEST
    from gancli.pretrained import ROOT

    with open(os.path.join(ROOT, "faces", "run.json")) as fh:
        generator_data = json.load(fh)["data"]["options"]
    climbed = {ATTRIBUTE_SETTINGS.seed + 1000 * k for k in range(ATTRIBUTE_SETTINGS.members)}
    old_judges = {1, 2}
    assert JUDGE_DATA["correlation"] == 0 and JUDGE_TEST["correlation"] == 0
    assert len({JUDGE_DATA["seed"], JUDGE_TEST["seed"], generator_data["seed"]}) == 3
    assert JUDGE_SETTINGS.seed not in climbed | old_judges and JUDGE_SETTINGS.members == 1
    assert not JUDGE_SETTINGS.balance  # independent by drawing, not by weights
