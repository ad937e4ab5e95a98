"""gancli evaluate and gancli report, end to end on tiny runs (digits at 8x8, the 2-D ring)."""

import json
import types

import pytest
import torch

import gancli
from gancli.classifiers import TrainSettings, load_classifier, save_classifier, train_classifier
from gancli.classifiers.store import cache_path
from gancli.data.digits import load_digits
from gancli.default_plugins.metrics import ClassCoverageMetric
from gancli.data.stacked import load_stacked_digits
from gancli.metrics.extractors import ChannelExtractor, classifier_key
from gancli.plugins import build_registry, reset_registry
from helpers import one_line_error, run

SMALL = ["--data-opt", "size=8", "--arch-opt", "width=4", "--batch-size", "16", "--log-every", "1"]

DIGITS_8 = {"size": 8, "fraction": 1.0, "subset_seed": 0}  # the digits options evaluate resolves (all of them)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """One classifier cache for the session, holding quickly trained 8x8 digits classifiers (plain: features;
    robust: the class judge) where evaluate looks for them (the full recipe takes too long for a test;
    test_classifiers covers training on a miss)."""
    cache = tmp_path_factory.mktemp("gancli-cache")
    bundle = load_digits(8)
    key = classifier_key("digits", DIGITS_8, bundle)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads collapse when another process holds a core
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GANCLI_CACHE_DIR", str(cache))
            for robust in (False, True):
                quick = TrainSettings(width=16, feature_dim=64, epochs=15, robust=robust)
                classifier = train_classifier(bundle.x, bundle.labels, bundle.spec.class_names, quick)
                classifier.info["key"] = key
                save_classifier(cache_path(key, TrainSettings(robust=robust)), classifier)
    finally:
        torch.set_num_threads(threads)
    return cache


@pytest.fixture(autouse=True)
def cache(shared_cache, monkeypatch):
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(shared_cache))
    return shared_cache


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits"
    result = run("train", "--steps", 4, "--checkpoint-every", 2, "--out", out, *SMALL)
    assert result.exit_code == 0, result.output
    return out


def evaluate_json(*args):
    result = run("evaluate", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{"):])


def test_default_evaluation_reports_every_figure_beside_its_floor_and_names_the_extractor(digits_run):
    result = evaluate_json(digits_run)
    assert result["metrics"] == ["fid", "kid", "modes", "prdc"]
    assert set(result["values"]) == {"fid", "kid", "kid_std", "modes", "kl", "precision", "recall", "density",
                                     "coverage"}
    assert result["floors"].keys() == result["values"].keys()
    assert result["samples"] == {"generated": 898, "floor": 898, "features": 898}  # half of 1,797 digits
    assert result["data"] == {"name": "digits", "options": DIGITS_8, "shape": [1, 8, 8], "real_samples": 1797}
    extractor = result["extractor"]
    assert extractor["type"] == "classifier" and "digits classifier" in extractor["name"]
    assert extractor["accuracy"] >= 0.9 and extractor["n_holdout"] == 359 and not extractor["trained_now"]
    assert result["floors"]["fid"] < result["values"]["fid"]  # 4 training steps are far from the data
    assert result["floors"]["modes"] == 10 and 0 <= result["floors"]["kl"] < 0.05
    assert result["generator"]["step"] == 4 and result["generator"]["type"] == "checkpoint"
    recorded = (digits_run / "evaluations.jsonl").read_text().splitlines()
    assert json.loads(recorded[-1])["values"] == result["values"]


def test_table_output_and_the_cache_is_reused(digits_run, cache):
    run("evaluate", digits_run, "--metrics", "modes", "--no-record")  # make sure the classifier exists
    files = sorted((cache / "classifiers").iterdir())
    result = run("evaluate", digits_run, "--metrics", "fid,modes", "-n", 300, "--seed", 3, "--no-record")
    assert result.exit_code == 0, result.output
    assert "training gancli's classifier" not in result.output
    assert sorted((cache / "classifiers").iterdir()) == files
    for word in ("fid", "modes", "floor", "extractor: gancli digits classifier", "generated 300"):
        assert word in result.output
    assert load_classifier(str(files[0])).info["key"]["name"] == "digits"


def test_classes_come_from_the_robust_judge_and_features_from_the_plain_classifier(digits_run):
    result = evaluate_json(digits_run, "--metrics", "fid,modes", "-n", 300, "--no-record")
    assert result["classifier"]["robust"] and "classifier, robust" in result["classifier"]["name"]
    assert not result["extractor"]["robust"] and result["extractor"]["file"] != result["classifier"]["file"]
    plain = evaluate_json(digits_run, "--metrics", "fid,modes", "-n", 300, "--no-record", "--judge", "plain")
    assert plain["classifier"] == plain["extractor"] == result["extractor"]
    assert plain["values"]["fid"] == result["values"]["fid"]  # the judge never changes the features


def test_same_seed_same_figures_and_another_seed_differs(digits_run):
    args = (digits_run, "--metrics", "fid", "-n", 200, "--no-record")
    first, again = evaluate_json(*args), evaluate_json(*args)
    other = evaluate_json(*args, "--seed", 5)
    assert first["values"] == again["values"] and first["values"] != other["values"]
    assert first["floors"] == other["floors"]  # the real halves do not depend on --seed


def test_shape_mismatch_is_one_clear_line(digits_run):
    result = run("evaluate", digits_run, "--data", "digits", "--data-opt", "size=16")
    one_line_error(result, "the generator makes image of shape (1, 8, 8) but dataset \"digits\" gives image of "
                           "shape (1, 16, 16)")


def test_too_few_samples_for_kid(digits_run):
    one_line_error(run("evaluate", digits_run, "--metrics", "kid", "-n", 50), "KID needs at least 100 samples")
    one_line_error(run("evaluate", digits_run, "--metrics", "kid", "--metric-opt", "kid.subset_size=5000"),
                   "larger than the 898 samples")


def test_missing_inception_weights_and_bad_extractor_files(digits_run, tmp_path):
    one_line_error(run("evaluate", digits_run, "--inception", tmp_path / "inception-2015-12-05.pt"),
                   "Inception weights file")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not torchscript")
    one_line_error(run("evaluate", digits_run, "--extractor", junk, "--metrics", "fid"), "is not a TorchScript module")


def test_metric_choice_errors(digits_run):
    one_line_error(run("evaluate", digits_run, "--metrics", "fdi"), "unknown metric 'fdi'")
    one_line_error(run("evaluate", digits_run, "--metrics", "class-accuracy"), "the generator is unconditional")
    one_line_error(run("evaluate", digits_run, "--metrics", "mixture"), "handles points data")
    one_line_error(run("evaluate", digits_run, "--metric-opt", "kid.subsetz=3"), "has no option 'subsetz'")


class MeanFeatures(torch.nn.Module):
    """A stand-in extractor: per-row statistics of the image."""

    def forward(self, x):
        return torch.cat([x.mean(dim=(1, 3)), x.std(dim=(1, 3))], dim=1)


class FakeInception(torch.nn.Module):
    """The calling convention of NVIDIA's Inception file: RGB pixels in 0..255 and return_features=True."""

    def forward(self, x, return_features: bool = False):
        assert return_features and x.shape[1] == 3 and float(x.min()) >= 0 and float(x.max()) <= 255
        assert torch.equal(x, x.round())
        return x.mean(dim=(2, 3)) / 255


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_extractors_are_used_and_named(digits_run, tmp_path):
    for module, flag, kind in ((MeanFeatures(), "--extractor", "torchscript"),
                               (FakeInception(), "--inception", "inception")):
        path = tmp_path / f"{kind}.pt"
        torch.jit.save(torch.jit.script(module), str(path))
        result = evaluate_json(digits_run, flag, path, "--metrics", "fid,modes", "--no-record")
        assert result["extractor"]["type"] == kind and str(path) in result["extractor"]["name"]
        assert result["classifier"]["type"] == "classifier"  # modes still need gancli's classifier
        assert result["values"]["fid"] >= 0


