"""Bad input gets one clear line, exit code 1, no traceback."""

import json
import subprocess
import sys

import pytest

from helpers import TINY, one_line_error, run


@pytest.mark.parametrize("args, fragment", [
    (["--arch", "dcgn"], 'unknown architecture \'dcgn\' (did you mean "dcgan"?)'),
    (["--loss", "hinj"], "unknown loss 'hinj'"),
    (["--data", "digts"], 'did you mean "digits"'),
    (["--lipschitz", "gradient-penality"], 'did you mean "gradient-penalty"'),
    (["--loss", "wgan"], "it has none: add --lipschitz NAME (one of gradient-penalty, spectral-norm, weight-clip), or --lipschitz none"),
    (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["--steps", "-5"], "--steps must be 0 or more, got -5"),
    (["--lr", "0"], "--lr must be positive"),
    (["--loss-opt", "margin=1"], 'loss "bce" has no option \'margin\''),
    (["--arch-opt", "width=zero"], "option width must be int"),
    (["--lipschitz", "none", "--lipschitz", "weight-clip"], "cannot be combined"),
    (["--data", "folder:does/not/exist"], "does not exist"),
    (["--data", "mnist:nowhere"], "does not exist"),
    (["--arch", "dcgan", "--data", "ring"], "try --arch mlp"),
    (["--data", "ring", "--arch", "mlp", "--conditional", "--data-opt", "n=10"], None),
    (["--lipschitz-opt", "weight-clip.clip=1"], "enforcer 'weight-clip' is not in use"),
    (["--config", "missing.toml"], "config file missing.toml does not exist"),
])
def test_bad_training_input(tmp_path, args, fragment):
    result = run("train", "--steps", 1, "--out", tmp_path / "r", *args)
    if fragment is None:  # labelled 2-D mixture: conditional is allowed
        assert result.exit_code == 0, result.output
        return
    one_line_error(result, fragment)


def test_empty_data_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    one_line_error(run("train", "--data", f"folder:{tmp_path / 'empty'}", "--steps", 1), "contains no PNG/JPEG")


def test_plain_folder_path_is_taken_as_image_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(4):
        Image.new("L", (20, 20), color=i * 60).save(folder / f"{i}.png")
    result = run("train", "--data", folder, "--data-opt", "size=16", "--steps", 1, "--out", tmp_path / "r",
                 "--arch-opt", "width=4", "--batch-size", 4)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r" / "run.json").read_text())["data"]["name"] == "folder"


def test_bad_config_file(tmp_path):
    (tmp_path / "bad.toml").write_text("stepz = 3\n")
    one_line_error(run("train", "--config", tmp_path / "bad.toml"), "unknown key 'stepz' (did you mean \"steps\"?)")
    (tmp_path / "broken.toml").write_text("steps = \n")
    one_line_error(run("train", "--config", tmp_path / "broken.toml"), "is not valid TOML")
    (tmp_path / "typed.toml").write_text('steps = "many"\n')
    one_line_error(run("train", "--config", tmp_path / "typed.toml"), "steps must be a number")


@pytest.fixture
def trained(tmp_path):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0
    return out


def test_existing_run_is_not_overwritten(trained):
    one_line_error(run("train", "--steps", 1, "--out", trained), "already holds a run: continue it with --resume")


def test_resume_errors(trained, tmp_path):
    one_line_error(run("train", "--resume", trained, "--steps", 1), "already at step 1; pass --steps N")
    one_line_error(run("train", "--resume", trained, "--lr", "0.1"), "--lr cannot change")
    one_line_error(run("train", "--resume", tmp_path / "nope"), "is not a gancli run directory")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_checkpoint_is_refused(trained, tmp_path, damage):
    path = trained / "generator.safetensors"
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x13\x37" * 50, "empty": b""}[damage])
    one_line_error(run("sample", path, "-o", tmp_path / "x.png"), "truncated or corrupted")


def test_safetensors_without_gancli_metadata_is_refused(tmp_path):
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    one_line_error(run("sample", tmp_path / "other.safetensors", "-o", tmp_path / "x.png"), "without gancli metadata")


def test_sample_errors(trained, tmp_path):
    one_line_error(run("sample", tmp_path / "missing", "-o", tmp_path / "x.png"), "does not exist")
    one_line_error(run("sample", trained, "-o", tmp_path / "x.gif"), "must end in .png")
    one_line_error(run("sample", trained, "-n", 0, "-o", tmp_path / "x.png"), "-n must be at least 1")
    one_line_error(run("sample", trained, "--label", 2, "-o", tmp_path / "x.png"), "need a conditional generator")
    one_line_error(run("sample", trained, "-o", trained / "run.json" / "x.png"), "cannot write")


def test_sample_of_a_run_whose_plugin_is_missing(trained, tmp_path):
    from gancli.engine import checkpoint
    from safetensors.torch import load_file

    path = trained / "generator.safetensors"
    meta = checkpoint.read_meta(str(path))
    meta["arch"] = {**meta["arch"], "name": "stylegan9", "plugin": "fancy", "distribution": "gancli-fancy",
                    "version": "2.0"}
    checkpoint.save(str(path), load_file(str(path)), meta)
    one_line_error(run("sample", trained, "-o", tmp_path / "x.png"), "pip install gancli-fancy")


def test_unknown_list_kind():
    one_line_error(run("list", "lossez"), 'unknown component kind \'lossez\' (did you mean "losses"?)')


def test_help_and_list_do_not_import_torch():
    code = ("import sys; from gancli.cli import cli\n"
            "for args in (['--help'], ['list', '--json'], ['train', '--help'], ['sample', '--help']):\n"
            "    try: cli(args)\n"
            "    except SystemExit: pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("NO-TORCH")


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "gancli", "--help"], capture_output=True, text=True, check=True)
    assert "Usage: gancli" in out.stdout


def test_commands_that_need_torch_say_so_when_it_is_missing(tmp_path):
    code = ("import sys; sys.modules['torch'] = None\n"  # makes `import torch` raise ModuleNotFoundError
            "from gancli.cli import cli\n"
            "cli(['sample', 'nowhere', '-o', 'x.png'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "needs PyTorch, which is not installed: pip install torch" in proc.stderr


def test_checkpoints_are_not_private_files(tmp_path):
    import os
    import stat

    import torch

    from gancli.engine import checkpoint

    checkpoint.save(str(tmp_path / "c.safetensors"), {"w": torch.zeros(1)}, {})
    (tmp_path / "plain.txt").write_text("")  # an ordinary file: its mode follows the umask
    mode = stat.S_IMODE(os.stat(tmp_path / "c.safetensors").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain.txt").st_mode) & ~0o111
