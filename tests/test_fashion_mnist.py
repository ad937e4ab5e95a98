"""--data fashion-mnist: the Debian package's folder or fashion-mnist:PATH, its splits and class names, one-line
errors for bad files, and evaluation against the test split with a classifier of the train split. The tests write
their own few hundred images as IDX files; none needs the package."""

import json

import numpy as np
import pytest
import torch

import gancli.data.fashion_mnist as fashion
import gancli.testing
from gancli.classifiers import TrainSettings, save_classifier, train_classifier
from gancli.classifiers.store import cache_path
from gancli.default_plugins.datasets import FashionMNISTDataset
from gancli.engine.plan import data_choice
from gancli.metrics.extractors import classifier_key
from gancli.plugins import get_registry
from helpers import one_line_error, run
from test_data_files import idx_bytes, write_idx

TRAIN, TEST = 240, 120


def write_fashion(folder, gzipped=True, train=TRAIN, test=TEST):
    """The four files of Fashion-MNIST's layout; train and test images differ (test pixels are all odd)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n, parity in (("train", train, 0), ("t10k", test, 1)):
        images = rng.integers(0, 128, (n, 28, 28)) * 2 + parity
        labels = np.arange(n) % 10
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, 0x803, gzipped)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, 0x801, gzipped)
    return folder


def load(spec, **options):
    return data_choice(get_registry(), spec, options).build().load()


@pytest.mark.parametrize("gzipped", [True, False])
def test_splits_sizes_and_class_names(tmp_path, gzipped):
    folder = write_fashion(tmp_path / "fm", gzipped)
    train, test = load(f"fashion-mnist:{folder}"), load(f"fashion-mnist:{folder}", split="test")
    assert train.x.shape == (TRAIN, 1, 28, 28) and test.x.shape == (TEST, 1, 28, 28)
    assert train.spec.class_names == fashion.CLASS_NAMES and len(fashion.CLASS_NAMES) == 10
    assert train.spec.class_names[:2] == ("T-shirt/top", "Trouser") and train.spec.class_names[-1] == "Ankle boot"
    assert train.labels.tolist() == [i % 10 for i in range(TRAIN)]
    assert fashion.SPLITS == {"train": 60_000, "test": 10_000}


def test_passes_the_dataset_contract_and_resizes(tmp_path):
    folder = write_fashion(tmp_path / "fm")
    bundle = gancli.testing.check_dataset(FashionMNISTDataset, {"path": str(folder), "size": 8})
    assert bundle.x.shape == (TRAIN, 1, 8, 8)


def test_the_dataset_contract_checks_evaluation_splits(tmp_path):
    class Bad(FashionMNISTDataset):
        def evaluation_splits(self):
            return {"reference": {"split": "validation"}}

    with pytest.raises(gancli.testing.ContractError, match=r"evaluation_splits\(\)\['reference'\]: .*split"):
        gancli.testing.check_dataset(Bad, {"path": str(write_fashion(tmp_path / "fm")), "size": 8})


def test_without_a_path_it_reads_the_debian_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion, "DEBIAN_DIR", str(write_fashion(tmp_path / "usr-share")))
    assert load("fashion-mnist", split="test").x.shape == (TEST, 1, 28, 28)


def test_absent_it_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion, "DEBIAN_DIR", str(tmp_path / "not-installed"))
    result = run("train", "--data", "fashion-mnist", "--steps", 1, "--out", tmp_path / "r")
    one_line_error(result, "Fashion-MNIST is not installed")
    assert "apt-get install dataset-fashion-mnist" in result.output and "fashion-mnist:FOLDER" in result.output
    one_line_error(run("train", "--data", f"fashion-mnist:{tmp_path / 'nope'}", "--steps", 1),
                   "does not exist; install it with `apt-get install dataset-fashion-mnist`")


def train_error(folder, tmp_path, fragment, split="train"):
    one_line_error(run("train", "--data", f"fashion-mnist:{folder}", "--data-opt", f"split={split}", "--steps", 1,
                       "--out", tmp_path / "run"), fragment)


def test_missing_files_name_what_and_how(tmp_path):
    folder = write_fashion(tmp_path / "fm")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    train_error(folder, tmp_path, "Fashion-MNIST files missing", split="test")
    train_error(folder, tmp_path, "apt-get install dataset-fashion-mnist", split="test")
    train_error(folder / "train-images-idx3-ubyte.gz", tmp_path, "takes the folder holding the four IDX files")


def test_truncated_files(tmp_path):
    folder = write_fashion(tmp_path / "fm", gzipped=False)
    images = folder / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    train_error(folder, tmp_path, "train-images-idx3-ubyte is truncated or not an IDX file")
    images.write_bytes(images.read_bytes()[:10])
    train_error(folder, tmp_path, "is truncated: it ends inside its 16-byte header")


def test_truncated_gzip(tmp_path):
    folder = write_fashion(tmp_path / "fm")
    labels = folder / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:30])
    train_error(folder, tmp_path, "train-labels-idx1-ubyte.gz is truncated or not a gzipped IDX file")


def test_wrong_magic_number(tmp_path):
    folder = write_fashion(tmp_path / "fm", gzipped=False)
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros(TRAIN), 0x801))  # a labels file
    train_error(folder, tmp_path, "not an IDX images file (magic number 0x00000801, expected 0x00000803); "
                                  "pass Fashion-MNIST's images file")


def test_labels_and_images_of_different_counts(tmp_path):
    folder = write_fashion(tmp_path / "fm", gzipped=False)
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(TRAIN - 1) % 10, 0x801)
    train_error(folder, tmp_path, f"has {TRAIN} images but")


def test_labels_outside_the_ten_classes(tmp_path):
    folder = write_fashion(tmp_path / "fm", gzipped=False)
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(TRAIN) % 12, 0x801)
    train_error(folder, tmp_path, "has label 11, but Fashion-MNIST has 10 classes")


def test_trains_and_records_its_options(tmp_path):
    folder = write_fashion(tmp_path / "fm")
    out = tmp_path / "run"
    result = run("train", "--data", f"fashion-mnist:{folder}", "--data-opt", "size=8", "--arch-opt", "width=4",
                 "--batch-size", "16", "--steps", 1, "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "run.json").read_text())["data"]
    assert data["name"] == "fashion-mnist" and data["options"] == {"path": str(folder), "split": "train", "size": 8}


def test_evaluation_compares_with_the_test_split_and_classifies_with_the_train_split(tmp_path, monkeypatch):
    """The reference is the test split (evaluation_splits()); the classifier is the train split's: one trained
    quickly here and cached under the train split's key is found, so none is trained on the test split."""
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(tmp_path / "cache"))
    folder = write_fashion(tmp_path / "fm")
    out = tmp_path / "run"
    assert run("train", "--data", f"fashion-mnist:{folder}", "--data-opt", "size=8", "--arch-opt", "width=4",
               "--batch-size", "16", "--steps", 1, "--out", out).exit_code == 0
    train_options = {"path": str(folder), "split": "train", "size": 8}
    bundle = load(f"fashion-mnist:{folder}", size=8)
    key = classifier_key("fashion-mnist", train_options, bundle)
    torch.manual_seed(0)
    quick = train_classifier(bundle.x, bundle.labels, bundle.spec.class_names,
                             TrainSettings(width=8, feature_dim=16, epochs=1))
    quick.info["key"] = key
    save_classifier(cache_path(key, TrainSettings()), quick)

    result = run("evaluate", out, "--metrics", "fid", "--json", "--no-record")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["data"]["options"]["split"] == "test" and report["data"]["real_samples"] == TEST
    assert report["extractor"]["dataset"] == "fashion-mnist" and report["extractor"]["trained_now"] is False
    assert report["samples"]["floor"] == TEST // 2

    again = run("evaluate", out, "--metrics", "fid", "--json", "--no-record", "--data-opt", "split=train")
    assert json.loads(again.output[again.output.index("{"):])["data"]["real_samples"] == TRAIN  # --data-opt wins