def test_conditional_run_gets_class_accuracy(tmp_path):
    out = tmp_path / "cond"
    assert run("train", "--conditional", "--steps", 2, "--out", out, *SMALL).exit_code == 0
    result = evaluate_json(out, "--metrics", "class-accuracy,modes")
    assert 0 <= result["values"]["class_accuracy"] <= 1
    assert result["floors"]["class_accuracy"] >= 0.9  # real half B with its true labels
    assert result["values"]["modes"] <= 10


def test_ring_run_is_scored_by_the_mixture_protocol(tmp_path):
    out = tmp_path / "ring"
    args = ["--arch", "mlp", "--data", "ring", "--data-opt", "n=6000", "--arch-opt", "width=8", "--steps", 3,
            "--batch-size", 32]
    assert run("train", *args, "--out", out).exit_code == 0
    result = evaluate_json(out)
    assert result["metrics"] == ["mixture"] and result["samples"]["generated"] == 2500
    assert set(result["values"]) == {"modes", "hq_percent", "kl"}
    assert result["floors"]["modes"] == 8 and result["floors"]["hq_percent"] > 99
    assert result["floors"]["kl"] < 0.01
    assert "extractor" not in result
    points = evaluate_json(out, "--metrics", "fid", "--no-record")
    assert points["extractor"]["type"] == "points"


