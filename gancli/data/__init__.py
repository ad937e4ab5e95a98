"""Dataset loaders (imported only when data is loaded)."""
