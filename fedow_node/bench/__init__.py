"""Benchmarks behind ``fedow-node bench``: each prints measured figures, or one JSON object with --json."""
