"""Loggers: what a run logs reaches TensorBoard's own reader; loggers see every moment of a run on rank 0; bad
names, missing packages and failing loggers cost neither a clean --out nor a checkpoint."""

import json
import os
import subprocess
import sys
import types

import pytest

import gancli
import gancli.testing
from gancli.default_plugins.loggers import JsonlLogger, TensorBoardLogger
from gancli.default_plugins.losses import BCELoss
from gancli.plugins import build_registry, reset_registry
from helpers import TINY, one_line_error, run

EventAccumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator").EventAccumulator


def metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def read_events(folder):
    """TensorBoard's own reader over a folder of event files, keeping everything (size guidance 0)."""
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


class RecordingLogger(gancli.Logger):
    """Records every call it receives (the class keeps the list: the trainer builds the instance)."""

    calls: list = []

    class Options(gancli.Options):
        fail_in: str = gancli.field("", help="method that raises")
        fail_at: int = gancli.field(0, help="from this step on")

    def _record(self, method, step, *args):
        type(self).calls.append((method, step, *args))
        if method == self.fail_in and step >= self.fail_at:
            raise OSError("the tracking server went away")

    def start(self, run_dir, config, step=0):
        self._record("start", step, config["log"][-1]["name"])

    def log_scalars(self, step, values):
        self._record("log_scalars", step, sorted(values))

    def log_images(self, step, name, path):
        self._record("log_images", step, name, path.rsplit("/", 1)[-1])

    def log_artifact(self, path):
        self._record("log_artifact", None, path.rsplit("/", 1)[-1])

    def rewind(self, step):
        self._record("rewind", step)

    def finish(self):
        self._record("finish", None)


@gancli.hookimpl
def register_loggers(register):
    register("recording", RecordingLogger)


@pytest.fixture
def recording():
    """The built-ins plus the recording logger, with an empty record."""
    RecordingLogger.calls = []
    registry = build_registry(extra_plugins=[("recording-plugin", types.SimpleNamespace(
        register_loggers=register_loggers))], third_party=False)
    reset_registry(registry)
    yield RecordingLogger.calls
    reset_registry()


# ---- TensorBoard through its own reader ----------------------------------------------------------------------

