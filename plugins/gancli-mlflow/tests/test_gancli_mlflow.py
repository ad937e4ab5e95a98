"""gancli-mlflow's tests: the contract check, and runs read back through MLflow's own client."""

import json

import pytest
from mlflow.tracking import MlflowClient

import gancli.testing
import gancli_mlflow

TINY = ["--steps", 4, "--batch-size", 8, "--data-opt", "size=16", "--arch-opt", "width=4", "--log-every", 1,
        "--sample-every", 2]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for the module's tests (creating its tables takes seconds)."""
    return "sqlite:///" + str(tmp_path_factory.mktemp("mlflow") / "mlflow.db")


def metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def mlflow_run(out, store):
    recorded = json.loads((out / gancli_mlflow.RUN_FILE).read_text())
    assert recorded["tracking_uri"] == store
    client = MlflowClient(tracking_uri=store)
    return client, client.get_run(recorded["run_id"])


def train(*args):
    with gancli.testing.use_plugin(gancli_mlflow):
        return gancli.testing.run_cli("train", *args)


def test_plugin_passes_the_contract_checks(store):
    plugin = gancli.testing.check_plugin(gancli_mlflow, options={"mlflow": {"tracking_uri": store}})
    assert plugin.components == [("logger", "mlflow")]


def test_a_run_reads_back_through_mlflows_client(tmp_path, store):
    out = tmp_path / "run"
    result = train("--log", "mlflow", "--log-opt", f"tracking_uri={store}", "--log-opt", "experiment=digits",
                   "--out", out, *TINY)
    assert result.exit_code == 0, result.output
    client, run = mlflow_run(out, store)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert client.get_experiment(run.info.experiment_id).name == "digits"
    config = json.loads((out / "run.json").read_text())
    params = run.data.params
    assert params["arch.name"] == "dcgan" and params["arch.options.width"] == "4" and params["steps"] == "4"
    assert params["log"] == "jsonl,mlflow" and params["log.mlflow.options.experiment"] == "digits"
    assert params == gancli_mlflow.flatten(config)

    logged = metrics(out)
    for name in (k for k in logged[0] if k != "step"):
        history = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, name))
        assert history == [(m["step"], pytest.approx(m[name])) for m in logged]

    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert files == {"run.json", "samples", "generator.safetensors"}
    grids = [f.path for f in client.list_artifacts(run.info.run_id, "samples")]
    assert grids == ["samples/step-00000002.png", "samples/step-00000004.png"]
    (tmp_path / "back").mkdir()
    for name in ("generator.safetensors", "run.json"):
        client.download_artifacts(run.info.run_id, name, str(tmp_path / "back"))
    assert (tmp_path / "back" / "generator.safetensors").read_bytes() == (out / "generator.safetensors").read_bytes()
    assert json.loads((tmp_path / "back" / "run.json").read_text()) == config


def test_a_resumed_run_goes_on_in_the_same_mlflow_run(tmp_path, store):
    out = tmp_path / "resumed"
    assert train("--log", "mlflow", "--log-opt", f"tracking_uri={store}", "--out", out, *TINY).exit_code == 0
    with gancli.testing.use_plugin(gancli_mlflow):
        result = gancli.testing.run_cli("train", "--resume", out, "--steps", 6)
    assert result.exit_code == 0, result.output
    client, run = mlflow_run(out, store)
    steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, "g_loss"))
    assert steps == [1, 2, 3, 4, 5, 6] and run.info.status == "FINISHED"
    assert run.data.tags["gancli.resumed_from_step"] == "4" and run.data.params["steps"] == "4"  # params stay
    (tmp_path / "back").mkdir()
    client.download_artifacts(run.info.run_id, "run.json", str(tmp_path / "back"))
    assert json.loads((tmp_path / "back" / "run.json").read_text())["steps"] == 6  # run.json is the current one


def test_a_local_file_store_when_mlflow_allows_it(tmp_path, monkeypatch):
    out, folder = tmp_path / "run", tmp_path / "mlruns"
    result = train("--log", "mlflow", "--log-opt", f"tracking_uri={folder}", "--out", out, *TINY)
    assert result.exit_code == 1 and "MLFLOW_ALLOW_FILE_STORE=true" in result.output
    assert not (out / "run.json").exists()  # refused before the run was written
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    assert train("--log", "mlflow", "--log-opt", f"tracking_uri={folder}", "--out", out, *TINY).exit_code == 0
    client, run = mlflow_run(out, str(folder))
    assert len(client.get_metric_history(run.info.run_id, "d_loss")) == 4


def test_a_tracking_server_that_fails_mid_run_costs_no_checkpoint(tmp_path, store, monkeypatch):
    out = tmp_path / "run"

    log_batch = MlflowClient.log_batch

    def unreachable(self, run_id, metrics=(), **kwargs):  # the run starts, then its figures fail to go
        if metrics:
            raise ConnectionError("tracking server unreachable")
        return log_batch(self, run_id, metrics=metrics, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", unreachable)
    result = train("--log", "mlflow", "--log-opt", f"tracking_uri={store}", "--log-opt", "flush_secs=0", "--out", out,
                   *TINY)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # as the progress display wraps it
    # The sender thread meets the failure; which call of the loop's hears of it first (a later log_scalars, a
    # grid's log_images, or finish) depends on how far the loop ran ahead of it on a loaded machine.
    assert 'logger "mlflow" failed' in said and "tracking server unreachable" in said, said
    assert (out / "checkpoints" / "step-00000004.safetensors").exists()


def test_installed_entry_point_is_found():
    """Through the real entry point: what `pip install gancli-mlflow` gives a user."""
    with gancli.testing.installed_plugins():
        plugins = {p["name"]: p for p in json.loads(gancli.testing.run_cli("plugins", "--json").output)}
    assert "mlflow" in plugins, "gancli-mlflow is not installed: pip install -e plugins/gancli-mlflow"
    assert plugins["mlflow"]["distribution"] == "gancli-mlflow" and plugins["mlflow"]["components"] == ["logger:mlflow"]
