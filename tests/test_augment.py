"""Differentiable augmentation of D's inputs: the operations, the adaptive probability, and training with them."""

import json
import os
import subprocess
import sys
import types

import pytest
import torch
from safetensors.torch import load_file

import gancli
from gancli.augment import ops
from gancli.augment.ada import INTERVAL, AugmentProbability
from gancli.augment.pipeline import AugmentPipeline
from gancli.default_plugins.augmentations import ColorAugmentation, CutoutAugmentation, TranslationAugmentation
from gancli.default_plugins.datasets import DigitsDataset
from gancli.engine.distributed import World
from gancli.plugins import build_registry, reset_registry
from helpers import TINY, one_line_error, run

ALL = "color,translation,cutout"


def images(n=6, c=3, side=16, seed=0):
    return torch.rand(n, c, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def augment(component, x, p):
    return component.apply(x, component.draw(len(x), p, tuple(x.shape[1:]), x.device))


@pytest.mark.parametrize("component", [ColorAugmentation(), TranslationAugmentation(), CutoutAugmentation()])
def test_each_augmentation_is_differentiable_and_touches_only_the_chosen_images(component):
    x = images().requires_grad_()
    torch.manual_seed(1)
    y = augment(component, x, 1.0)
    assert y.shape == x.shape and not torch.equal(y, x)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # the generator learns through it
    torch.manual_seed(1)
    assert torch.equal(augment(component, x.detach(), 0.0), x.detach())  # p = 0: nothing changes


@pytest.mark.parametrize("component", [ColorAugmentation(), TranslationAugmentation(), CutoutAugmentation()])
def test_a_draw_uses_the_same_random_numbers_whatever_p(component):
    torch.manual_seed(3)
    component.draw(8, 0.0, (1, 16, 16), "cpu")
    after_zero = torch.get_rng_state()
    torch.manual_seed(3)
    component.draw(8, torch.tensor(0.7), (1, 16, 16), "cpu")
    assert torch.equal(after_zero, torch.get_rng_state())


def test_translation_shifts_whole_pixels_and_fills_the_border():
    x = torch.arange(64.0).view(1, 1, 8, 8)
    params = {"mask": torch.tensor([True]), "dy": torch.tensor([1]), "dx": torch.tensor([-2])}
    y = ops.apply_translation(x, params, ratio=0.25, pad="zeros")
    assert torch.equal(y[0, 0, 1:, :6], x[0, 0, :7, 2:])  # content moved down 1, left 2
    assert y[0, 0, 0].abs().sum() == 0 and y[0, 0, :, 6:].abs().sum() == 0
    reflected = ops.apply_translation(x, params, ratio=0.25, pad="reflect")
    assert torch.equal(reflected[0, 0, 0, :6], x[0, 0, 1, 2:])  # the mirrored row, not zeros


def test_cutout_sets_a_square_to_grey():
    x = torch.ones(1, 1, 8, 8)
    y = ops.apply_cutout(x, {"mask": torch.tensor([True]), "cy": torch.tensor([4]), "cx": torch.tensor([4])}, 0.5)
    assert (y == 0).sum() == 25 and torch.equal(y[0, 0, 2:7, 2:7], torch.zeros(5, 5))


def test_color_changes_brightness_and_contrast_of_grey_images():
    x = images(c=1)
    params = {"mask": torch.ones(6, dtype=torch.bool), "brightness": torch.full((6,), 0.25),
              "saturation": torch.full((6,), 1.7), "contrast": torch.ones(6)}
    assert torch.allclose(ops.apply_color(x, params), x + 0.25)  # saturation leaves grey images alone
    params.update(brightness=torch.zeros(6), contrast=torch.full((6,), 0.5))
    y = ops.apply_color(x, params)
    assert torch.allclose(y.std(dim=(1, 2, 3)), x.std(dim=(1, 2, 3)) * 0.5, atol=1e-6)


def test_two_processes_augment_their_slices_as_one_process_augments_the_batch():
    """Each rank draws the global batch's choices from the shared stream and keeps its rows."""
    x = images(n=8)
    chain = [ColorAugmentation(), TranslationAugmentation(), CutoutAugmentation()]
    torch.manual_seed(5)
    whole = AugmentPipeline(chain)(x, 0.6)
    parts = []
    for rank in range(2):
        world = World(rank=rank, size=2)
        torch.manual_seed(5)
        parts.append(AugmentPipeline(chain, world.shard, world.size)(world.shard(x), 0.6))
    assert torch.equal(torch.cat(parts), whole)


class FakeWorld:
    def sum_(self, tensor):
        return tensor


def test_adaptive_p_follows_the_sign_of_d_real_towards_the_target():
    ada = AugmentProbability(0.0, "cpu", adaptive=True, target=0.6, kimg=1, images_per_step=50)  # 0.2 per adjust
    for step in range(1, INTERVAL + 1):
        ada.observe(torch.tensor([3.0, 1.0, 2.0, -1.0, 5.0]))  # r_t = 0.6 + ... = (4 - 1) / 5 = 0.6: not above
        ada.adjust(step, FakeWorld())
    assert ada.p.item() == pytest.approx(0.0)  # at the target p moves down, and stays clamped at 0
    for step in range(INTERVAL + 1, 3 * INTERVAL + 1):
        ada.observe(torch.tensor([3.0, 1.0]))  # r_t = 1: D is sure of every real image
        ada.adjust(step, FakeWorld())
    assert ada.p.item() == pytest.approx(0.4) and ada.record() == {"augment_p": 0.4, "augment_rt": 1.0}
    saved = ada.tensors()
    other = AugmentProbability(0.0, "cpu", adaptive=True)
    other.restore(saved)
    assert other.p.item() == pytest.approx(0.4)


def test_fixed_p_stays_fixed():
    fixed = AugmentProbability(0.3, "cpu", adaptive=False)
    fixed.observe(torch.ones(4))
    fixed.adjust(INTERVAL, FakeWorld())
    assert fixed.p.item() == pytest.approx(0.3) and fixed.record() == {"augment_p": 0.3}


def read_metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def untimed(records):
    return [{k: v for k, v in r.items() if k not in ("images_per_s", "elapsed_s")} for r in records]


def test_training_logs_p_and_saves_it_with_checkpoints(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 8, "--out", out, "--augment", ALL, "--ada-kimg", "0.01", "--augment-opt",
                 "translation.pad=zeros", *TINY)
    assert result.exit_code == 0, result.output
    logged = [m["augment_p"] for m in read_metrics(out)]
    assert logged[0] == 0.0 and logged[-1] > 0  # auto starts at 0; D overfits at once on this tiny run
    assert all("augment_rt" in m for m in read_metrics(out))
    state = load_file(str(out / "checkpoints" / "step-00000008.safetensors"))["augment.state"]
    assert state[0].item() == pytest.approx(logged[-1], abs=1e-6)
    config = json.loads((out / "run.json").read_text())
    assert [a["name"] for a in config["augment"]] == ["color", "translation", "cutout"]
    assert config["augment"][1]["options"]["pad"] == "zeros" and config["augment_p"] == "auto"


def test_resume_continues_p_and_the_augmentation_randomness_exactly(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--augment", ALL, "--ada-kimg", "0.02", *TINY]
    assert run("train", "--steps", 10, "--out", straight, *common).exit_code == 0
    assert run("train", "--steps", 6, "--out", split, *common).exit_code == 0  # mid-interval: stats saved too
    result = run("train", "--resume", split, "--steps", 10)
    assert result.exit_code == 0, result.output
    a, b = load_file(str(straight / "generator.safetensors")), load_file(str(split / "generator.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert untimed(read_metrics(straight)) == untimed(read_metrics(split))
    assert read_metrics(split)[6]["augment_p"] > 0  # the resumed run did not start p again at 0


@pytest.mark.parametrize("args", [
    ["--pack", 2, "--augment-p", "0.5"],
    ["--conditional", "--augment-p", "1"],
    ["--loss", "wgan-gp", "--augment-p", "0.5"],  # the penalty is taken at the augmented batches
    ["--loss", "hinge", "--lipschitz", "r1", "--augment-p", "auto"],
    ["--arch", "resnet", "--loss", "hinge", "--augment-p", "1"],
])
def test_augmentation_trains_with_packing_conditioning_and_penalties(tmp_path, args):
    out = tmp_path / "run"
    result = run("train", "--steps", 2, "--out", out, "--augment", ALL, *args, *TINY)
    assert result.exit_code == 0, result.output
    assert all(torch.isfinite(torch.tensor([m["d_loss"], m["g_loss"]])).all() for m in read_metrics(out))


@pytest.mark.parametrize("args, fragment", [
    (["--augment", "colr"], 'did you mean "color"'),
    (["--augment", "color", "--augment-p", "1.5"], "--augment-p must be auto or a probability"),
    (["--augment", "color", "--augment-p", "often"], "--augment-p must be auto or a probability"),
    (["--augment-opt", "ratio=0.2"], "--augment-opt needs augmentations"),
    (["--augment", "cutout", "--augment-opt", "color.brightness=1"], "augmentation 'color' is not in use"),
    (["--augment", "color,color"], "each augmentation can be used once"),
    (["--augment", "color", "--loss", "wgan-gp"], "--augment-p auto reads the sign of D(real)"),
    (["--augment", "color", "--ada-target", "1.5"], "--ada-target must be in (0, 1)"),
])
def test_bad_augmentation_settings_are_refused_in_one_line(tmp_path, args, fragment):
    one_line_error(run("train", "--steps", 1, "--out", tmp_path / "run", *args, *TINY), fragment)


def test_points_are_not_augmented(tmp_path):
    result = run("train", "--steps", 1, "--out", tmp_path / "run", "--augment", "color", "--arch", "mlp",
                 "--data", "ring", "--batch-size", 8)
    one_line_error(result, "--augment transforms images")


def test_a_plugin_augmentation_is_used_by_the_trainer(tmp_path):
    calls = []

    class InvertAugmentation(gancli.Augmentation):
        """Flip the sign of the chosen images."""

        def draw(self, n, p, shape, device):
            return {"mask": torch.rand(n, device=device) < p}

        def apply(self, x, params):
            calls.append(len(x))
            return torch.where(params["mask"].view(-1, 1, 1, 1), -x, x)

    module = types.SimpleNamespace(register_augmentations=gancli.hookimpl(
        lambda register: register("invert", InvertAugmentation)))
    module.register_augmentations.__name__ = "register_augmentations"
    reset_registry(build_registry(extra_plugins=[("invert-plugin", module)], third_party=False))
    result = run("train", "--steps", 2, "--out", tmp_path / "run", "--augment", "invert", "--augment-p", "1", *TINY)
    assert result.exit_code == 0, result.output
    assert calls == [8, 8, 8] * 2  # real and fake in D's step, fake in G's step, each step
    config = json.loads((tmp_path / "run" / "run.json").read_text())
    assert config["augment"][0]["plugin"] == "invert-plugin"


def test_runs_made_before_augmentation_existed_resume_without_it(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 2, "--out", out, *TINY).exit_code == 0
    config = json.loads((out / "run.json").read_text())
    for key in ("augment", "augment_p", "ada_target", "ada_kimg"):
        del config[key]
    (out / "run.json").write_text(json.dumps(config))
    result = run("train", "--resume", out, "--steps", 3)
    assert result.exit_code == 0, result.output
    assert "augment_p" not in read_metrics(out)[-1]


def test_the_digits_subset_is_class_balanced_and_seeded():
    def digits(**options):
        return DigitsDataset(size=8, **options).load()

    full, tenth = digits(), digits(fraction=0.1)
    assert len(full.x) == 1797
    assert len(tenth.x) == 179 and tenth.labels.bincount().tolist() == [18] * 8 + [17, 18]
    assert torch.equal(tenth.x, digits(fraction=0.1).x)
    assert not torch.equal(tenth.x, digits(fraction=0.1, subset_seed=1).x)
    rows = {tuple(row.flatten().tolist()) for row in full.x}
    assert all(tuple(row.flatten().tolist()) in rows for row in tenth.x)  # real digits, not copies or new ones


def test_two_processes_train_with_augmentation_as_one_process(tmp_path):
    """Under torchrun the ranks draw the global batch's augmentations and pool r_t: the same run as one process."""
    exact = ["--data-opt", "size=8", "--arch", "mlp", "--arch-opt", "width=8", "--arch-opt", "g_norm=none",
             "--arch-opt", "init=torch", "--lr", "0.01", "--log-every", "1", "--batch-size", 8, "--steps", 4,
             "--augment", ALL, "--ada-kimg", "0.01", "--precision", "fp32"]  # float32: sums in another order
    two, one = tmp_path / "two", tmp_path / "one"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone", "-m", "gancli",
               "train", "--out", str(two), *map(str, exact)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert run("train", "--out", one, *exact).exit_code == 0
    a, b = load_file(str(two / "generator.safetensors")), load_file(str(one / "generator.safetensors"))
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    assert [m["augment_p"] for m in read_metrics(two)] == [m["augment_p"] for m in read_metrics(one)]
    assert read_metrics(one)[-1]["augment_p"] > 0


def test_a_config_file_may_list_the_augmentations_and_give_p_as_a_number(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('augment = ["color", "cutout"]\naugment-p = 0.5\n[augment-opt]\n"cutout.ratio" = 0.25\n')
    result = run("train", "--config", config, "--dry-run")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [a["name"] for a in plan["augment"]] == ["color", "cutout"] and plan["augment_p"] == "0.5"
    assert plan["augment"][1]["options"]["ratio"] == 0.25
