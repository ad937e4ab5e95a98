"""The trainer's speed settings: foreach Adam changes nothing, --precision bf16 and --compile train correctly."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from gancli.engine import speed
from gancli.engine.config import build_config
from gancli.engine.health import StepMonitor
from gancli.engine.plan import make_plan
from gancli.engine.trainer import Trainer
from gancli.errors import GancliError
from gancli.plugins import get_registry
from helpers import TINY, run

TINY_CONFIG = {"data_opt": {"size": 16}, "arch_opt": {"width": 4}, "batch_size": 8, "device": "cpu",
               "precision": "fp32"}


def read_metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def trained_weights(tmp_path, loss: str, steps: int = 3, **settings) -> list:
    plan = make_plan(build_config({**TINY_CONFIG, "loss": loss, "n_critic": 2, "steps": steps, **settings}),
                     get_registry())
    trainer = Trainer(plan, str(tmp_path))
    monitor = StepMonitor(trainer.device, trainer.world)
    for _ in range(steps):
        verdict, _ = trainer.train_step(False, monitor)
        assert verdict.culprit is None
    return [t.detach().clone() for t in [*trainer.G.state_dict().values(), *trainer.D.state_dict().values()]]


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_foreach_adam_gives_the_same_weights_as_the_default_loop(tmp_path, monkeypatch, loss):
    fast = trained_weights(tmp_path / "fast", loss)
    monkeypatch.setattr(speed, "adam", lambda params, lr, betas: torch.optim.Adam(params, lr=lr, betas=betas))
    plain = trained_weights(tmp_path / "plain", loss)
    assert len(fast) == len(plain) and all(torch.equal(a, b) for a, b in zip(fast, plain))


def test_optimizers_use_the_multi_tensor_path(tmp_path):
    plan = make_plan(build_config({**TINY_CONFIG, "steps": 1}), get_registry())
    trainer = Trainer(plan, str(tmp_path))
    assert all(group["foreach"] for opt in (trainer.opt_G, trainer.opt_D) for group in opt.param_groups)


def test_bf16_trains_in_channels_last_and_leaves_a_sampleable_run(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--loss", "wgan-gp", "--n-critic", 2, "--steps", 3, "--precision", "bf16",
                 "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["precision"] == "bf16"
    metrics = read_metrics(out)
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert all(math.isfinite(m[k]) for m in metrics for k in ("d_loss", "g_loss", "penalty"))
    saved = load_file(str(out / "generator.safetensors"))
    assert all(t.dtype == torch.float32 for t in saved.values() if t.is_floating_point())  # weights stay float32
    assert run("sample", out, "-n", 4, "-o", tmp_path / "grid.png").exit_code == 0


def test_bf16_networks_are_channels_last_and_weights_float32(tmp_path):
    plan = make_plan(build_config({**TINY_CONFIG, "steps": 1, "precision": "bf16"}), get_registry())
    trainer = Trainer(plan, str(tmp_path))
    convs = [m.weight for m in trainer.D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert all(p.dtype == torch.float32 for p in trainer.G.parameters())
    assert trainer.x.is_contiguous(memory_format=torch.channels_last)


def test_bf16_changes_the_numbers_only_slightly(tmp_path):
    exact = trained_weights(tmp_path / "fp32", "bce", steps=2)
    reduced = trained_weights(tmp_path / "bf16", "bce", steps=2, precision="bf16")
    assert not all(torch.equal(a, b) for a, b in zip(exact, reduced))  # it is a different computation...
    assert all(torch.allclose(a, b, atol=5e-3, rtol=5e-2) for a, b in zip(exact, reduced))  # ...close to fp32


def test_bf16_run_resumes_exactly(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--loss", "wgan-gp", "--n-critic", 2, "--precision", "bf16", *TINY]
    assert run("train", "--steps", 4, "--out", straight, *common).exit_code == 0
    assert run("train", "--steps", 2, "--out", split, *common).exit_code == 0
    result = run("train", "--resume", split, "--steps", 4)
    assert result.exit_code == 0, result.output
    a, b = load_file(str(straight / "generator.safetensors")), load_file(str(split / "generator.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_compile_trains_with_finite_losses_and_a_penalty_stays_eager(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--loss", "wgan-gp", "--n-critic", 1, "--steps", 2, "--compile", "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["compile"] is True
    metrics = read_metrics(out)
    assert all(math.isfinite(m[k]) for m in metrics for k in ("d_loss", "g_loss", "penalty"))


def test_compile_can_be_switched_on_when_resuming_but_precision_cannot_change(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0
    result = run("train", "--resume", out, "--steps", 2, "--compile", "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["compile"] is True
    result = run("train", "--resume", out, "--steps", 2, "--precision", "bf16")
    assert result.exit_code == 1 and "--precision cannot change" in result.output


def test_unknown_precision_is_refused_in_one_line(tmp_path):
    (tmp_path / "c.toml").write_text('precision = "fp16"\n')
    result = run("train", "--config", tmp_path / "c.toml", "--dry-run")
    assert result.exit_code == 1 and "--precision must be one of auto, fp32, bf16" in result.output
    with pytest.raises(GancliError):
        build_config({"precision": "int8"})


@pytest.mark.parametrize("flags, data_kind, expected", [
    ({"avx512_bf16"}, "image", "bf16"), ({"amx_bf16", "avx512_f"}, "image", "bf16"), ({"avx512_f", "avx2"}, "image", "fp32"),
    ({"avx512_bf16"}, "points", "fp32")])
def test_auto_precision_takes_bf16_for_images_on_a_cpu_with_bf16_instructions(monkeypatch, flags, data_kind,
                                                                               expected):
    monkeypatch.setattr(speed, "cpu_flags", lambda: flags)
    assert speed.resolve_precision("auto", torch.device("cpu"), data_kind) == expected
    assert speed.resolve_precision("fp32", torch.device("cpu"), data_kind) == "fp32"  # asked for: kept
    assert speed.resolve_precision("bf16", torch.device("cpu"), "points") == "bf16"


def test_cpu_flags_are_read_from_torch_or_proc(monkeypatch):
    flags = speed.cpu_flags()
    assert "sse2" in flags or not flags  # an x86 CPU names sse2; another one at least gives a set
    monkeypatch.setattr(torch._C._cpu, "_get_cpu_capability", None, raising=False)
    assert isinstance(speed.cpu_flags(), set)


@pytest.mark.parametrize("has_bf16", [True, False])
def test_auto_precision_is_recorded_as_what_it_chose_and_resumes_so(tmp_path, monkeypatch, has_bf16):
    monkeypatch.setattr(speed, "cpu_flags", lambda: {"avx512_bf16"} if has_bf16 else set())
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0
    chosen = "bf16" if has_bf16 else "fp32"
    assert json.loads((out / "run.json").read_text())["precision"] == chosen
    monkeypatch.setattr(speed, "cpu_flags", lambda: set() if has_bf16 else {"avx512_bf16"})  # another machine
    assert run("train", "--resume", out, "--steps", 2).exit_code == 0
    assert json.loads((out / "run.json").read_text())["precision"] == chosen


def test_old_runs_without_the_settings_resume_in_fp32_eager(tmp_path, monkeypatch):
    monkeypatch.setattr(speed, "cpu_flags", lambda: {"avx512_bf16"})  # where auto would pick bf16
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--precision", "fp32", "--out", out, *TINY).exit_code == 0
    recorded = json.loads((out / "run.json").read_text())
    assert recorded["precision"] == "fp32" and recorded["compile"] is False
    del recorded["precision"], recorded["compile"]
    (out / "run.json").write_text(json.dumps(recorded))
    assert run("train", "--resume", out, "--steps", 2).exit_code == 0
    assert json.loads((out / "run.json").read_text())["precision"] == "fp32"
