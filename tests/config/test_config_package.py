"""The config package's public surface and its place in the dependency graph."""

from __future__ import annotations

import subprocess
import sys

import config

OUR_PACKAGES = ("wallet", "storage", "consensus", "p2p", "hardware", "fedow_node", "payments")


def test_every_public_name_is_exported_and_documented() -> None:
    assert sorted(config.__all__) == sorted(set(config.__all__))
    for name in config.__all__:
        doc = getattr(config, name).__doc__ or ""
        assert doc and not doc.startswith(f"{name}("), f"{name} has no docstring of its own"


def test_config_imports_nothing_of_ours() -> None:
    code = "import sys, config; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                            timeout=60).stdout.split()
    assert not set(loaded) & set(OUR_PACKAGES)
