"""Out of memory: one line naming the batch size and what it asked for; nothing lost."""

import pytest

from gancli.engine import checkpoint, memory, runs
from gancli.engine.trainer import Trainer
from helpers import TINY, one_line_error, run

CUDA_OOM = ("CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 139.8 GiB of which "
            "1.2 GiB is free.")


def test_the_request_is_read_from_each_allocator_message():
    cpu = RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                       "you tried to allocate 313600000000 bytes. Error code 12 (Cannot allocate memory)")
    assert memory.requested(cpu) == "292.1 GiB"
    assert memory.requested(RuntimeError(CUDA_OOM)) == "20.00 GiB"
    assert memory.requested(MemoryError()) == "more than there is"
    assert memory.requested(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None
    assert memory.requested(ValueError("out of memory")) is None


def test_a_batch_too_big_for_memory_is_one_line_and_leaves_the_out_folder_free(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--steps", 1, "--out", out, *TINY, "--batch-size", 100_000_000)
    one_line_error(result, "out of memory on cpu at --batch-size 100000000: a step asked for")
    assert "GiB" in result.output and not runs.is_run(str(out))
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0  # the retry needs no other --out


def test_running_out_later_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_step = Trainer.train_step

    def step(self, *args):
        if self.step == 4:
            raise RuntimeError(CUDA_OOM)  # torch.OutOfMemoryError is a RuntimeError with this message
        return real_step(self, *args)

    monkeypatch.setattr(Trainer, "train_step", step)
    result = run("train", "--steps", 8, "--checkpoint-every", 2, "--out", out, *TINY)
    one_line_error(result, "out of memory on cpu at --batch-size 8: a step asked for 20.00 GiB")
    assert runs.is_run(str(out))
    step_of_newest, newest = sorted(runs.checkpoints(str(out)))[-1]
    assert step_of_newest == 4 and checkpoint.load(newest)[1]["step"] == 4


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError(CUDA_OOM)])
def test_other_commands_say_it_in_one_line_too(tmp_path, monkeypatch, error):
    out = tmp_path / "run"
    assert run("train", "--steps", 1, "--out", out, *TINY).exit_code == 0
    from gancli.latents import LatentSpaces

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(LatentSpaces, "generate", fail)
    one_line_error(run("sample", out, "-n", 4, "-o", tmp_path / "x.png"), "out of memory: the command asked for")
