"""Schedules (gancli/engine/schedules.py): the curve, each of the five settings reaching the trainer, exact resume
with all five on, and one clear line for each kind of bad input."""

import json
import math
import os
import signal

import pytest
import torch
from safetensors.torch import load_file

import gancli
from gancli.engine import runs
from gancli.engine.health import StepMonitor
from gancli.engine.schedules import Schedule, parse
from gancli.engine.trainer import Reporter, Trainer
from helpers import TINY, one_line_error, run

SMALL = {"data_opt": {"size": 16}, "arch_opt": {"width": 4}, "batch_size": 8, "log_every": 1}
# R3GAN's five, at this scale: the EMA's half-life in images (8 a step) and p on a translation augmentation.
R3GAN = {"lr": "2e-4:5e-5", "beta2": "0.9:0.99", "gamma": "0.05:0.005", "ema": "0:80", "augment_p": "0:0.55"}
R3GAN_SETUP = {"loss": "rpgan", "lipschitz": ["r1", "r2"], "augment": "translation", "schedule": R3GAN}


def test_the_curve_starts_ends_passes_the_mean_halfway_and_warms_up_linearly():
    cosine = Schedule(0.9, 0.1, steps=100)
    assert cosine.at(0) == 0.9 and cosine.at(100) == 0.1 and cosine.at(10_000) == 0.1  # END after its steps
    assert cosine.at(50) == pytest.approx(0.5)
    assert cosine.at(25) == pytest.approx(0.1 + 0.8 * (1 + math.cos(math.pi / 4)) / 2)  # a half cosine
    warm = Schedule(2.0, 1.0, warmup=10, steps=110)
    assert [warm.at(s) for s in (0, 5, 10)] == [0.0, 1.0, 2.0] and warm.at(60) == pytest.approx(1.5)
    assert Schedule(1e-3, 0.0, "linear", steps=4).at(1) == 1e-3 * (1 - 1 / 4)  # --lr-decay linear, bit for bit
    assert parse("lr", "2e-4:5e-5,warmup=5", run_steps=100).spec() == "cosine:0.0002:5e-05,warmup=5,steps=100"
    assert parse("lr", "linear:1:0,steps=7", run_steps=100) == Schedule(1.0, 0.0, "linear", 0, 7)


def _trainer(tmp_path, **values):
    from gancli.api.registry import registry_for_command
    from gancli.api.training import new_plan, python_values

    plan = new_plan(python_values({"steps": 4, **SMALL, **values}), None, registry_for_command())
    os.makedirs(tmp_path / "run")
    return Trainer(plan, str(tmp_path / "run"), Reporter())


def test_each_schedule_reaches_the_trainer(tmp_path):
    trainer = _trainer(tmp_path, **R3GAN_SETUP)
    expected = {name: parse(name, text, 4) for name, text in R3GAN.items()}
    monitor = StepMonitor(trainer.device, trainer.world)
    ema_start = None
    for step in range(3):
        trainer.train_step(False, monitor)
        if step == 0:  # half-life 0 at step 0: the average is G itself
            ema_start = all(torch.equal(a, b) for a, b in zip(trainer.ema.model.parameters(), trainer.G.parameters()))
    at = {name: schedule.at(2) for name, schedule in expected.items()}  # the values step 3 was taken with
    for optimizer in (trainer.opt_G, trainer.opt_D):
        assert optimizer.param_groups[0]["lr"] == at["lr"] and optimizer.param_groups[0]["betas"] == (0.5, at["beta2"])
    assert [e.gamma for e in trainer.enforcers] == [at["gamma"], at["gamma"]]
    assert ema_start and not trainer.ema.ramp and trainer.ema.decay == 0.5 ** (8 / at["ema"])
    assert trainer.augment_p.p.item() == pytest.approx(at["augment_p"]) and not trainer.augment_p.adaptive
    assert trainer.schedules.record()["gamma"] == pytest.approx(at["gamma"])


class InterruptAt(Reporter):
    """Ctrl-C once training reaches ``step``: the run stops after a whole step with a checkpoint."""

    def __init__(self, step):
        self.at = step

    def update(self, step, record):
        if step == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_an_interrupted_run_resumes_bit_for_bit_with_all_five_scheduled(tmp_path):
    straight = gancli.train(steps=5, out=tmp_path / "straight", progress=False, **SMALL, **R3GAN_SETUP)
    stopped = gancli.train(steps=5, out=tmp_path / "split", progress=InterruptAt(2), **SMALL, **R3GAN_SETUP)
    assert stopped.interrupted is not None and stopped.interrupted < 5
    split = gancli.resume(stopped, steps=5, progress=False)
    for name in ("generator.safetensors", os.path.join(runs.CHECKPOINTS, "step-00000005.safetensors")):
        a, b = load_file(os.path.join(straight.path, name)), load_file(os.path.join(split.path, name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert straight.metrics[-1]["lr"] == split.metrics[-1]["lr"] and straight.metrics[-1]["gamma"] > 0.005
    recorded = json.loads((tmp_path / "split" / "run.json").read_text())["schedule"]
    assert recorded["gamma"] == "cosine:0.05:0.005,steps=5"  # the run's length, fixed when it was made


def test_bad_schedules_are_one_line_each(tmp_path):
    out = ["--out", tmp_path / "never", "--steps", 2, *TINY]
    one_line_error(run("train", "--schedule", "lr=2e-4", *out), "START:END")
    one_line_error(run("train", "--schedule", "lr=2e-4:x", *out), "'x' is not a number")
    one_line_error(run("train", "--schedule", "lr=1:0,warmup=5", *out), "warm-up (5 steps) must end before")
    one_line_error(run("train", "--schedule", "lrr=1:0", *out), 'did you mean "lr"')
    one_line_error(run("train", "--schedule", "beta2=0.9:1", *out), "must be in [0, 1)")
    one_line_error(run("train", "--schedule", "gamma=0.05:0.005", *out), "add --lipschitz r1 --lipschitz r2")
    one_line_error(run("train", "--schedule", "augment-p=0:0.5", *out), "add --augment")
    one_line_error(run("train", "--augment", "translation", "--augment-p", "auto", "--schedule", "augment-p=0:0.5",
                       *out), "--augment-p and --schedule augment-p=... both set")
    one_line_error(run("train", "--lr", 1e-3, "--schedule", "lr=1e-3:0", *out), "give one")
    assert not (tmp_path / "never").exists()


def test_a_schedule_replaces_the_setting_a_lower_layer_gave(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('lr = 1e-3\n[schedule]\nema = "0:1000"\naugment-p = "0:0.5"\n')
    result = run("train", "--config", config, "--schedule", "lr=1e-3:0", "--ema", 0.99, "--augment", "translation",
                 "--dry-run")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output[result.output.index("{"):])
    assert plan["schedule"] == {"lr": "cosine:0.001:0.0,steps=2000", "augment_p": "cosine:0.0:0.5,steps=2000"}
    assert plan["lr"] == 2e-4 and plan["ema"] == 0.99  # the file's --lr gave way to the schedule, its ema to --ema
