"""gancli's Python API: the same runs, samples and figures as the commands, bad input in one line, no torch on
import, and an interruption that leaves a checkpoint."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import gancli
from gancli.engine import runs
from gancli.engine.trainer import Reporter
from helpers import TINY, run

SMALL = dict(data_opt={"size": 16}, arch_opt={"width": 4}, batch_size=8, log_every=1, progress=False)
RING = dict(arch="mlp", data="ring", batch_size=16, log_every=1, progress=False)


@pytest.fixture
def digits(tmp_path):
    """A 3-step DCGAN on 16x16 digits, trained through the API."""
    return gancli.train(steps=3, out=tmp_path / "digits", **SMALL)


def error_line(result) -> str:
    return next(line for line in result.output.splitlines() if line.startswith("Error:"))[len("Error: "):]


def test_import_gancli_loads_no_torch_and_the_api_names_load_lazily():
    code = ("import sys, gancli\n"
            "assert 'torch' not in sys.modules and 'gancli.api' not in sys.modules\n"
            "names = [gancli.train, gancli.resume, gancli.load, gancli.evaluate, gancli.list_components, gancli.Run]\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_train_returns_a_run_with_its_folder_config_metrics_and_grids(digits):
    assert isinstance(digits, gancli.Run) and runs.is_run(digits.path)
    assert digits.config["arch"]["name"] == "dcgan" and digits.config["steps"] == 3
    assert digits.last["step"] == 3 and [r["step"] for r in digits.metrics] == [1, 2, 3]
    assert digits.step == 3 and digits.interrupted is None and digits.samples
    assert digits.grid()._repr_png_().startswith(b"\x89PNG") and digits._repr_png_().startswith(b"\x89PNG")
    g = digits.generator()
    assert g.step == 3 and g.space_names == ("z",) and g.kind == "image"


def test_load_sample_equals_gancli_sample_npy_bit_for_bit(digits, tmp_path):
    out = tmp_path / "x.npy"
    result = run("sample", digits.path, "-n", 10, "--seed", 5, "-o", out)
    assert result.exit_code == 0, result.output
    mine = gancli.load(digits.path).sample(10, seed=5).numpy()
    cli = np.load(out)
    assert mine.dtype == cli.dtype == np.float32 and mine.shape == (10, 1, 16, 16)
    assert np.array_equal(mine, cli)
    assert not np.array_equal(mine, gancli.load(digits).sample(10, seed=6).numpy())


def test_conditional_samples_labels_and_grids_match_the_cli(tmp_path):
    run_ = gancli.train(steps=2, out=tmp_path / "c", conditional=True, **SMALL)
    g = gancli.load(run_)
    assert g.num_classes == 10
    for args, grid in ((["--label", 7], g.images(8, seed=1, labels=7)), (["--per-class"], g.per_class(3, seed=1)),
                       (["--interpolate", "3:8"], g.interpolate(3, 8, n=2, steps=4, seed=1))):
        out = tmp_path / "x.npy"
        extra = ["-n", 3] if args == ["--per-class"] else ["-n", 2, "--interp-steps", 4] if "--interpolate" in args \
            else ["-n", 8]
        assert run("sample", run_.path, *args, *extra, "--seed", 1, "-o", out).exit_code == 0
        assert np.array_equal(grid.samples, np.load(out))
    assert g.per_class(2).image.size == g.grid(g.sample(20), nrow=2).image.size


def test_evaluate_equals_gancli_evaluate_json(tmp_path):
    ring = gancli.train(steps=3, out=tmp_path / "ring", **RING)
    mine = gancli.evaluate(ring, n=200, seed=2, record=False)
    result = run("evaluate", ring.path, "-n", 200, "--seed", 2, "--no-record", "--json")
    assert result.exit_code == 0, result.output
    assert mine == json.loads(result.output[result.output.index("{"):])
    assert set(mine["values"]) == {"modes", "hq_percent", "kl"}


def test_list_components_is_what_gancli_list_json_shows():
    listed = json.loads(run("list", "losses", "--json").output)
    assert gancli.list_components("losses") == listed["loss"]
    everything = gancli.list_components()
    assert "architecture" in everything and "recipe" in everything
    assert gancli.list_components("recipes") == json.loads(run("list", "recipes", "--json").output)["recipe"]


def test_dry_run_is_gancli_train_dry_run(tmp_path):
    cli = run("train", "--recipe", "mlp-ring", "--steps", 7, "--arch-opt", "width=8", "--out", tmp_path / "r",
              "--dry-run")
    mine = gancli.train(recipe="mlp-ring", steps=7, arch_opt={"width": 8}, out=tmp_path / "r", dry_run=True)
    assert mine == json.loads(cli.output) and mine["steps"] == 7 and mine["recipe"] == "mlp-ring"
    assert not (tmp_path / "r").exists()


def test_an_unknown_keyword_says_did_you_mean(tmp_path):
    with pytest.raises(gancli.GancliError, match=r"unknown keyword 'stpes' \(did you mean \"steps\"\?\)"):
        gancli.train(stpes=3, out=tmp_path / "r")
    with pytest.raises(gancli.GancliError, match=r'did you mean "batch_size"'):
        gancli.train(batch_sise=8, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flags, keywords", [
    (["--loss", "wgan-gpp"], {"loss": "wgan-gpp"}),
    (["--steps", "-1"], {"steps": -1}),
    (["--loss", "wgan"], {"loss": "wgan"}),
    (["--conditional", "--pack", "2"], {"conditional": True, "pack": 2}),
])
def test_bad_settings_fail_with_the_cli_s_own_line(tmp_path, flags, keywords):
    cli = run("train", *flags, "--out", tmp_path / "cli", *TINY)
    assert cli.exit_code == 1
    with pytest.raises(gancli.GancliError) as caught:
        gancli.train(out=tmp_path / "api", **keywords, **SMALL)
    assert str(caught.value) == error_line(cli)
    assert not (tmp_path / "api").exists() and not (tmp_path / "cli").exists()


def test_a_run_that_fails_while_starting_leaves_no_half_written_run(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(gancli.GancliError, match='architecture "dcgan" handles image data'):
        gancli.train(arch="dcgan", data="ring", steps=2, out=out, progress=False)
    assert not out.exists()
    assert gancli.train(steps=1, out=out, **SMALL).step == 1  # the same --out is free for the retry


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    for call in (lambda p: gancli.resume(p, steps=5), gancli.load, gancli.Run, gancli.evaluate):
        with pytest.raises(gancli.GancliError, match="is not a gancli run directory"):
            call(str(tmp_path / "empty"))
    with pytest.raises(gancli.GancliError, match="does not exist"):
        gancli.load(tmp_path / "nowhere")
    assert os.listdir(tmp_path / "empty") == []


def test_resume_continues_and_refuses_what_cannot_change(digits):
    with pytest.raises(gancli.GancliError, match="--arch cannot change"):
        gancli.resume(digits, steps=5, arch="mlp")
    with pytest.raises(gancli.GancliError, match="did you mean \"steps\""):
        gancli.resume(digits, stesp=5)
    again = gancli.resume(digits, steps=5, progress=False)
    assert again.step == 5 and [r["step"] for r in again.metrics] == [1, 2, 3, 4, 5]


class InterruptAt(Reporter):
    """Sends this process SIGINT (Ctrl-C, the notebook's stop button) once training reaches ``step``."""

    def __init__(self, step):
        self.at, self.messages = step, []

    def update(self, step, record):
        if step == self.at:
            os.kill(os.getpid(), signal.SIGINT)

    def message(self, text):
        self.messages.append(text)


def test_ctrl_c_during_train_leaves_a_checkpoint_and_returns_the_run(tmp_path):
    reporter = InterruptAt(3)
    stopped = gancli.train(steps=1000, out=tmp_path / "r", checkpoint_every=1000,
                           **{**SMALL, "progress": reporter})
    step = stopped.step
    assert stopped.interrupted == step and 3 <= step < 1000
    assert runs.checkpoints(stopped.path)[-1][0] == step
    assert any("interrupted at step" in m and "gancli.resume(" in m for m in reporter.messages)
    assert gancli.resume(stopped, steps=step + 2, progress=False).step == step + 2


def test_pretrained_faces_directions_and_edit_match_gancli_edit(tmp_path):
    g = gancli.load("pretrained:faces")
    assert "smiling" in " ".join(g.directions) and all("space" in d for d in g.directions.values())
    result = g.edit(2, "smile", [-2, 0, 2], seed=4)
    assert result.images.shape[0] == 6 and result.grid.nrow == 3 and result._repr_png_().startswith(b"\x89PNG")
    latents = tmp_path / "edited.npy"
    cli = run("edit", "pretrained:faces", "--direction", "smile", "-n", 2, "--seed", 4, "--strength", "-2,0,2",
              "-o", tmp_path / "strip.png", "--save-latents", latents)
    assert cli.exit_code == 0, cli.output
    assert np.array_equal(result.latents.numpy(), np.load(latents))
    z = g.latents(2, seed=4)
    assert np.array_equal(g.edit(z, "smile", "-2:2:3").latents.numpy(), np.load(latents))
    assert tuple(g.spaces.shape("z")) == (g.meta["z_dim"],)


def test_export_and_load_the_onnx_file_without_torch_draws_as_gancli_generate(digits, tmp_path):
    exported = digits.generator().export(onnx=tmp_path / "g.onnx")
    assert exported.paths == [str(tmp_path / "g.onnx")] and exported.as_json()["exports"][0]["format"] == "onnx"
    onnx = gancli.load(tmp_path / "g.onnx")
    assert onnx.step == 3 and onnx.space_names == ("z",)
    out = tmp_path / "x.npy"
    assert run("generate", tmp_path / "g.onnx", "-n", 5, "--seed", 1, "-o", out).exit_code == 0
    assert np.array_equal(onnx.sample(5, seed=1), np.load(out))
    assert onnx.images(4)._repr_png_().startswith(b"\x89PNG")
    close = np.abs(onnx.decode(gancli.load(digits).latents(3).numpy()) - gancli.load(digits).sample(3).numpy())
    assert close.max() < 1e-4
    code = (f"import sys, gancli\ng = gancli.load({str(tmp_path / 'g.onnx')!r})\n"
            "assert g.sample(2, seed=1).shape == (2, 1, 16, 16) and g.images(4)._repr_png_()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # an export draws without torch


def test_report_and_plugins_are_what_the_commands_write_and_show(digits, tmp_path):
    from gancli.api.listing import plugins

    written = digits.report(tmp_path / "figures")
    assert written == [str(tmp_path / "figures" / "losses.png")] and digits.evaluations == []
    result = run("report", digits.path, "-o", tmp_path / "cli")
    assert result.exit_code == 0 and (tmp_path / "cli" / "losses.png").is_file()
    assert plugins(builtin=True) == json.loads(run("plugins", "--all", "--json").output)
    assert plugins() == []  # the tests run without third-party plugins


def test_an_onnx_export_edits_along_its_directions_as_gancli_generate(tmp_path):
    gancli.load("pretrained:faces").export(onnx=tmp_path / "f.onnx")
    faces = gancli.load(tmp_path / "f.onnx")
    assert "smiling" in faces.directions and faces.directions["smiling"]["space"] == "z"
    strip = faces.edit(2, "smile", [-2, 0, 2], seed=3)
    assert strip.nrow == 3 and strip.samples.shape[0] == 6
    out = tmp_path / "x.npy"
    result = run("generate", tmp_path / "f.onnx", "--direction", "smile", "--strength", 2, "-n", 2, "--seed", 3,
                 "-o", out)
    assert result.exit_code == 0, result.output
    assert np.array_equal(strip.samples[2::3], np.load(out))


def test_progress_choices(tmp_path, capsys):
    from gancli.api.progress import LineReporter, RichReporter, reporter_for

    assert type(reporter_for(False)) is Reporter and type(reporter_for(None)) is Reporter
    assert isinstance(reporter_for("lines"), LineReporter) and isinstance(reporter_for(True), RichReporter)
    mine = InterruptAt(-1)
    assert reporter_for(mine) is mine
    with pytest.raises(gancli.GancliError, match="progress must be one of auto, bar, notebook, lines, none"):
        reporter_for("loud")
    gancli.train(steps=1, out=tmp_path / "r", **{**SMALL, "progress": "lines"})
    said = capsys.readouterr().err
    assert "run " in said and "training from step 0 to 1" in said
    gancli.train(steps=1, out=tmp_path / "quiet", **SMALL)
    assert capsys.readouterr().err == ""
