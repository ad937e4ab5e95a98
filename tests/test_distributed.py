"""Data-parallel training on CPU (gloo) under torchrun, compared with one process on the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from gancli.engine import checkpoint
from helpers import run

# An MLP without BatchNorm: with per-rank batch statistics BatchNorm would differ between 2 ranks of 4 samples
# and 1 process of 8, by design (docs/distributed.md). R1 makes the critic step a double backward through DDP.
EXACT = ["--data-opt", "size=8", "--arch", "mlp", "--arch-opt", "width=8", "--arch-opt", "g_norm=none",
         "--arch-opt", "init=torch", "--loss", "bce", "--lipschitz", "r1", "--lipschitz-opt", "gamma=100",
         "--lr", "0.01", "--log-every", "1", "--precision", "fp32"]
TOLERANCE = 1e-5  # float32 sums in another order; the weights themselves move by more than 1e-2


def torchrun(*args, nproc=2):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc), "--standalone",
               *[str(a) for a in args]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def networks(path):
    return {k: v for k, v in load_file(str(path)).items() if k[:2] in ("G.", "D.")}


def max_difference(a, b):
    assert a.keys() == b.keys()
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def metrics(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    two, one, half = tmp_path / "two", tmp_path / "one", tmp_path / "half"
    result = torchrun("-m", "gancli", "train", "--steps", 3, "--batch-size", 8, "--out", two, *EXACT)
    assert "on 2 processes" in result.stderr and result.stderr.count("done: step 3") == 1  # rank 0 speaks
    assert run("train", "--steps", 3, "--batch-size", 8, "--out", one, *EXACT).exit_code == 0
    assert run("train", "--steps", 3, "--batch-size", 4, "--out", half, *EXACT).exit_code == 0

    last = "checkpoints/step-00000003.safetensors"
    assert max_difference(networks(two / last), networks(one / last)) < TOLERANCE
    assert max_difference(networks(half / last), networks(one / last)) > 100 * TOLERANCE  # a real difference
    assert [m["step"] for m in metrics(two)] == [1, 2, 3]  # rank 0 alone writes the log
    for a, b in zip(metrics(two), metrics(one)):
        assert abs(a["penalty"] - b["penalty"]) < 1e-4 and abs(a["d_loss"] - b["d_loss"]) < 1e-4
    assert min(m["penalty"] for m in metrics(one)) > 1e-3  # the double backward did something
    assert checkpoint.read_meta(str(two / last))["world_size"] == 2


def test_gradient_penalty_double_backward_through_ddp_is_exact(tmp_path):
    probe = Path(__file__).with_name("ddp_gp_probe.py")
    torchrun(probe, tmp_path / "gp.json")
    found = json.loads((tmp_path / "gp.json").read_text())
    assert found["max_diff"] < 1e-5 * found["grad_scale"]  # DDP's averaged gradient is the global batch's
    assert found["control_diff"] > 1e-2 * found["grad_scale"]  # one rank's own gradient is not


def test_a_run_resumes_on_another_number_of_processes(tmp_path):
    straight, elastic = tmp_path / "straight", tmp_path / "elastic"
    assert run("train", "--steps", 4, "--batch-size", 8, "--out", straight, *EXACT).exit_code == 0
    assert run("train", "--steps", 2, "--batch-size", 8, "--out", elastic, *EXACT).exit_code == 0
    result = run("train", "--resume", elastic, "--steps", 4, "--nproc-per-node", 2)  # through torchrun
    assert result.exit_code == 0, result.output
    last = "checkpoints/step-00000004.safetensors"
    assert checkpoint.read_meta(str(elastic / last))["world_size"] == 2
    assert max_difference(networks(elastic / last), networks(straight / last)) < TOLERANCE
    assert [m["step"] for m in metrics(elastic)] == [1, 2, 3, 4]


def test_the_global_batch_must_split_over_the_processes(tmp_path, monkeypatch):
    from gancli.engine import distributed
    from helpers import one_line_error

    monkeypatch.setattr(distributed, "current", lambda: distributed.World(rank=0, size=2))
    for collective in ("barrier", "agree_error"):  # no process group here: the check comes before any use
        monkeypatch.setattr(distributed.World, collective, lambda self, *args: None)
    one_line_error(run("train", "--steps", 1, "--batch-size", 7, "--out", tmp_path / "r", *EXACT),
                   "must be a multiple of 2 processes")


def test_world_is_read_from_torchrun_variables(monkeypatch):
    from gancli.engine import distributed
    from gancli.errors import GancliError

    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    world = distributed.world_from_env()
    assert (world.rank, world.size, world.local_rank, world.active, world.is_main) == (2, 4, 0, True, False)
    assert world.shard(torch.arange(8)).tolist() == [4, 5]
    monkeypatch.setenv("RANK", "4")
    try:
        distributed.world_from_env()
        raise AssertionError("RANK outside WORLD_SIZE accepted")
    except GancliError as exc:
        assert "outside WORLD_SIZE" in str(exc)
