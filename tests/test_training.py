import json

import pytest
import torch
from safetensors.torch import load_file

from gancli.engine import checkpoint
from gancli.engine.models import load_generator
from helpers import TINY, run


def read_metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_wgan_gp_run_leaves_a_complete_run_directory(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--arch", "dcgan", "--loss", "wgan-gp", "--steps", 3, "--out", out,
                 "--sample-every", 2, "--checkpoint-every", 2, *TINY)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "run.json").read_text())
    assert config["loss"]["name"] == "wgan-gp" and config["n_critic"] == 5
    assert config["lipschitz"][0] == {"name": "gradient-penalty", "options": {"lambda": 10.0, "one_sided": False},
                                      "plugin": "gancli.default_plugins.lipschitz", "distribution": "gancli",
                                      "version": "0.1.0"}
    metrics = read_metrics(out)
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert all(m["penalty"] >= 0 and m["images_per_s"] > 0 for m in metrics)
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step-00000002.png", "step-00000003.png"]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-00000002.safetensors",
                                                                       "step-00000003.safetensors"]
    meta = checkpoint.read_meta(str(out / "generator.safetensors"))
    assert meta["kind"] == "generator" and meta["step"] == 3 and meta["z_dim"] == 64
    assert meta["arch"]["name"] == "dcgan" and meta["spec"]["shape"] == [1, 16, 16]
    assert meta["format"] == 1 and meta["gancli_version"] == "0.1.0"


def test_generator_file_alone_rebuilds_and_samples(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 2, "--out", out, *TINY).exit_code == 0
    lonely = tmp_path / "g.safetensors"
    lonely.write_bytes((out / "generator.safetensors").read_bytes())
    G, meta = load_generator(str(lonely))
    saved = load_file(str(lonely))
    assert all(torch.equal(v, saved["G." + k]) for k, v in G.state_dict().items())
    assert G(torch.randn(2, meta["z_dim"])).shape == (2, 1, 16, 16)


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--loss", "wgan-gp", "--n-critic", 2, *TINY]
    assert run("train", "--steps", 4, "--out", straight, *common).exit_code == 0
    assert run("train", "--steps", 2, "--out", split, *common).exit_code == 0
    result = run("train", "--resume", split, "--steps", 4)
    assert result.exit_code == 0, result.output
    assert "resuming" in result.output and "from step 2" in result.output
    assert [m["step"] for m in read_metrics(split)] == [1, 2, 3, 4]
    a, b = load_file(str(straight / "generator.safetensors")), load_file(str(split / "generator.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    last_a, last_b = read_metrics(straight)[-1], read_metrics(split)[-1]
    assert last_a["d_loss"] == last_b["d_loss"] and last_a["g_loss"] == last_b["g_loss"]


def test_resume_skips_a_damaged_latest_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 4, "--checkpoint-every", 2, "--out", out, *TINY).exit_code == 0
    (out / "checkpoints" / "step-00000004.safetensors").write_bytes(b"\x00garbage")
    result = run("train", "--resume", out, "--steps", 5)
    assert result.exit_code == 0, result.output
    assert "skipping damaged checkpoint" in result.output and "from step 2" in result.output


@pytest.mark.parametrize("args", [
    ["--arch", "mlp", "--loss", "bce"],
    ["--arch", "dcgan", "--loss", "wgan", "--lipschitz", "weight-clip"],
    ["--arch", "mlp", "--loss", "wgan", "--lipschitz", "gradient-penalty", "--lipschitz-opt", "lambda=5"],
    ["--arch", "dcgan", "--conditional"],
])
def test_component_combinations_train_on_digits(tmp_path, args):
    out = tmp_path / "run"
    result = run("train", "--steps", 2, "--out", out, *args, *TINY)
    assert result.exit_code == 0, result.output
    assert all(torch.isfinite(torch.tensor([m["d_loss"], m["g_loss"]])).all() for m in read_metrics(out))


@pytest.mark.parametrize("data", ["ring", "grid"])
def test_mlp_trains_on_2d_mixtures_and_plots_points(tmp_path, data):
    out = tmp_path / "run"
    result = run("train", "--arch", "mlp", "--data", data, "--steps", 3, "--out", out, "--batch-size", 16,
                 "--arch-opt", "width=8", "--data-opt", "n=200")
    assert result.exit_code == 0, result.output
    assert (out / "samples" / "step-00000003.png").exists()
    assert run("sample", out, "-n", 10, "-o", tmp_path / "p.npy").exit_code == 0
    import numpy as np

    assert np.load(tmp_path / "p.npy").shape == (10, 2)


def test_weight_clip_keeps_the_trained_critic_bounded(tmp_path):
    out = tmp_path / "run"
    args = ["--loss", "wgan", "--lipschitz", "weight-clip", "--lipschitz-opt", "clip=0.03"]
    assert run("train", "--steps", 2, "--out", out, *args, *TINY).exit_code == 0
    state = load_file(str(out / "checkpoints" / "step-00000002.safetensors"))
    critic = [v for k, v in state.items() if k.startswith("D.") and v.is_floating_point()
              and "running" not in k]
    assert max(v.abs().max().item() for v in critic) <= 0.03 + 1e-6


def test_keeps_only_the_last_checkpoints(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 4, "--checkpoint-every", 1, "--keep-checkpoints", 2, "--out", out,
               *TINY).exit_code == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-00000003.safetensors",
                                                                       "step-00000004.safetensors"]


