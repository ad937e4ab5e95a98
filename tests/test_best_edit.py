"""`gancli edit RUN --direction ATTRIBUTE`: the best measured edit, a saved direction or a per-latent editor."""

import json

import pytest

from gancli.engine.directions import load_directions, save_directions
from helpers import run

TINY = ["--data", "faces", "--data-opt", "n=64", "--arch-opt", "width=4", "--batch-size", "8"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("best") / "run"
    assert run("train", *TINY, "--steps", "1", "--out", out).exit_code == 0
    clf = out.parent / "clf.safetensors"
    assert run("classifier", "train", "--data", "faces", "--data-opt", "n=64", "--steps", "3", "-o", clf).exit_code == 0
    for method, options in (("interfacegan", ["samples=60"]), ("gradient", ["samples=4", "hold=true"])):
        result = run("directions", "fit", out, "--method", method, "--attribute", "smile", "--classifier", clf,
                     "--measure", 6, *[x for o in options for x in ("--method-opt", o)])
        assert result.exit_code == 0, result.output
    return out


def test_a_per_latent_editor_is_measured_beside_the_direction_of_its_fit(fitted):
    _, meta = load_directions(str(fitted / "directions.safetensors"))
    editor = meta["editors"]["smiling-gradient-cond-others/per-latent"]
    assert editor["method"] == "classifier-gradient" and editor["options"]["hold"] is True
    assert 0 <= editor["measured"]["success"] <= 1 and editor["measured"]["samples"] == 6
    assert "smiling" not in {n.split("/")[0] for n in meta["editors"]}  # interfacegan has no per-latent editor
    listed = run("directions", "list", fitted, "--json")
    assert "smiling-gradient-cond-others/per-latent" in json.loads(listed.output)["editors"]
    assert "per-latent editor" in run("directions", "list", fitted).output


def rig(run_dir, editor_success: float):
    """Set what the editor measured at (the directions stay as measured), to see which one is picked."""
    path = str(run_dir / "directions.safetensors")
    vectors, meta = load_directions(path)
    for record in meta["directions"].values():
        if record.get("measured"):
            record["measured"] = {**record["measured"], "success": 0.5, "drift": 0.2}
    name = "smiling-gradient-cond-others/per-latent"
    meta["editors"][name]["measured"] = {**meta["editors"][name]["measured"], "success": editor_success,
                                         "drift": 0.01}
    spaces = meta.pop("spaces")
    save_directions(path, vectors, {k: v for k, v in meta.items() if k not in ("kind", "z_dim", "format")}, spaces)


def test_measuring_can_be_left_out(fitted):
    result = run("directions", "fit", fitted, "--method", "interfacegan", "--attribute", "hat", "--measure", 0,
                 "--method-opt", "samples=60", "--json")
    assert result.exit_code == 0 and "measured" not in json.loads(result.output)["directions"]["hat"], result.output


def test_the_bare_attribute_takes_the_best_measured_edit(fitted, tmp_path):
    rig(fitted, editor_success=0.95)
    walked = run("edit", fitted, "--direction", "smile", "-n", "2", "--strength", "-1,0,1", "-o", tmp_path / "a.png")
    assert walked.exit_code == 0 and "classifier-gradient on smiling" in walked.output, walked.output
    rig(fitted, editor_success=0.1)
    moved = run("edit", fitted, "--direction", "smile", "-n", "2", "--strength", "-1,0,1", "-o", tmp_path / "b.png")
    assert moved.exit_code == 0 and "direction smiling" in moved.output, moved.output
    named = run("edit", fitted, "--direction", "smiling-gradient-cond-others/per-latent", "-n", "1",
                "--strength", "0,1", "-o", tmp_path / "c.png")
    assert named.exit_code == 0 and "classifier-gradient on smiling" in named.output, named.output
