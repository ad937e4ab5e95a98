"""Training diagnostics: each signal on constructed cases, alarms that fire once with advice, --on-collapse stop,
exact resume of their state, a plugin's own signal, `gancli diagnose` and its bad inputs."""

import json
import types

import pytest
import torch
from torch import nn

import gancli
from gancli.diagnostics import signals
from gancli.diagnostics.alarms import AlarmBook
from gancli.engine import checkpoint
from gancli.plugins import build_registry, reset_registry
from helpers import TINY, one_line_error, run

TIMING = ("images_per_s", "elapsed_s")  # the only figures of a record that may differ between two equal runs


def metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def alarms(out):
    path = out / "alarms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def untimed(records):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]


# ---- a generator that outputs a constant, a discriminator that is sure --------------------------------------

class ConstantGenerator(nn.Module):
    """Every latent gives the same image: the extreme of mode collapse."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape
        self.value = nn.Parameter(torch.zeros(shape))

    def forward(self, z, labels=None):
        return torch.tanh(self.value).expand(len(z), *self.shape) + 0 * z[:, :1].view(-1, *[1] * len(self.shape))


class SureDiscriminator(nn.Module):
    """A linear score plus a large negative offset: it rejects every sample, sigmoid(D) ~ 0."""

    def __init__(self, shape, offset):
        super().__init__()
        self.linear = nn.Linear(int(torch.tensor(shape).prod()), 1)
        self.offset = offset

    def forward(self, x, labels=None):
        return self.linear(x.flatten(1)).squeeze(1) + self.offset


class ConstantArchitecture(gancli.Architecture):
    """A constant generator and a linear discriminator (test only)."""

    data_kinds = ("image", "points")

    class Options(gancli.Options):
        offset: float = gancli.field(0.0, help="added to D's score")

    def build_generator(self, spec, z_dim, num_classes=0):
        return ConstantGenerator(spec.shape)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        return SureDiscriminator(spec.shape, self.offset)


class ProbeDiagnostic(gancli.Diagnostic):
    """Twice the step, and an alarm once it passes 10 (test only)."""

    signals = {"probe": "twice the step"}
    progress = {"probe": "probe"}

    class Options(gancli.Options):
        interval: int = gancli.field(3, help="steps between computations", min=1)

    def compute(self, context):
        return {"probe": 2.0 * context.step}

    def alarms(self, context):
        return [gancli.Alarm("probe-alarm", (("probe", ">", 10),), "the probe passed 10.", "nothing to do.",
                             patience=0)]


@gancli.hookimpl
def register_architectures(register):
    register("constant", ConstantArchitecture)


@gancli.hookimpl
def register_diagnostics(register):
    register("probe", ProbeDiagnostic)


@pytest.fixture(autouse=True)
def plugins():
    registry = build_registry(extra_plugins=[("test-diagnostics", types.SimpleNamespace(
        register_architectures=register_architectures, register_diagnostics=register_diagnostics))],
        third_party=False)
    reset_registry(registry)
    yield registry
    reset_registry()


COLLAPSE = ["--arch", "constant", "--diagnostics", "diversity,gradient-norm", "--diagnostics-every", 2,
            "--diagnostics-opt", "diversity.after=0", "--data-opt", "size=8", "--batch-size", 8, "--log-every", 1]


# ---- the signals on constructed cases -----------------------------------------------------------------------

def test_saturation_counts_the_fakes_in_the_flat_region_of_bce():
    logits = torch.tensor([-10.0, -6.0, -4.0, 0.0])  # sigmoid: 4.5e-5, 2.5e-3, 0.018, 0.5
    assert signals.saturation(logits) == 0.5
    assert signals.saturation(torch.full((8,), -100.0)) == 1.0


def test_sign_statistic_and_pairwise_accuracy():
    assert signals.sign_statistic(torch.tensor([1.0, 2.0, -1.0, 3.0])) == 0.5
    real, fake = torch.tensor([1.0, 0.0, 2.0, -1.0]), torch.tensor([0.0, 1.0, 1.0, -2.0])
    assert signals.pairwise_accuracy(real, fake) == 0.75


def test_mean_pairwise_distance_is_zero_for_identical_samples():
    assert signals.mean_pairwise_distance(torch.ones(16, 3, 4, 4)) == 0.0
    points = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert signals.mean_pairwise_distance(points) == pytest.approx(5.0)


def test_holdout_gap_places_held_out_scores_between_training_and_fakes():
    train, fake = torch.full((4,), 3.0), torch.full((4,), -1.0)
    assert signals.holdout_gap(train, torch.full((4,), 3.0), fake) == 0.0  # held-out scored like training images
    assert signals.holdout_gap(train, torch.full((4,), 1.0), fake) == 0.5
    assert signals.holdout_gap(train, fake, fake) == 1.0  # scored like fakes: memorised


def test_mode_coverage_counts_modes_with_high_quality_points():
    from gancli.data.mixtures import grid_centres

    centres = grid_centres()
    points = torch.cat([centres[:3].repeat(10, 1), torch.tensor([[1.0, 1.0]] * 10)])  # 3 modes, 10 points off
    covered, hq = signals.mode_coverage(points, centres, 0.05)
    assert covered == 3 / 25 and hq == 0.75


def test_class_coverage_and_gradient_norm():
    assert signals.class_coverage(torch.tensor([0, 0, 3, 3, 7]), 10) == 0.3
    a, b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(1))
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])
    assert signals.gradient_norm([a, b]) == 5.0
    assert signals.gradient_norm([nn.Parameter(torch.zeros(1))]) is None


# ---- alarms -------------------------------------------------------------------------------------------------

def test_an_alarm_fires_once_after_its_patience_and_a_break_restarts_the_count():
    alarm = gancli.Alarm("mode-collapse", (("diversity", "<", 0.2),), "collapsed.", "--pack 2.", patience=20)
    book = AlarmBook([("diversity", alarm)])
    assert book.update(10, {"diversity": 0.1}) == []  # holds from step 10
    assert book.update(20, {"diversity": 0.5}) == []  # broken: counts again
    assert book.update(30, {"diversity": 0.1}) == [] and book.update(40, {"diversity": 0.1}) == []
    (event,) = book.update(50, {"diversity": 0.05})
    assert (event["step"], event["since"], event["kind"], event["advice"]) == (50, 30, "mode-collapse", "--pack 2.")
    assert book.update(60, {"diversity": 0.0}) == []  # once
    assert book.update(70, {"other": 1.0}) == []  # its signal not computed now: nothing judged


def test_alarms_of_one_kind_fire_once_between_them_and_need_every_signal():
    low = gancli.Alarm("vanishing-gradients", (("d_saturation", ">", 0.9), ("g_grad_rel", "<", 0.1)), "", "",
                       patience=0)
    also = gancli.Alarm("vanishing-gradients", (("d_saturation", ">", 0.95),), "", "", patience=0)
    book = AlarmBook([("saturation", low), ("other", also)])
    assert book.update(1, {"d_saturation": 1.0}) != []  # `also` fires; `low` misses g_grad_rel
    assert book.update(2, {"d_saturation": 1.0, "g_grad_rel": 0.0}) == []  # the kind has fired


def test_the_vanishing_gradients_alarm_of_a_minimax_run_advises_the_non_saturating_loss(plugins):
    from gancli.api.training import new_plan
    from gancli.diagnostics.context import Context  # noqa: F401 (the interface the fake stands for)

    diagnostic = plugins.get("diagnostic", "saturation").cls()
    config = new_plan({"loss": "bce-minimax"}, None, plugins).config
    context = types.SimpleNamespace(config=config, loss_name="bce-minimax", loss_output="logit")
    (alarm,) = diagnostic.alarms(context)
    assert alarm.kind == "vanishing-gradients" and "--loss bce " in alarm.advice and "--d-lr-scale 0.25" in alarm.advice
    assert alarm.holds({"d_saturation": 0.99, "g_grad_rel": 0.01}) and not alarm.holds({"d_saturation": 0.99,
                                                                                        "g_grad_rel": 0.5})
    book = AlarmBook([("saturation", alarm)])
    events = [e for step in range(0, 300, 50) for e in book.update(step, {"d_saturation": 1.0, "g_grad_rel": 0.0})]
    assert [e["step"] for e in events] == [100]  # patience 100 from step 0


# ---- in training --------------------------------------------------------------------------------------------

def test_a_constant_generator_has_no_diversity_and_raises_one_collapse_alarm_with_advice(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 12, "--out", out, "--diagnostics-opt", "diversity.patience=4", *COLLAPSE)
    assert result.exit_code == 0, result.output
    diversity = [r["diversity"] for r in metrics(out) if "diversity" in r]
    assert len(diversity) == 6 and max(diversity) < 1e-6
    (event,) = alarms(out)
    assert (event["kind"], event["step"], event["since"]) == ("mode-collapse", 6, 2)
    assert "--pack 2" in event["advice"] and "stuck on a few peaks" in event["says"]
    assert result.output.count("alarm at step 6: mode collapse") == 1


def test_a_healthy_tiny_run_logs_every_signal_and_changes_no_number_of_training(tmp_path):
    on, off = tmp_path / "on", tmp_path / "off"
    common = ["--steps", 6, "--diagnostics-every", 3, "--data-opt", "fraction=0.5", *TINY]
    assert run("train", "--out", on, *common).exit_code == 0
    assert run("train", "--out", off, "--diagnostics", "off", *common).exit_code == 0
    record = metrics(on)[2]
    for name in ("g_grad_norm", "g_grad_rel", "d_saturation", "diversity", "r_t", "holdout_gap", "d_accuracy",
                 "loss_gap"):
        assert name in record, name
    assert 0 <= record["d_saturation"] <= 1 and -1 <= record["r_t"] <= 1
    assert "diversity" not in metrics(on)[1]  # computed every 3 steps only
    base = [{k: v for k, v in r.items() if k in ("step", "d_loss", "g_loss", "d_real", "d_fake")}
            for r in metrics(on)]
    assert base == [{k: v for k, v in r.items() if k not in TIMING} for r in metrics(off)]
    a, b = (checkpoint.load(str(d / "checkpoints" / "step-00000006.safetensors"))[0] for d in (on, off))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # weights, optimizers, RNG alike


def test_a_sure_discriminator_saturates_every_fake(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 4, "--out", out, "--arch", "constant", "--arch-opt", "offset=-50",
                 "--diagnostics", "saturation", "--diagnostics-every", 2, "--data-opt", "size=8", "--batch-size", 8)
    assert result.exit_code == 0, result.output
    assert [r["d_saturation"] for r in metrics(out) if "d_saturation" in r] == [1.0, 1.0]


def test_on_collapse_stop_stops_cleanly_with_a_checkpoint_and_resume_does_not_fire_again(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 20, "--out", out, "--on-collapse", "stop", "--checkpoint-every", 100,
                 "--diagnostics-opt", "diversity.patience=2", *COLLAPSE)
    one_line_error(result, "training stopped at step 4 (--on-collapse stop): mode collapse")
    assert "--on-collapse continue" in result.output
    assert (out / "checkpoints" / "step-00000004.safetensors").exists() and (out / "generator.safetensors").exists()
    assert metrics(out)[-1]["step"] == 4
    result = run("train", "--resume", out, "--steps", 10, "--on-collapse", "continue")
    assert result.exit_code == 0, result.output
    assert [e["step"] for e in alarms(out)] == [4] and "alarm at step" not in result.output


@pytest.mark.parametrize("patience", [2, 6])  # fires before the split (not again), or after it (patience counted on)
def test_a_split_and_resumed_run_logs_the_same_diagnostics_and_alarms_as_a_straight_one(tmp_path, patience):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = [*COLLAPSE, "--diagnostics", "on", "--diagnostics-opt", f"diversity.patience={patience}",
              "--checkpoint-every", 100]
    assert run("train", "--steps", 12, "--out", straight, *common).exit_code == 0
    assert run("train", "--steps", 6, "--out", split, *common).exit_code == 0
    result = run("train", "--resume", split, "--steps", 12)
    assert result.exit_code == 0, result.output
    assert untimed(metrics(split)) == untimed(metrics(straight))
    assert alarms(split) == alarms(straight)
    fired = sorted((e["step"], e["kind"]) for e in alarms(straight))
    assert fired == sorted([(6, "probe-alarm"), (2 + patience, "mode-collapse")])
    assert metrics(straight)[1]["probe"] == 4.0  # "on": the plugin's diagnostic too, every 2 steps


def test_a_checkpoint_from_before_diagnostics_resumes_and_starts_them_afresh(tmp_path):
    out = tmp_path / "old"
    assert run("train", "--steps", 4, "--out", out, "--diagnostics-every", 2, *TINY).exit_code == 0
    config = json.loads((out / "run.json").read_text())
    for key in ("diagnostics", "diagnostics_every", "on_collapse", "d_lr_scale"):
        config.pop(key)
    (out / "run.json").write_text(json.dumps(config))
    path = str(out / "checkpoints" / "step-00000004.safetensors")
    tensors, meta = checkpoint.load(path)
    meta.pop("diagnostics")
    checkpoint.save(path, tensors, {k: v for k, v in meta.items() if k != "format"}, checksum=True)
    one_line_error(run("diagnose", out), "was trained before gancli had diagnostics")
    result = run("train", "--resume", out, "--steps", 100)
    assert result.exit_code == 0, result.output
    assert "diversity" in metrics(out)[-1] and "g_grad_rel" in metrics(out)[-1]
    assert run("diagnose", out).exit_code == 0


# ---- the plugin hook ------------------------------------------------------------------------------------------

def test_a_plugin_adds_a_signal_with_its_alarm_listed_logged_and_diagnosed(tmp_path):
    listed = run("list", "diagnostics")
    assert listed.exit_code == 0 and "probe" in listed.output and "diversity" in listed.output
    out = tmp_path / "run"
    result = run("train", "--steps", 9, "--out", out, "--diagnostics", "probe", *TINY)
    assert result.exit_code == 0, result.output
    assert [(r["step"], r["probe"]) for r in metrics(out) if "probe" in r] == [(3, 6.0), (6, 12.0), (9, 18.0)]
    assert [(e["step"], e["kind"]) for e in alarms(out)] == [(6, "probe-alarm")]
    summary = gancli.diagnose(out)
    assert summary["status"] == "alarm" and summary["signals"]["probe"]["last"] == [9, 18.0]
    assert summary["signals"]["probe"]["meaning"] == "twice the step"


# ---- gancli diagnose ------------------------------------------------------------------------------------------

def test_diagnose_json_summarises_signals_over_time_and_the_alarms_with_advice(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 12, "--out", out, "--diagnostics-opt", "diversity.patience=4",
               *COLLAPSE).exit_code == 0
    result = run("diagnose", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["step"] == 12 and summary["status"] == "alarm"
    assert summary["signals"]["diversity"]["over_time"][0] == [2, 0.0] and summary["signals"]["diversity"]["computed"] == 6
    (event,) = summary["alarms"]
    assert event["kind"] == "mode-collapse" and "--pack 2" in event["advice"]
    text = run("diagnose", out)
    assert text.exit_code == 0 and "MODE COLLAPSE" in text.output and "try: " in text.output
    assert run("report", out).exit_code == 0 and (out / "report" / "diagnostics.png").exists()


def test_diagnose_refuses_what_it_cannot_read_with_one_line(tmp_path):
    one_line_error(run("diagnose", tmp_path), "is not a gancli run directory")
    out = tmp_path / "run"
    assert run("train", "--steps", 2, "--out", out, *TINY).exit_code == 0
    (out / "metrics.jsonl").write_text("")
    one_line_error(run("diagnose", out), "has no metrics yet")
    off = tmp_path / "off"
    assert run("train", "--steps", 2, "--out", off, "--diagnostics", "off", *TINY).exit_code == 0
    one_line_error(run("diagnose", off), "was trained with --diagnostics off")
    early = tmp_path / "early"
    assert run("train", "--steps", 2, "--out", early, *TINY).exit_code == 0
    one_line_error(run("diagnose", early), "has no diagnostics signals yet")


def test_bad_diagnostics_flags_are_one_line(tmp_path):
    one_line_error(run("train", "--diagnostics", "nope", "--out", tmp_path / "a"), "unknown diagnostic 'nope'")
    one_line_error(run("train", "--diagnostics", "on,diversity", "--out", tmp_path / "b"), "--diagnostics takes on")
    one_line_error(run("train", "--d-lr-scale", "0", "--out", tmp_path / "c"), "--d-lr-scale must be positive")


# ---- what diagnostics need of the data and the trainer ---------------------------------------------------------

def test_mixtures_report_mode_coverage(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--arch", "mlp", "--data", "grid", "--data-opt", "n=512", "--arch-opt", "width=8",
                 "--batch-size", 16, "--steps", 2, "--diagnostics-every", 2, "--out", out)
    assert result.exit_code == 0, result.output
    record = metrics(out)[-1]
    assert 0 <= record["coverage"] <= 1 and 0 <= record["hq"] <= 1 and "diversity" in record


def test_the_digits_held_out_split_is_the_images_a_fraction_leaves_out():
    from gancli.data.digits import balanced_subset, load_digits

    bundle = load_digits(8)
    kept, held = (balanced_subset(bundle, 0.1, 0, complement=c) for c in (False, True))
    assert len(kept.x) + len(held.x) == len(bundle.x)
    rows = {tuple(x.flatten().tolist()) for x in kept.x}
    assert not any(tuple(x.flatten().tolist()) in rows for x in held.x[:200])


def test_d_lr_scale_sets_the_discriminators_learning_rate(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 2, "--out", out, "--d-lr-scale", 10, "--lr", "1e-4", *TINY).exit_code == 0
    meta = checkpoint.read_meta(str(out / "checkpoints" / "step-00000002.safetensors"))
    groups = meta["optimizer_groups"]
    assert groups["G"][0]["lr"] == pytest.approx(1e-4) and groups["D"][0]["lr"] == pytest.approx(1e-3)
    assert json.loads((out / "run.json").read_text())["d_lr_scale"] == 10


def test_the_progress_bar_shows_the_main_signals():
    from gancli.api.progress import stats

    record = {"d_loss": 0.5, "g_loss": 0.7, "images_per_s": 100, "diagnostics": "div 0.91 sat 0.02"}
    assert stats(record).endswith("div 0.91 sat 0.02")


def test_the_plugin_example_of_the_diagnostics_page_trains_and_is_diagnosed(tmp_path):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"
    code = re.search(r"```python\n(.*?)```", page.read_text(), re.S).group(1)
    module = types.ModuleType("score_spread_example")
    exec(compile(code, str(page), "exec"), module.__dict__)
    reset_registry(build_registry(extra_plugins=[("score-spread", module)], third_party=False))
    out = tmp_path / "run"
    result = run("train", "--steps", 4, "--out", out, "--diagnostics", "score-spread", "--diagnostics-every", 2,
                 *TINY)
    assert result.exit_code == 0, result.output
    assert [r["step"] for r in metrics(out) if "d_real_std" in r] == [2, 4]
    assert "d_real_std" in gancli.diagnose(out)["signals"]
