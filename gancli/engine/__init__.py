"""The engine: training, checkpoints and sampling as plain functions over config objects (no Click here)."""
