"""Faults: non-finite losses stop (or roll back) at the step they appear; kill -9 never costs a checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from safetensors.torch import load_file

from gancli.default_plugins.lipschitz import GradientPenaltyEnforcer
from gancli.default_plugins.losses import BCELoss
from gancli.engine import checkpoint, runs
from helpers import TINY, one_line_error, run


def poison(monkeypatch, cls, method, calls):
    """Make ``cls.method`` return NaN on the given call numbers (1-based)."""
    original, count = getattr(cls, method), [0]

    def patched(self, *args, **kwargs):
        count[0] += 1
        value = original(self, *args, **kwargs)
        return value * float("nan") if count[0] in calls else value

    monkeypatch.setattr(cls, method, patched)


def steps_logged(out):
    return [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]


def newest(out):
    return runs.checkpoints(str(out))[-1]


def test_a_nan_loss_stops_at_its_step_naming_the_loss_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "run"
    poison(monkeypatch, BCELoss, "discriminator_loss", {5})
    result = run("train", "--steps", 8, "--checkpoint-every", 2, "--out", out, *TINY)
    one_line_error(result, "non-finite values at step 5")
    assert 'the loss "bce", discriminator side' in result.output and "step-00000004" in result.output
    assert newest(out)[0] == 4 and checkpoint.load(newest(out)[1])[1]["step"] == 4  # whole, checksum passes
    assert checkpoint.read_meta(str(out / "generator.safetensors"))["step"] == 4
    assert steps_logged(out) == [1, 2, 3, 4]


def test_a_nan_penalty_is_blamed_on_the_enforcer_and_its_critic_step(tmp_path, monkeypatch):
    out = tmp_path / "run"
    poison(monkeypatch, GradientPenaltyEnforcer, "penalty", {7})  # step 2, critic step 2 of 5
    result = run("train", "--loss", "wgan-gp", "--steps", 3, "--out", out, *TINY)
    one_line_error(result, "non-finite values at step 2")
    assert "Lipschitz penalty of gradient-penalty" in result.output and "critic step 2 of 5" in result.output


def test_the_lagged_check_of_cuda_still_names_the_step_and_writes_no_bad_checkpoint(tmp_path, monkeypatch):
    import functools

    from gancli.engine import health, trainer

    # On CUDA each step's verdict is read one step later (no stall); the same logic runs here on CPU.
    monkeypatch.setattr(trainer, "StepMonitor", functools.partial(health.StepMonitor, lagged=True))
    out = tmp_path / "run"
    poison(monkeypatch, BCELoss, "discriminator_loss", {5})
    result = run("train", "--steps", 8, "--checkpoint-every", 2, "--out", out, *TINY, "--log-every", 10)
    one_line_error(result, "non-finite values at step 5")
    assert newest(out)[0] == 4


def test_rollback_returns_to_the_last_checkpoint_with_half_the_learning_rate(tmp_path, monkeypatch):
    out = tmp_path / "run"
    poison(monkeypatch, BCELoss, "discriminator_loss", {5})
    result = run("train", "--steps", 8, "--checkpoint-every", 2, "--lr", 0.001, "--on-nonfinite", "rollback",
                 "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    assert "rolled back to step 4 with the learning rate x0.5" in result.output
    assert steps_logged(out) == [1, 2, 3, 4, 5, 6, 7, 8]  # the lost step's line never reached the log
    meta = checkpoint.read_meta(newest(out)[1])
    assert meta["lr_scale"] == 0.5 and meta["rollbacks"] == 1
    assert meta["optimizer_groups"]["G"][0]["lr"] == pytest.approx(0.0005)


def test_rollback_before_any_checkpoint_and_giving_up(tmp_path, monkeypatch):
    out = tmp_path / "run"
    poison(monkeypatch, BCELoss, "discriminator_loss", set(range(1, 100)))  # never recovers
    result = run("train", "--steps", 5, "--on-nonfinite", "rollback", "--out", out, *TINY)
    one_line_error(result, "gave up after 3 roll-backs")
    assert "rolled back to step 0" in result.output and newest(out)[0] == 0


def test_data_with_nan_is_refused(tmp_path, monkeypatch):
    import dataclasses

    from gancli.data import digits

    original = digits.load_digits

    def spoiled(size):
        bundle = original(size)
        x = bundle.x.clone()
        x[0, 0, 0, 0] = float("nan")
        return dataclasses.replace(bundle, x=x)

    monkeypatch.setattr(digits, "load_digits", spoiled)
    one_line_error(run("train", "--steps", 1, "--out", tmp_path / "r", *TINY), "non-finite values")


# ---- kill -9 ------------------------------------------------------------------------------------------------

TRAIN = [sys.executable, "-m", "gancli", "train", "--data-opt", "size=16", "--arch-opt", "width=4",
         "--batch-size", "8", "--log-every", "1"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def resume_and_finish(out, extra: int = 3):
    """Resume a killed run to a few steps past its newest checkpoint; check the result is whole."""
    target = newest(out)[0] + extra
    done = subprocess.run([*TRAIN[:4], "--resume", str(out), "--steps", str(target)], capture_output=True,
                          text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert steps_logged(out) == list(range(1, target + 1))  # lines after the checkpoint were dropped, not doubled
    tensors, meta = checkpoint.load(newest(out)[1])  # reads whole and passes its checksum
    assert meta["step"] == target and newest(out)[0] == target
    assert not list(out.glob("**/.tmp-*"))
    return done


def test_sigkill_mid_run_then_resume_finishes_with_the_expected_steps(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([*TRAIN, "--steps", "100000", "--checkpoint-every", "3", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    deadline = time.time() + 60
    while not ((out / "metrics.jsonl").exists() and len(steps_logged(out)) >= 8):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    resume_and_finish(out)


KILL_DURING_WRITE = """
import os, signal, sys
import safetensors.torch as st
real, written = st.save_file, []

