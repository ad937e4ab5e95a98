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
