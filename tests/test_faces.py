"""The faces and CelebA datasets, and the multi-label attribute classifier trained on them."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gancli.classifiers import TrainSettings, load_classifier, train_classifier
from gancli.data.faces import ATTRIBUTES, load_faces
from gancli.engine.plan import data_choice
from gancli.errors import GancliError
from gancli.plugins import get_registry
from helpers import one_line_error, run


def test_faces_are_seeded_rgb_images_with_four_attributes():
    a, b = load_faces(32, 40, seed=3, correlation=0.6), load_faces(32, 40, seed=3, correlation=0.6)
    assert a.x.shape == (40, 3, 32, 32) and a.x.min() >= -1 and a.x.max() <= 1
    assert a.spec.attribute_names == ATTRIBUTES == ("smiling", "mouth_open", "eyeglasses", "hat")
    assert a.attributes.shape == (40, 4) and set(a.attributes.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(a.x, b.x) and torch.equal(a.attributes, b.attributes)
    assert not torch.equal(a.x, load_faces(32, 40, seed=4, correlation=0.6).x)
    assert load_faces(64, 2, seed=0, correlation=0.6).x.shape == (2, 3, 64, 64)


def test_correlation_ties_an_open_mouth_to_a_smile_and_zero_unties_it():
    def p_open(correlation):
        attributes = load_faces(32, 1500, seed=0, correlation=correlation).attributes
        smiling, open_ = attributes[:, 0] > 0, attributes[:, 1] > 0
        return open_[smiling].float().mean().item(), open_[~smiling].float().mean().item()

    given_smile, given_no_smile = p_open(0.6)
    assert abs(given_smile - 0.8) < 0.05 and abs(given_no_smile - 0.2) < 0.05
    given_smile, given_no_smile = p_open(0.0)
    assert abs(given_smile - 0.5) < 0.06 and abs(given_no_smile - 0.5) < 0.06


def test_each_attribute_changes_the_pixels():
    """The same face drawn with and without each attribute differs where the attribute is drawn."""
    from gancli.data.faces import draw_face

    base = np.array([False, False, False, False])
    plain = draw_face(32, base, np.random.default_rng(5)).astype(int)
    for i in range(4):
        flags = base.copy()
        flags[i] = True
        changed = draw_face(32, flags, np.random.default_rng(5)).astype(int)
        assert np.abs(changed - plain).sum(axis=2).max() > 100, ATTRIBUTES[i]


def test_faces_dataset_through_the_registry_and_bad_options():
    choice = data_choice(get_registry(), "faces", {"n": "8", "correlation": "0"})
    assert choice.build().load().x.shape == (8, 3, 32, 32)
    with pytest.raises(GancliError, match="one of 32, 64"):
        data_choice(get_registry(), "faces", {"size": "48"})
    with pytest.raises(GancliError, match="correlation"):
        data_choice(get_registry(), "faces", {"correlation": "2"})


def fake_celeba(root, count=3, missing=False):
    images = root / "img_align_celeba"
    images.mkdir(parents=True)
    names = ["5_o_Clock_Shadow", "Eyeglasses", "Smiling"]
    lines = [str(count), " ".join(names)]
    for i in range(count):
        name = f"{i + 1:06d}.jpg"
        if not (missing and i == count - 1):
            Image.new("RGB", (178, 218), (40 * i, 100, 200)).save(images / name)
        values = ["1" if (i + j) % 2 else "-1" for j in range(len(names))]
        lines.append(f"{name} " + "  ".join(values))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return names


def test_celeba_reads_the_standard_folder(tmp_path):
    names = fake_celeba(tmp_path / "celeba")
    bundle = data_choice(get_registry(), f"celeba:{tmp_path / 'celeba'}", {"size": "16"}).build().load()
    assert bundle.x.shape == (3, 3, 16, 16) and bundle.spec.attribute_names == tuple(names)
    assert bundle.attributes.tolist()[0] == [0.0, 1.0, 0.0] and bundle.attributes.tolist()[1] == [1.0, 0.0, 1.0]
    limited = data_choice(get_registry(), f"celeba:{tmp_path / 'celeba'}", {"size": "8", "limit": "2"})
    assert len(limited.build().load().x) == 2


def test_celeba_problems_are_one_line_errors(tmp_path):
    fake_celeba(tmp_path / "c", missing=True)
    with pytest.raises(GancliError, match="missing"):
        data_choice(get_registry(), f"celeba:{tmp_path / 'c'}", {}).build().load()
    (tmp_path / "d").mkdir()
    with pytest.raises(GancliError, match="attribute file not found"):
        data_choice(get_registry(), f"celeba:{tmp_path / 'd'}", {}).build().load()
    (tmp_path / "c" / "list_attr_celeba.txt").write_text("2\nA B\n000001.jpg 1 0\n")
    with pytest.raises(GancliError, match="line 3"):
        data_choice(get_registry(), f"celeba:{tmp_path / 'c'}", {}).build().load()


def test_attribute_classifier_reports_held_out_accuracy_per_attribute():
    faces = load_faces(32, 400, seed=0, correlation=0.0)
    settings = TrainSettings(width=8, feature_dim=32, max_steps=150, batch_size=32, lr=3e-3)
    clf = train_classifier(faces.x, faces.attributes, ATTRIBUTES, settings)
    assert clf.info["task"] == "multilabel" and set(clf.info["accuracy_per_name"]) == set(ATTRIBUTES)
    assert clf.accuracy > 0.75, clf.info["accuracy_per_name"]
    logits = clf.differentiable_logits(faces.x[:4].requires_grad_(True))
    assert logits.shape == (4, 4) and logits.requires_grad


def test_classifier_train_command_caches_and_copies(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "faces-attributes.safetensors"
    result = run("classifier", "train", "--data", "faces", "--data-opt", "n=120", "--steps", "5", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["trained_now"] and set(report["accuracy_per_name"]) == set(ATTRIBUTES) and report["members"] == 3
    assert load_classifier(str(out)).names == list(ATTRIBUTES)
    again = run("classifier", "train", "--data", "faces", "--data-opt", "n=120", "--steps", "5")
    assert again.exit_code == 0 and "cached" in again.output and "smiling" in again.output
    assert "average of 3 networks" in again.output
    single = run("classifier", "train", "--data", "faces", "--data-opt", "n=120", "--steps", "5", "--members", "1",
                 "--json")
    assert json.loads(single.output)["trained_now"] and json.loads(single.output)["members"] == 1
    assert not json.loads(single.output)["robust"]
    robust = run("classifier", "train", "--data", "faces", "--data-opt", "n=120", "--steps", "5", "--members", "1",
                 "--robust", "--json")
    report = json.loads(robust.output)
    assert report["trained_now"] and report["robust"] and report["cache"] != json.loads(single.output)["cache"]
    assert load_classifier(report["cache"]).info["settings"]["robust"]
    cached = run("classifier", "train", "--data", "faces", "--data-opt", "n=120", "--steps", "5", "--members", "1",
                 "--robust")
    assert "cached" in cached.output and "robust: trained on blurred and noisy copies" in cached.output
    assert "robust" not in again.output
    one_line_error(run("classifier", "train", "--data", "faces", "--members", "0"), "--members must be at least 1")
    one_line_error(run("classifier", "train", "--data", "digits", "--data-opt", "size=8"), "no attributes")