def torn(tensors, path, metadata=None):  # the third training checkpoint: half written, then kill -9
    real(tensors, path, metadata=metadata)
    if os.path.basename(os.path.dirname(path)) == "checkpoints":
        written.append(path)
        if len(written) == 3:
            with open(path, "r+b") as fh:
                fh.truncate(os.path.getsize(path) // 2)
            os.kill(os.getpid(), signal.SIGKILL)

st.save_file = torn
from gancli.cli import cli
cli(sys.argv[1:], prog_name="gancli")
"""


def test_sigkill_during_a_checkpoint_write_leaves_the_previous_one_and_resume_finishes(tmp_path):
    out = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_WRITE, *TRAIN[3:], "--steps", "100",
                             "--checkpoint-every", "2", "--keep-checkpoints", "5", "--out", str(out)],
                            capture_output=True, text=True, env=ENV, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list((out / "checkpoints").glob(".tmp-*"))) == 1  # the torn file never got the real name
    assert [step for step, _ in runs.checkpoints(str(out))] == [2, 4]
    resume_and_finish(out)


@pytest.fixture(scope="module")
def four_steps(tmp_path_factory):
    """A run of 4 steps with checkpoints at 2 and 4, made once and copied by each test that damages it."""
    out = tmp_path_factory.mktemp("base") / "run"
    assert run("train", "--steps", 4, "--checkpoint-every", 2, "--out", out, *TINY).exit_code == 0
    return out


@pytest.mark.parametrize("damage", ["truncate-header", "truncate-data", "flip-data-byte", "zero-length"])
def test_a_damaged_newest_checkpoint_is_detected_and_the_previous_one_used(tmp_path, four_steps, damage):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(four_steps, out)
    path = out / "checkpoints" / "step-00000004.safetensors"
    data = bytearray(path.read_bytes())
    if damage == "truncate-header":
        data = data[:20]
    elif damage == "truncate-data":
        data = data[:-7]
    elif damage == "flip-data-byte":
        data[-100] ^= 0x10  # the header still reads; only the checksum can tell
    else:
        data = b""
    path.write_bytes(bytes(data))
    result = run("train", "--resume", out, "--steps", 5)
    assert result.exit_code == 0, result.output
    assert "skipping damaged checkpoint" in result.output and "from step 2" in result.output
    assert steps_logged(out) == [1, 2, 3, 4, 5]
    assert load_file(str(out / "checkpoints" / "step-00000005.safetensors"))
