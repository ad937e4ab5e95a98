"""An MLflow logger for gancli: a run's resolved config as params, its figures as metrics, its sample grids and
generator as artifacts, in a local store or on a tracking server (``gancli train --log mlflow``).

MLflow is imported when a run starts, never when gancli lists its plugins. Everything the training loop hands
over is queued for one background thread, which sends the figures in batches (every ``flush_secs`` seconds) and
the files in order, so a slow or distant server costs the loop nothing; ``finish`` waits for the queue.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time

import gancli

RUN_FILE = "mlflow.json"  # in the gancli run directory: which MLflow run a resumed run continues
BATCH = 1000  # MLflow's most metrics in one log_batch call
PARAMS_BATCH = 100  # and params


class MLflowLogger(gancli.Logger):
    """MLflow: params from the resolved config, every logged figure, sample grids and the generator as artifacts."""

    requires = {"mlflow": "mlflow-skinny"}

    class Options(gancli.Options):
        tracking_uri: str = gancli.field("", help="where runs go: sqlite:///PATH.db, http://HOST:5000, databricks, a "
                                                  "folder (MLflow's file store); empty: MLFLOW_TRACKING_URI, else "
                                                  "MLflow's default, sqlite:///mlflow.db in the working folder")
        experiment: str = gancli.field("gancli", help="MLflow experiment, created if missing")
        artifact_location: str = gancli.field("", help="where a new experiment keeps its artifacts (default: "
                                                       "mlruns/ beside a SQLite store's file, else MLflow's)")
        run_name: str = gancli.field("", help="MLflow run name (default: the run directory's name)")
        grids: bool = gancli.field(True, help="upload each sample grid as an artifact (samples/)")
        generator: bool = gancli.field(True, help="upload the generator file when training ends")
        flush_secs: float = gancli.field(5.0, help="seconds between batches of figures sent to MLflow", min=0.0)

    def start(self, run_dir: str, config: dict, step: int = 0) -> None:
        import logging

        from mlflow.tracking import MlflowClient

        logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)  # one-time table creation notes
        logging.getLogger("alembic").setLevel(logging.WARNING)
        uri = resolve_tracking_uri(self.tracking_uri)
        self.client = MlflowClient(tracking_uri=uri)
        self.run_id = self._continued_run(run_dir, uri, step) or self._new_run(run_dir, uri)
        self._log_params(config, step)
        self.client.log_dict(self.run_id, config, "run.json")
        self.sender = Sender(self.client, self.run_id, self.flush_secs)

    def _new_run(self, run_dir: str, uri: str) -> str:
        experiment = self.client.get_experiment_by_name(self.experiment)
        if experiment is None:
            experiment_id = self.client.create_experiment(self.experiment, artifact_location=self._artifacts(uri))
        else:
            experiment_id = experiment.experiment_id
        name = self.run_name or os.path.basename(os.path.abspath(run_dir))
        run = self.client.create_run(experiment_id, run_name=name, tags={"gancli.run_dir": os.path.abspath(run_dir)})
        with open(os.path.join(run_dir, RUN_FILE), "w") as fh:
            json.dump({"tracking_uri": uri, "run_id": run.info.run_id}, fh)
        return run.info.run_id

    def _artifacts(self, uri: str) -> str | None:
        """A SQLite store keeps its artifacts beside its file, not in whatever folder gancli was started from."""
        if self.artifact_location:
            return os.path.abspath(self.artifact_location) if "://" not in self.artifact_location \
                else self.artifact_location
        if uri.startswith("sqlite:///"):
            return os.path.join(os.path.dirname(uri[len("sqlite:///"):]), "mlruns")
        return None

    def _continued_run(self, run_dir: str, uri: str, step: int) -> str | None:
        """A resumed gancli run goes on in the MLflow run it started, if it is in this store and not deleted."""
        path = os.path.join(run_dir, RUN_FILE)
        if not step or not os.path.isfile(path):
            return None
        with open(path) as fh:
            recorded = json.load(fh)
        if recorded.get("tracking_uri") != uri:
            return None
        from mlflow.exceptions import MlflowException

        try:
            run = self.client.get_run(recorded["run_id"])
        except MlflowException:
            return None
        if run.info.lifecycle_stage != "active":
            return None
        self.client.update_run(run.info.run_id, status="RUNNING")
        # MLflow keeps every point it was sent: steps past `step` appear again, from the session going on.
        self.client.set_tag(run.info.run_id, "gancli.resumed_from_step", str(step))
        return run.info.run_id

    def _log_params(self, config: dict, step: int) -> None:
        """The config as flat params; MLflow's params never change, so a resumed run adds only new keys (its new
        --steps is in run.json, logged again as an artifact)."""
        from mlflow.entities import Param

        logged = self.client.get_run(self.run_id).data.params if step else {}
        params = [Param(key, value) for key, value in flatten(config).items() if key not in logged]
        for i in range(0, len(params), PARAMS_BATCH):
            self.client.log_batch(self.run_id, params=params[i:i + PARAMS_BATCH])

    def log_scalars(self, step: int, values: dict) -> None:
        self.sender.put(("metrics", step, int(time.time() * 1000), values))

    def log_images(self, step: int, name: str, path: str) -> None:
        if self.grids:
            self.sender.put(("file", path, name))

    def log_artifact(self, path: str) -> None:
        if self.generator:
            self.sender.put(("file", path, None))

    def finish(self) -> None:
        sender = getattr(self, "sender", None)
        try:
            if sender is not None:
                sender.close()
        finally:
            self.client.set_terminated(self.run_id, status="FINISHED")


def resolve_tracking_uri(given: str) -> str:
    """The tracking URI a run uses, absolute, so that a run resumed from another folder finds its store again.

    MLflow 3's file store (a plain folder) is in maintenance mode and refuses to open unless
    MLFLOW_ALLOW_FILE_STORE=true; say so in one line rather than MLflow's paragraph."""
    import mlflow

    uri = given or mlflow.get_tracking_uri()
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = "sqlite:///" + os.path.abspath(uri[len("sqlite:///"):])
    if "://" not in uri and uri != "databricks" or uri.startswith("file:"):
        if os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() not in ("1", "true"):
            raise ValueError(f"{given or uri} is an MLflow file store, which MLflow 3 opens only with "
                             "MLFLOW_ALLOW_FILE_STORE=true set; or use tracking_uri=sqlite:///PATH/mlflow.db")
        if "://" not in uri:
            uri = os.path.abspath(uri)
    return uri


