"""gancli edit, the shipped pretrained:faces run, and edits' bad input."""

import os

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gancli.directions.latents import parse_strengths, read_latents, save_latents
from gancli.errors import GancliError
from gancli.latents import LatentSpaces
from gancli.pretrained import pretrained_path
from helpers import one_line_error, run, toy_style_generator



def strip_shape(path):
    with Image.open(path) as img:
        return img.size


def test_pretrained_faces_edits_right_after_install(tmp_path):
    result = run("edit", "pretrained:faces", "--direction", "smile", "-o", tmp_path / "strip.png")
    assert result.exit_code == 0, result.output
    # the run's best measured smile edit: the walk holding the other attributes, refined (docs/default_edit.md)
    assert "smiling-gradient-cond-others/per-latent: classifier-gradient on smiling" in result.output
    width, height = strip_shape(tmp_path / "strip.png")
    assert width >= 7 * 56 and height >= 4 * 56 and width > height  # 4 rows of 7 strengths


def test_the_shipped_run_is_an_ordinary_small_run():
    folder = pretrained_path("pretrained:faces")
    files = sorted(os.listdir(folder))
    assert files == ["classifier.safetensors", "directions.safetensors", "generator.safetensors", "run.json"]
    assert sum(os.path.getsize(os.path.join(folder, f)) for f in files) < 5e6
    listed = run("directions", "list", "pretrained:faces")
    for name in ("smiling", "smiling-cond-mouth_open", "smiling-gradient", "hat", "eyeglasses", "sefa-0", "pca-0"):
        assert name in listed.output
    sampled = run("sample", "pretrained:faces", "-n", "4", "-o", "grid.png")  # pretrained: works wherever a run does
    assert sampled.exit_code == 0, sampled.output


def test_latents_in_and_out_and_strength_lists(tmp_path):
    saved = tmp_path / "edited.npy"
    first = run("edit", "pretrained:faces", "--direction", "sefa-0", "-n", "2", "--strength", "-1,0,1", "-o",
                tmp_path / "a.png", "--save-latents", saved)
    assert first.exit_code == 0, first.output
    z = np.load(saved)
    assert z.shape == (6, 64)
    assert np.allclose(z[1] - z[0], z[2] - z[1], atol=1e-5) and np.isclose(np.linalg.norm(z[2] - z[1]), 1, atol=1e-4)
    one = tmp_path / "one.safetensors"
    from safetensors.torch import save_file

    save_file({"z": torch.from_numpy(z[1])}, str(one))
    again = run("edit", "pretrained:faces", "--direction", "hat", "--latent", one, "--strength", "0:2:3",
                "-o", tmp_path / "b.png", "--save-latents", tmp_path / "b.npy")
    assert again.exit_code == 0, again.output
    assert np.allclose(np.load(tmp_path / "b.npy")[0], z[1], atol=1e-6)
    assert parse_strengths("-3:3:7") == [-3, -2, -1, 0, 1, 2, 3] and parse_strengths("2") == [2.0]


def test_gradient_editor_on_the_pretrained_run(tmp_path):
    result = run("edit", "pretrained:faces", "--direction", "smile", "--method", "gradient", "--condition-on", "mouth",
                 "-n", "2", "--strength", "0,1", "-o", tmp_path / "g.png", "--save-latents", tmp_path / "g.npy")
    assert result.exit_code == 0, result.output
    assert "classifier-gradient on smiling" in result.output
    z = np.load(tmp_path / "g.npy")
    # the walk stops at its first step 1 or more from the start: past 1 by less than a step (0.2)
    assert 1.0 - 1e-5 <= np.linalg.norm(z[1] - z[0]) < 1.2


def test_refined_held_edit_on_the_pretrained_run_lands_at_the_asked_distance(tmp_path):
    result = run("edit", "pretrained:faces", "--direction", "smile", "--method", "gradient", "--method-opt",
                 "hold=true", "--method-opt", "refine=3", "-n", "2", "--strength", "-1,0,1", "-o", tmp_path / "r.png",
                 "--save-latents", tmp_path / "r.npy")
    assert result.exit_code == 0, result.output
    z = np.load(tmp_path / "r.npy").reshape(2, 3, -1)  # samples x strengths
    distances = np.linalg.norm(z[:, [0, 2]] - z[:, [1]], axis=2)
    assert np.allclose(distances, 1.0, atol=1e-4)  # refining ends exactly on the sphere, not past it


def test_bad_edit_requests_are_one_line_errors(tmp_path):
    out = tmp_path / "x.png"
    unknown = run("edit", "pretrained:faces", "--direction", "frown", "-o", out)
    one_line_error(unknown, "unknown direction 'frown'")
    assert "known directions:" in unknown.output and "smiling-cond-mouth_open" in unknown.output
    np.save(tmp_path / "small.npy", np.zeros((3, 10), dtype=np.float32))
    one_line_error(run("edit", "pretrained:faces", "--direction", "smile", "--latent", tmp_path / "small.npy",
                       "-o", out), "latents have shape (N, 64)")
    one_line_error(run("edit", "pretrained:faces", "--direction", "beard", "--method", "gradient", "-o", out),
                   "does not know attribute 'beard'; it knows: smiling, mouth_open, eyeglasses, hat")
    one_line_error(run("edit", "pretrained:faces", "--direction", "smile", "--method", "sefa", "-o", out),
                   "no per-latent editor")
    one_line_error(run("edit", "pretrained:faces", "--direction", "smile", "--strength", "a:b", "-o", out),
                   "--strength")
    one_line_error(run("edit", "pretrained:nope", "--direction", "smile", "-o", out), "shipped: pretrained:faces")
    one_line_error(run("edit", "pretrained:faces", "--direction", "smile", "-o", tmp_path / "x.jpg"), ".png")


