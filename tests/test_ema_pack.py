import pytest
import torch
from safetensors.torch import load_file

from gancli.engine.wrappers import GeneratorEMA, PackedDiscriminator
from helpers import TINY, one_line_error, run


def test_packed_discriminator_scores_groups():
    seen = []

    class Inner(torch.nn.Module):
        def forward(self, x, labels=None):
            seen.append(x.shape)
            return x.flatten(1).sum(1)

    D = PackedDiscriminator(Inner(), 4)
    assert D(torch.ones(8, 3, 5, 5)).tolist() == [4 * 75.0, 4 * 75.0]
    assert seen[-1] == (2, 12, 5, 5)
    assert D(torch.arange(16.0).view(8, 2)).tolist() == [sum(range(8)), sum(range(8, 16))]


def test_ema_averages_and_ramps_up():
    G = torch.nn.Linear(2, 2)
    ema = GeneratorEMA(G, decay=0.9)
    start = ema.model.weight.clone()
    with torch.no_grad():
        G.weight.add_(1.0)
    ema.update(G)  # first update: decay min(0.9, 1/10) = 0.1
    assert torch.allclose(ema.model.weight, start + 0.9)
    assert not ema.model.weight.requires_grad


@pytest.mark.parametrize("data, arch", [("digits", "dcgan"), ("grid", "mlp")])
def test_packing_trains(tmp_path, data, arch):
    extra = ["--data-opt", "n=64"] if data == "grid" else ["--data-opt", "size=16"]
    result = run("train", "--arch", arch, "--data", data, "--pack", 4, "--steps", 2, "--batch-size", 8,
                 "--arch-opt", "width=4", "--out", tmp_path / "r", *extra)
    assert result.exit_code == 0, result.output
    state = load_file(str(tmp_path / "r" / "checkpoints" / "step-00000002.safetensors"))
    first = next(v for k, v in state.items() if k.startswith("D.inner.") and v.dim() >= 2)
    assert first.shape[1] == (4 if data == "digits" else 8)  # the first layer sees 4 packed samples


def test_packing_refusals(tmp_path):
    one_line_error(run("train", "--pack", 3, "--batch-size", 8), "must be a multiple of --pack 3")
    one_line_error(run("train", "--pack", 2, "--conditional"), "does not combine with --conditional")
    one_line_error(run("train", "--pack", 0), "--pack must be at least 1")
    one_line_error(run("train", "--ema", 1.5), "--ema must be in [0, 1)")


def test_ema_generator_is_what_gets_sampled_and_resume_is_exact(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    common = ["--ema", 0.99, *TINY]
    assert run("train", "--steps", 4, "--out", straight, *common).exit_code == 0
    full = load_file(str(straight / "checkpoints" / "step-00000004.safetensors"))
    sampled = load_file(str(straight / "generator.safetensors"))
    assert all(torch.equal(v, full["G_ema." + k[2:]]) for k, v in sampled.items())
    assert any(not torch.equal(v, full[k]) for k, v in sampled.items() if v.is_floating_point())
    assert run("train", "--steps", 2, "--out", split, *common).exit_code == 0
    assert run("train", "--resume", split, "--steps", 4).exit_code == 0
    resumed = load_file(str(split / "generator.safetensors"))
    assert all(torch.equal(resumed[k], sampled[k]) for k in sampled)


def test_a_training_checkpoint_samples_from_its_average(tmp_path):
    from gancli.engine.models import load_generator

    assert run("train", "--steps", 2, "--ema", 0.9, "--out", tmp_path / "r", *TINY).exit_code == 0
    G, _ = load_generator(str(tmp_path / "r" / "checkpoints" / "step-00000002.safetensors"))
    sampled = load_file(str(tmp_path / "r" / "generator.safetensors"))
    assert all(torch.equal(v, sampled["G." + k]) for k, v in G.state_dict().items())


def test_a_run_made_before_ema_and_pack_existed_still_resumes(tmp_path):
    import json

    out = tmp_path / "old"
    assert run("train", *TINY, "--steps", "2", "--out", out).exit_code == 0
    settings = json.loads((out / "run.json").read_text())
    for added_later in ("ema", "pack"):
        del settings[added_later]
    (out / "run.json").write_text(json.dumps(settings))
    result = run("train", "--resume", out, "--steps", "3")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 3
