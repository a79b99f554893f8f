"""Debian's Chromium, headless, driven by Playwright: never `playwright install` (it downloads a browser).

Chromium runs as root in CI, so without its sandbox; every network feature
that would reach outside (updates, sync, QUIC, background fetches) is off, and
the pages it opens are the node's on 127.0.0.1 only. A fresh profile per test.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--no-default-browser-check"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@contextmanager
def chromium(profile: Path) -> Iterator[object]:
    """A Playwright browser context over the system Chromium with a fresh profile folder; closed on exit.

    Each ``context.new_page()`` is a new tab: its sessionStorage (the dashboard's token) starts empty.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS, viewport=DESKTOP)
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)
