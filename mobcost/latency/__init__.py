"""Latency before training: per-device estimates from a layer-level model fitted to published measurements."""