def flatten(config: dict, prefix: str = "") -> dict:
    """{"arch": {"name": "dcgan", "options": {"width": 64}}} -> {"arch.name": "dcgan", "arch.options.width": "64"};
    a list of components is keyed by their names ("lipschitz.r1.options.gamma")."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
            flat[name] = ",".join(v["name"] for v in value)
            value = {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in value}
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif not isinstance(value, list) or value:
            flat[name] = value if isinstance(value, str) else json.dumps(value)
    return flat


class Sender:
    """One background thread that sends the queued work in order: figures batched every ``interval`` seconds (or
    before a file), files as they come. A failure is raised on the next call, so gancli drops the logger with the
    reason, and by ``close``."""

    def __init__(self, client, run_id: str, interval: float):
        self.client, self.run_id, self.interval = client, run_id, interval
        self.queue: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="gancli-mlflow", daemon=True)
        self.thread.start()

    def put(self, item) -> None:
        self._raise()
        self.queue.put(item)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _work(self) -> None:
        pending, due = [], None  # figures waiting for their batch, and when it goes
        while True:
            try:
                item = self.queue.get(timeout=None if due is None else max(0.0, due - time.monotonic()))
            except queue.Empty:
                item = ("flush",)
            if item is not None and item[0] == "metrics":
                pending.append(item)
                due = due or time.monotonic() + self.interval
                continue
            try:
                if self.error is None:  # after a failure the rest is dropped: gancli drops the logger
                    self._send(pending)
                    if item is not None and item[0] == "file":
                        self.client.log_artifact(self.run_id, item[1], item[2])
            except Exception as exc:
                self.error = exc
            pending, due = [], None
            if item is None:
                return

    def _send(self, pending: list) -> None:
        if not pending:
            return
        from mlflow.entities import Metric

        metrics = [Metric(name, float(value), stamp, step) for _, step, stamp, values in pending
                   for name, value in values.items()]
        for i in range(0, len(metrics), BATCH):
            self.client.log_batch(self.run_id, metrics=metrics[i:i + BATCH])


@gancli.hookimpl
def register_loggers(register):
    register("mlflow", MLflowLogger)
