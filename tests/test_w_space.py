"""A tiny stylegan2 run through every command that takes latents: the W spaces end to end from the CLI."""

import json

import numpy as np
import pytest

from gancli.engine.directions import load_directions
from helpers import one_line_error, run

TINY_SG2 = ["--arch", "stylegan2", "--arch-opt", "width=4", "--arch-opt", "w_dim=8", "--arch-opt", "mapping_depth=2",
            "--arch-opt", "max_width=8", "--batch-size", "8"]


@pytest.fixture(scope="module")
def faces_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "run"
    trained = run("train", "--data", "faces", "--data-opt", "n=64", *TINY_SG2, "--steps", "2", "--out", out)
    assert trained.exit_code == 0, trained.output
    clf = out.parent / "clf.safetensors"
    assert run("classifier", "train", "--data", "faces", "--data-opt", "n=64", "--steps", "3", "-o", clf).exit_code == 0
    return out, clf


def test_sample_truncation_and_mixing(faces_run, tmp_path):
    faces_run, _ = faces_run
    for extra in ([], ["--truncation", "0.5"], ["--truncation", "0", "--truncation-cutoff", "2"],
                  ["--mix", "3", "--mix-layers", "0:2"], ["--mix", "3"]):
        result = run("sample", faces_run, "-n", "5", "-o", tmp_path / "x.npy", *extra)
        assert result.exit_code == 0, result.output
    run("sample", faces_run, "-n", "5", "-o", tmp_path / "plain.npy")
    run("sample", faces_run, "-n", "5", "--truncation", "0", "-o", tmp_path / "zero.npy")
    plain, zero = np.load(tmp_path / "plain.npy"), np.load(tmp_path / "zero.npy")
    assert not np.allclose(plain[0], plain[1])
    assert np.allclose(zero, zero[:1], atol=1e-5)  # psi 0: every sample is the average w's image
    one_line_error(run("sample", faces_run, "--truncation", "3", "-o", tmp_path / "x.png"), "must be in [-1, 2]")
    one_line_error(run("sample", faces_run, "--mix", "1", "--mix-layers", "2:99", "-o", tmp_path / "x.png"),
                   "--mix-layers must be A:B")


def test_directions_in_w_are_fitted_measured_listed_and_edited(faces_run, tmp_path):
    faces_run, clf = faces_run
    fitted = run("directions", "fit", faces_run, "--method", "interfacegan", "--attribute", "smile",
                 "--method-opt", "samples=60", "--classifier", clf, "--json")
    assert fitted.exit_code == 0, fitted.output
    record = json.loads(fitted.output[fitted.output.index("{"):])["directions"]["smiling@w"]
    assert record["space"] == "w" and 0 <= record["measured"]["success"] <= 1
    assert run("directions", "fit", faces_run, "--method", "sefa", "--method-opt", "k=2").exit_code == 0
    assert run("directions", "fit", faces_run, "--method", "pca", "--space", "w+", "--method-opt", "k=2",
               "--method-opt", "samples=50").exit_code == 0
    vectors, meta = load_directions(str(faces_run / "directions.safetensors"))
    assert meta["spaces"]["sefa-0@w"] == "w" and vectors["sefa-0@w"].shape == (8,)
    assert meta["spaces"]["pca-0@w+"] == "w+" and vectors["pca-0@w+"].dim() == 2
    listed = run("directions", "list", faces_run)
    assert "smiling@w" in listed.output and "success" in listed.output
    saved = tmp_path / "edited.safetensors"
    edited = run("edit", faces_run, "--direction", "smile", "-n", "2", "--strength", "-1,0,1", "--truncation", "0.8",
                 "-o", tmp_path / "s.png", "--save-latents", saved)
    assert edited.exit_code == 0 and "smiling@w in w" in edited.output, edited.output
    again = run("edit", faces_run, "--direction", "pca-0@w+", "--latent", saved, "-o", tmp_path / "p.png")
    assert again.exit_code == 0, again.output  # W latents of a file moved along a W+ direction
    walked = run("edit", faces_run, "--direction", "smile", "--method", "gradient", "--space", "w+", "-n", "1",
                 "--strength", "0,1", "-o", tmp_path / "g.png")
    assert walked.exit_code == 0 and "in w+" in walked.output, walked.output
    one_line_error(run("edit", faces_run, "--direction", "sefa-0@w", "--space", "z", "-o", tmp_path / "x.png"),
                   "lives in w, not in z")


def test_evaluate_with_truncation_on_attribute_features(faces_run):
    faces_run, _ = faces_run
    result = run("evaluate", faces_run, "--metrics", "fid", "-n", "40", "--truncation", "0.7", "--json",
                 "--no-record")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output[result.output.index("{"):])
    assert "truncation 0.7" in payload["generator"]["description"] and "attribute classifier" in \
        payload["extractor"]["name"]