def test_stacked_digits_data_and_per_channel_classes(cache):
    bundle = load_stacked_digits(size=8, n=600, seed=1)
    assert bundle.x.shape == (600, 3, 8, 8) and bundle.spec.num_classes == 1000
    digits = torch.stack([bundle.labels // 100, bundle.labels // 10 % 10, bundle.labels % 10], dim=1)
    registry = build_registry(third_party=False)
    from gancli.metrics.extractors import classifier_extractor

    dataset = registry.get("dataset", "stacked-digits").cls(size=8, n=600, seed=1)
    extractor = classifier_extractor(registry, "stacked-digits", {"size": 8, "n": 600, "seed": 1}, dataset, bundle)
    assert isinstance(extractor, ChannelExtractor) and extractor.info["per_channel"]
    assert extractor.info["dataset"] == "digits"
    classes = torch.from_numpy(extractor.classes(bundle.x))
    assert (classes == bundle.labels).float().mean() > 0.85  # three digits right at once
    first_digit = torch.from_numpy(extractor.classes(bundle.x)) // 100
    assert (first_digit == digits[:, 0]).float().mean() > 0.95
    assert extractor.features(bundle.x[:5]).shape == (5, 3 * extractor.classifier.feature_dim)


def test_stacked_run_counts_modes_out_of_1000(tmp_path):
    out = tmp_path / "stacked"
    args = ["--data", "stacked-digits", "--data-opt", "size=8", "--data-opt", "n=1200", "--arch-opt", "width=4",
            "--steps", 2, "--batch-size", 16]
    assert run("train", *args, "--out", out).exit_code == 0
    result = evaluate_json(out, "--metrics", "modes", "-n", 2600)
    assert result["samples"] == {"generated": 2600, "floor": 600, "features": None}
    assert 1 <= result["values"]["modes"] <= 1000 and result["floors"]["modes"] <= 600
    values = result["values"]
    assert values["kl_parts"] + values["kl_dependence"] == pytest.approx(values["kl"], abs=1e-6)
    assert "per channel" in result["classifier"]["name"]
    setting = gancli.EvalSetting("stacked-digits", {}, load_stacked_digits(8, 1, 0).spec)
    assert ClassCoverageMetric().samples_wanted(setting) == 26000  # the protocol's sample count by default


def test_all_checkpoints_then_report_draws_pngs(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 4, "--checkpoint-every", 2, "--out", out, *SMALL).exit_code == 0
    result = evaluate_json(out, "--all-checkpoints", "--metrics", "fid,modes", "-n", 200)
    assert [e["generator"]["step"] for e in result["evaluations"]] == [2, 4]
    assert len((out / "evaluations.jsonl").read_text().splitlines()) == 2
    report = run("report", out)
    assert report.exit_code == 0, report.output
    from PIL import Image

    for name in ("losses.png", "metrics.png"):
        with Image.open(out / "report" / name) as image:
            assert image.format == "PNG" and image.size[0] >= 500


def test_report_without_evaluations_says_how_to_get_them(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 2, "--out", out, *SMALL).exit_code == 0
    result = run("report", out, "-o", tmp_path / "figures")
    assert result.exit_code == 0 and "gancli evaluate" in result.output
    assert (tmp_path / "figures" / "losses.png").is_file() and not (tmp_path / "figures" / "metrics.png").exists()
    one_line_error(run("report", tmp_path), "not a gancli run directory")


class MeanPixelMetric(gancli.Metric):
    """Mean pixel value of the samples (a third party's metric)."""

    needs = ("samples",)
    default_for = ()

    def compute(self, inputs):
        return {"mean_pixel": float(inputs.fake.mean())}


def test_a_plugin_metric_runs_with_its_floor(digits_run):
    plugin = types.SimpleNamespace(register_metrics=gancli.hookimpl(
        lambda register: register("mean-pixel", MeanPixelMetric)))
    reset_registry(build_registry(extra_plugins=[("pixels", plugin)], third_party=False))
    result = evaluate_json(digits_run, "--metrics", "mean-pixel", "--no-record")
    assert result["metrics"] == ["mean-pixel"] and -1 <= result["values"]["mean_pixel"] <= 1
    assert -1 <= result["floors"]["mean_pixel"] <= 1
    listing = run("list", "metrics", "--json")
    assert "mean-pixel" in listing.output


def test_evaluating_an_exported_onnx_file_matches_the_checkpoint(digits_run, tmp_path):
    pytest.importorskip("onnxruntime")
    onnx_file = tmp_path / "g.onnx"
    exported = run("export", digits_run, "--onnx", onnx_file)
    assert exported.exit_code == 0, exported.output
    one_line_error(run("evaluate", onnx_file, "--metrics", "fid"), "pass --data NAME")
    args = ("--data", "digits", "--data-opt", "size=8", "--metrics", "fid,modes", "-n", 300, "--no-record")
    from_onnx, from_checkpoint = evaluate_json(onnx_file, *args), evaluate_json(digits_run, *args)
    assert from_onnx["generator"]["type"] == "onnx"
    assert from_onnx["values"]["modes"] == from_checkpoint["values"]["modes"]
    assert from_onnx["values"]["fid"] == pytest.approx(from_checkpoint["values"]["fid"], rel=1e-3)


def test_checkpoints_of_an_ema_run_are_measured_with_the_averaged_weights(tmp_path):
    out = tmp_path / "ema"
    assert run("train", "--ema", "0.5", "--steps", 2, "--checkpoint-every", 2, "--out", out, *SMALL).exit_code == 0
    args = ("--metrics", "fid", "-n", 200, "--no-record")
    from_checkpoint = evaluate_json(out / "checkpoints" / "step-00000002.safetensors", *args)
    from_generator = evaluate_json(out, *args)  # generator.safetensors holds the average the run samples from
    assert from_checkpoint["generator"]["weights"] == from_generator["generator"]["weights"] == "EMA"
    assert from_checkpoint["values"] == from_generator["values"]