def test_a_run_without_directions_says_how_to_fit_them(tmp_path):
    trained = run("train", "--data", "faces", "--data-opt", "n=16", "--arch-opt", "width=4", "--batch-size", "8",
                  "--steps", "1", "--out", tmp_path / "run", "--device", "cpu")
    assert trained.exit_code == 0, trained.output
    result = run("edit", tmp_path / "run", "--direction", "smile", "-o", tmp_path / "x.png")
    one_line_error(result, "has no directions yet; fit some with: gancli directions fit")


def test_latent_file_problems(tmp_path):
    spaces = LatentSpaces(nn.Identity(), 8)  # a Z-only generator of 8 inputs
    with pytest.raises(GancliError, match="does not exist"):
        read_latents(str(tmp_path / "none.npy"), spaces)
    (tmp_path / "z.txt").write_text("1 2 3")
    with pytest.raises(GancliError, match=".npy or .safetensors"):
        read_latents(str(tmp_path / "z.txt"), spaces)
    np.save(tmp_path / "nan.npy", np.full((2, 8), np.nan, dtype=np.float32))
    with pytest.raises(GancliError, match="non-finite"):
        read_latents(str(tmp_path / "nan.npy"), spaces)
    latents, space = read_latents(str(_saved(tmp_path, np.ones(8))), spaces)
    assert latents.shape == (1, 8) and space == "z"


def test_latent_files_name_their_space_and_a_wrong_space_or_size_is_one_line(tmp_path):
    G = toy_style_generator(z_dim=6, w_dim=5, num_ws=3)
    spaces, flat = LatentSpaces(G, 6), LatentSpaces(nn.Identity(), 6)
    ws = spaces.sample(4, 0, "w+")
    save_latents(str(tmp_path / "ws.safetensors"), ws, "w+")
    back, space = read_latents(str(tmp_path / "ws.safetensors"), spaces)
    assert space == "w+" and torch.equal(back, ws)
    np.save(tmp_path / "ws.npy", ws.numpy())
    assert read_latents(str(tmp_path / "ws.npy"), spaces)[1] == "w+"  # three dimensions: W+
    np.save(tmp_path / "w.npy", np.zeros((2, 5), dtype=np.float32))
    assert read_latents(str(tmp_path / "w.npy"), spaces, "w")[1] == "w"
    with pytest.raises(GancliError, match="Z space only"):
        read_latents(str(tmp_path / "ws.safetensors"), flat)
    with pytest.raises(GancliError, match="holds w\\+ latents, not z"):
        read_latents(str(tmp_path / "ws.safetensors"), spaces, "z")
    with pytest.raises(GancliError, match="w latents have shape \\(N, 7\\)"):
        read_latents(str(tmp_path / "w.npy"), LatentSpaces(toy_style_generator(w_dim=7), 6), "w")


def _saved(tmp_path, array):
    path = tmp_path / "ok.npy"
    np.save(path, array.astype(np.float32))
    return path


def test_w_requests_on_a_z_only_generator_are_one_line_errors(tmp_path):
    import shutil

    from gancli.engine.directions import load_directions, save_directions

    out = tmp_path / "x.png"
    one_line_error(run("edit", "pretrained:faces", "--direction", "smile", "--truncation", "0.7", "-o", out),
                   "Z space only: drop --truncation")
    one_line_error(run("edit", "pretrained:faces", "--direction", "smile", "--method", "gradient", "--space", "w",
                       "-o", out), "--space w needs a generator with a W space")
    one_line_error(run("sample", "pretrained:faces", "--truncation", "0.7", "-o", out), "Z space only")
    one_line_error(run("sample", "pretrained:faces", "--mix", "3", "-o", out), "--mix needs a generator with a W space")
    copy = tmp_path / "faces"
    shutil.copytree(pretrained_path("pretrained:faces"), copy)
    one_line_error(run("directions", "fit", copy, "--method", "sefa", "--space", "w+"),
                   "--space w+ needs a generator with a W space")
    path = str(copy / "directions.safetensors")
    vectors, meta = load_directions(path)
    vectors["smiling@w"] = torch.ones(16)
    save_directions(path, vectors, {k: v for k, v in meta.items() if k not in ("kind", "z_dim", "format", "spaces")},
                    {**meta["spaces"], "smiling@w": "w"})
    one_line_error(run("edit", copy, "--direction", "smiling@w", "-o", out), "lives in W space, but this generator has "
                   "a Z space only")