def test_config_file_is_overridden_by_flags(tmp_path):
    (tmp_path / "run.toml").write_text('loss = "wgan"\nlipschitz = "weight-clip"\nsteps = 7\n'
                                       '[lipschitz-opt]\nclip = 0.02\n')
    result = run("train", "--config", tmp_path / "run.toml", "--steps", 3, "--dry-run")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["loss"]["name"] == "wgan" and plan["steps"] == 3
    assert plan["lipschitz"][0]["options"] == {"clip": 0.02}


def test_sample_writes_png_and_npy(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0
    assert run("sample", out, "-n", 16, "-o", tmp_path / "g.png").exit_code == 0
    from PIL import Image

    assert Image.open(tmp_path / "g.png").size[0] > 16 * 4
    assert run("sample", out, "-n", 5, "--seed", 3, "-o", tmp_path / "a.npy").exit_code == 0
    assert run("sample", out, "-n", 5, "--seed", 3, "-o", tmp_path / "b.npy").exit_code == 0
    import numpy as np

    a = np.load(tmp_path / "a.npy")
    assert a.shape == (5, 1, 16, 16) and np.array_equal(a, np.load(tmp_path / "b.npy"))


def test_conditional_sampling_by_label(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--conditional", "--out", out, *TINY).exit_code == 0
    assert run("sample", out, "--label", 3, "-n", 4, "-o", tmp_path / "threes.png").exit_code == 0
    assert (tmp_path / "threes.png").exists()


def test_per_class_grid_and_class_interpolation(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--conditional", "--out", out, *TINY).exit_code == 0
    assert run("sample", out, "--per-class", "-n", 3, "-o", tmp_path / "classes.npy").exit_code == 0
    import numpy as np

    grid = np.load(tmp_path / "classes.npy")
    assert grid.shape == (30, 1, 16, 16)
    result = run("sample", out, "--interpolate", "3:8", "--interp-steps", 5, "-n", 2, "-o", tmp_path / "m.npy")
    assert result.exit_code == 0, result.output
    morph = np.load(tmp_path / "m.npy").reshape(2, 5, 1, 16, 16)
    # the ends of each row are the plain classes 3 and 8 drawn from the same noise
    assert run("sample", out, "--label", 3, "-n", 1, "-o", tmp_path / "three.npy").exit_code == 0
    assert np.allclose(morph[0, 0], np.load(tmp_path / "three.npy")[0], atol=1e-6)
    assert not np.allclose(morph[0, 0], morph[0, -1])
    from helpers import one_line_error

    one_line_error(run("sample", out, "--interpolate", "3-8", "-o", tmp_path / "x.png"), "A:B")
    one_line_error(run("sample", out, "--interpolate", "3:10", "-o", tmp_path / "x.png"), "must be in 0..9")
    one_line_error(run("sample", out, "--per-class", "--label", 1, "-o", tmp_path / "x.png"), "choose one of")


def test_linear_lr_decay_falls_to_zero_at_the_last_step(tmp_path):
    out = tmp_path / "r"
    result = run("train", "--steps", 4, "--lr", 0.001, "--lr-decay", "linear", "--checkpoint-every", 1,
                 "--keep-checkpoints", 4, "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    used = [checkpoint.read_meta(str(path))["optimizer_groups"]["G"][0]["lr"]
            for path in sorted((out / "checkpoints").iterdir())]
    assert used == pytest.approx([0.001, 0.00075, 0.0005, 0.00025])  # the rate each step was taken with
    assert json.loads((out / "run.json").read_text())["lr_decay"] == "linear"
