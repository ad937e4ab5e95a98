import json
import os
import signal
import subprocess
import sys
import time

import pytest

from gancli.engine import checkpoint


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_saves_a_checkpoint_and_the_run_resumes(tmp_path, sig):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "gancli", "train", "--steps", "100000", "--out", str(out), "--data-opt", "size=16",
           "--arch-opt", "width=4", "--batch-size", "8", "--log-every", "1", "--checkpoint-every", "100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    metrics = out / "metrics.jsonl"
    deadline = time.time() + 60
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        assert time.time() < deadline and proc.poll() is None, proc.stdout.read()
        time.sleep(0.1)
    proc.send_signal(sig)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, output
    assert "interrupted at step" in output and "Traceback" not in output
    saved = checkpoint.read_meta(str(out / "generator.safetensors"))["step"]
    assert saved >= 3 and (out / "checkpoints" / f"step-{saved:08d}.safetensors").exists()

    resumed = subprocess.run([sys.executable, "-m", "gancli", "train", "--resume", str(out), "--steps",
                              str(saved + 2)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps[-2:] == [saved + 1, saved + 2]
