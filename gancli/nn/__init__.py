"""torch modules behind the built-in architectures (imported only when a model is built)."""