def test_tensorboard_reader_reads_back_the_figures_images_and_config_of_a_run(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 4, "--sample-every", 2, "--log", "tensorboard", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    events = read_events(out / "tensorboard")
    logged = metrics(out)
    figures = [name for name in logged[0] if name != "step"]
    assert sorted(events.Tags()["scalars"]) == sorted(figures)
    for name in figures:
        read = [(e.step, e.value) for e in events.Scalars(name)]
        assert read == [(m["step"], pytest.approx(m[name], rel=1e-6, abs=1e-6)) for m in logged]
    from PIL import Image

    width, height = Image.open(out / "samples" / "step-00000004.png").size
    assert [(e.step, e.width, e.height) for e in events.Images("samples")] == [(2, width, height), (4, width, height)]
    (text,) = events.Tensors("config/text_summary")
    config = text.tensor_proto.string_val[0].decode()
    assert json.loads(config.strip("`\njson")) == json.loads((out / "run.json").read_text())


def test_a_resumed_run_purges_the_steps_after_its_checkpoint_as_metrics_jsonl_drops_them(tmp_path):
    out = tmp_path / "run"
    common = ["--log", "tb", "--out", out, "--checkpoint-every", 2, *TINY]
    assert run("train", "--steps", 3, *common).exit_code == 0
    (out / "checkpoints" / "step-00000003.safetensors").unlink()  # a crash after step 3 was logged
    result = run("train", "--resume", out, "--steps", 5)
    assert result.exit_code == 0, result.output
    assert "from step 2" in result.output
    logged = metrics(out)
    assert [m["step"] for m in logged] == [1, 2, 3, 4, 5]
    read = read_events(out / "tensorboard").Scalars("d_loss")
    assert [e.step for e in read] == [1, 2, 3, 4, 5]  # step 3 once: the resumed run's
    assert [e.value for e in read] == [pytest.approx(m["d_loss"], rel=1e-6) for m in logged]
    assert json.loads((out / "run.json").read_text())["log"][1]["name"] == "tensorboard"  # resumed as it was


def test_options_of_a_logger_and_the_run_json_record(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 1, "--log", "tensorboard", "--log", "jsonl", "--log-opt",
                 "tensorboard.folder=tb", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    assert read_events(out / "tb").Tags()["scalars"] and not (out / "tensorboard").exists()
    log = json.loads((out / "run.json").read_text())["log"]
    assert [(item["name"], item["options"]) for item in log] == [("jsonl", {}), ("tensorboard", {
        "folder": "tb", "flush_secs": 10})]  # jsonl once, always first
    assert log[1]["plugin"] == "gancli.default_plugins.loggers"


# ---- every moment of a run reaches a logger ---------------------------------------------------------------------

def test_a_logger_sees_start_figures_grids_generator_and_finish(tmp_path, recording):
    out = tmp_path / "run"
    result = run("train", "--steps", 4, "--sample-every", 2, "--log-every", 2, "--log", "recording", "--out", out,
                 "--data-opt", "size=16", "--arch-opt", "width=4", "--batch-size", 8)
    assert result.exit_code == 0, result.output
    figures = sorted(name for name in metrics(out)[0] if name != "step")
    assert recording == [("start", 0, "recording"), ("log_scalars", 2, figures),
                         ("log_images", 2, "samples", "step-00000002.png"), ("log_scalars", 4, figures),
                         ("log_images", 4, "samples", "step-00000004.png"),
                         ("log_artifact", None, "generator.safetensors"), ("finish", None)]
    recording.clear()
    assert run("train", "--resume", out, "--steps", 5).exit_code == 0
    assert recording[0] == ("start", 4, "recording") and recording[-1] == ("finish", None)


def test_a_roll_back_rewinds_every_logger(tmp_path, recording, monkeypatch):
    original, count = BCELoss.discriminator_loss, [0]

    def poisoned(self, *args):
        count[0] += 1
        return original(self, *args) * (float("nan") if count[0] == 5 else 1)

    monkeypatch.setattr(BCELoss, "discriminator_loss", poisoned)
    out = tmp_path / "run"
    result = run("train", "--steps", 6, "--checkpoint-every", 2, "--on-nonfinite", "rollback", "--log", "recording",
                 "--log", "tensorboard", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    assert ("rewind", 4) in recording
    steps = [call[1] for call in recording if call[0] == "log_scalars"]
    assert steps == [1, 2, 3, 4, 5, 6] == [m["step"] for m in metrics(out)]
    assert [e.step for e in read_events(out / "tensorboard").Scalars("g_loss")] == steps


def test_a_logger_failing_mid_run_is_dropped_and_the_run_keeps_its_checkpoints(tmp_path, recording):
    out = tmp_path / "run"
    result = run("train", "--steps", 4, "--log", "recording", "--log-opt", "recording.fail_in=log_scalars",
                 "--log-opt", "recording.fail_at=2", "--log", "tensorboard", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    assert 'logger "recording" failed in log_scalars at step 2 (OSError: the tracking server went away); ' \
           "training goes on without it" in " ".join(result.output.split())  # as the progress display wraps it
    assert [call[0] for call in recording] == ["start", "log_scalars", "log_scalars", "finish"]  # dropped at 2
    assert (out / "checkpoints" / "step-00000004.safetensors").exists() and (out / "generator.safetensors").exists()
    assert [m["step"] for m in metrics(out)] == [1, 2, 3, 4]
    assert [e.step for e in read_events(out / "tensorboard").Scalars("d_loss")] == [1, 2, 3, 4]  # the others go on


def test_under_torchrun_rank_0_alone_logs(tmp_path):
    """Launched by gancli (--nproc-per-node), which hands torchrun --logger: torchrun's own parser takes a bare
    --log for an abbreviation of its --log-dir and refuses the command."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "gancli", "train", "--nproc-per-node", "2", "--steps", "2", "--log", "tensorboard",
               "--out", str(out), *map(str, TINY)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--logger tensorboard" in result.stderr  # the command it launched
    assert len(list((out / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert [e.step for e in read_events(out / "tensorboard").Scalars("d_loss")] == [1, 2]


# ---- bad input: one line, exit 1, no half-written run ------------------------------------------------------------

def test_an_unknown_logger_gets_did_you_mean(tmp_path):
    out = tmp_path / "run"
    one_line_error(run("train", "--log", "tensorbord", "--out", out, *TINY),
                   "unknown logger 'tensorbord' (did you mean \"tensorboard\"?); available: jsonl, tensorboard")
    assert not out.exists()


def test_options_without_a_logger_say_so(tmp_path):
    one_line_error(run("train", "--log-opt", "folder=x", "--out", tmp_path / "run", *TINY),
                   "--log-opt needs a logger to apply to: add --log NAME")


def test_a_missing_logger_package_names_the_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # what an environment without it gives
    out = tmp_path / "run"
    one_line_error(run("train", "--log", "tensorboard", "--out", out, *TINY),
                   "logger \"tensorboard\" needs the Python package tensorboardX, which is not installed: "
                   "pip install 'gancli[tensorboard]'")
    assert not out.exists()


def test_a_logger_that_cannot_start_stops_the_run_before_it_trains(tmp_path, recording):
    out = tmp_path / "run"
    result = run("train", "--log", "tensorboard", "--log", "recording", "--log-opt", "recording.fail_in=start",
                 "--out", out, *TINY)
    one_line_error(result, 'logger "recording" could not start: OSError: the tracking server went away')
    assert not (out / "run.json").exists() and not (out / "checkpoints").exists()


# ---- the contract checks pass for the built-ins ------------------------------------------------------------------

@pytest.mark.parametrize("cls", [JsonlLogger, TensorBoardLogger])
def test_built_in_loggers_pass_the_contract_check(cls):
    gancli.testing.check_logger(cls)


def test_the_contract_check_catches_a_logger_that_fails_to_resume():
    class Forgetful(RecordingLogger):
        """Forgets to accept a resumed run's step."""

        def start(self, run_dir, config):
            pass

    with pytest.raises(gancli.testing.ContractError, match="start"):
        gancli.testing.check_logger(Forgetful)
