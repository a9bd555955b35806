"""The notebooks as a learner uses them: JupyterLab in a real browser.

Starts `jupyter lab` from this environment on loopback (fresh token, temporary settings,
runtime and workspace folders, a temporary copy of notebooks/ so autosave cannot touch the
committed files), drives Debian's Chromium headless through Playwright, and for every
notebook: opens it, restarts the kernel and runs all cells, waits until the kernel is idle
and every cell has run, asserts that no cell shows an error, then moves every widget control
as a learner would (keyboard on sliders, selection on dropdowns, clicks on toggles) and
asserts that the figure it drives changed and no error appeared. Each slider first steps
once and back, every other control at its default (the latencies below), then goes to both
ends of its range, where the panel must still show a figure (or a message drawn as one),
never a traceback.

Screenshots go to build/screenshots/ (ignored by git); slider-to-new-figure latencies (first
use of a value, and a value shown before) go to build/browser_report.json and to the end of
the pytest report. No fixed sleep: every wait is for a condition on the page.

Chromium: `apt-get install -y chromium` (Debian). In CI (CI set) a missing browser fails;
on a learner's machine the test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path(os.environ.get("NTK_CHROMIUM", "/usr/bin/chromium"))
BUILD = ROOT / "build"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
RUN_ALL_TIMEOUT_MS = 240_000
REDRAW_TIMEOUT_MS = 30_000

#: slider-to-new-figure latencies (seconds) per notebook: "first" for a value the panel has
#: not shown before (the first use of a width), "again" for a value it has shown before
LATENCIES: dict[str, dict[str, list[float]]] = {}
REPORT = BUILD / "browser_report.json"


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = (f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y "
              "chromium` (Debian/Ubuntu) to run the browser test")
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback serving a temporary copy of notebooks/."""
    _browser_or_skip()
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_*"))
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no news pop-up, no update check: nothing may cover the notebook
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token = secrets.token_hex(16)
    port = _free_port()
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (tmp / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("jupyter lab did not start:\n" +
                                       (tmp / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # kernels outlive the page: stop them all
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
    _write_report()


ERRORS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def _run_all(page) -> None:
    """Restart the kernel and run all cells; wait until idle with every cell executed."""
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "() => { const k = document.querySelector('.jp-Toolbar-kernelName');"
        " return k && k.textContent.trim() && !k.textContent.includes('No Kernel'); }",
        timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=60_000)
    page.click(".jp-Notebook")
    page.keyboard.press("Escape")
    page.click("jp-button[data-command='notebook:restart-run-all'], "
               "button[data-command='notebook:restart-run-all']")
    page.click(".jp-Dialog .jp-mod-accept")
    page.wait_for_function(
        """() => {
          const cells = [...document.querySelectorAll('.jp-CodeCell')];
          const ran = cells.every(c => /\\[\\d+\\]/.test(
              (c.querySelector('.jp-InputPrompt') || {}).textContent || ''));
          const idle = document.querySelector(
              ".jp-Notebook-ExecutionIndicator[data-status='idle']");
          return cells.length > 0 && ran && idle;
        }""", timeout=RUN_ALL_TIMEOUT_MS, polling=500)


def _panel_image(control):
    """The figure (img in the widget Output) of the panel that holds `control`."""
    panel = control.locator(
        "xpath=ancestor::div[contains(@class,'widget-vbox')][.//div[contains(@class,"
        "'widget-output')]][1]")
    return panel.locator(".widget-output img").first, panel


def _wait_new_figure(page, img, old_src: str) -> float:
    t0 = time.perf_counter()
    page.wait_for_function(
        "([el, old]) => el && el.isConnected ? el.src !== old : true",
        arg=[img.element_handle(), old_src], timeout=REDRAW_TIMEOUT_MS, polling="raf")
    return time.perf_counter() - t0


def _settled_src(img, page) -> str:
    """The img src once the panel stops redrawing (queued updates keep arriving)."""
    last = None
    for _ in range(40):
        src = img.get_attribute("src", timeout=REDRAW_TIMEOUT_MS)
        if src == last:
            return src
        last = src
        page.wait_for_timeout(250)
    return last


def _assert_panel_clean(panel, what: str) -> None:
    errors = panel.locator(ERRORS)
    assert errors.count() == 0, f"{what}: an error appeared: {errors.first.inner_text()[:500]}"
    assert panel.locator(".widget-output img").count() >= 1, f"{what}: the figure vanished"


def _move(page, control, kind: str, key: str | None = None) -> None:
    if kind == "slider":
        handle = control.locator(".noUi-handle").first
        handle.focus()
        page.keyboard.press(key)
    elif kind == "dropdown":
        select = control.locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % len(options))
    elif kind == "toggle":
        control.locator("input, button").first.click()


def _slider_at(control, end: str) -> bool:
    handle = control.locator(".noUi-handle").first
    now = float(handle.get_attribute("aria-valuenow"))
    bound = float(handle.get_attribute("aria-valuemax" if end == "max" else "aria-valuemin"))
    return abs(now - bound) < 1e-9 * max(1.0, abs(bound))


CONTROLS = [
    ("slider", ".widget-slider, .widget-hslider"),
    ("dropdown", ".widget-dropdown"),
    ("toggle", ".widget-checkbox, .widget-toggle-button, .widget-toggle-buttons"),
]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_and_every_widget_redraws(lab, browser, notebook):
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{base}/lab/tree/{notebook.name}?reset&token={token}")
        _run_all(page)
        errors = page.locator(ERRORS)
        assert errors.count() == 0, f"{notebook.name}: {errors.first.inner_text()[:800]}"
        moved = 0
        sliders = page.locator(f".jp-Notebook {CONTROLS[0][1]}").all()
        times = LATENCIES.setdefault(notebook.stem, {"first": [], "again": []})
        # latencies first, every other control at its default: one step to a value not shown
        # before (its first use: maybe a new width, computed then or ahead by the panel's
        # prefetcher, as a learner meets it), and back to the default, shown before (the
        # redraw a learner waits for once a setting has been used)
        for control in sliders:
            control.scroll_into_view_if_needed()
            img, panel = _panel_image(control)
            there, back = (("ArrowLeft", "ArrowRight") if _slider_at(control, "max")
                           else ("ArrowRight", "ArrowLeft"))
            for key, when in ((there, "first"), (back, "again")):
                old = _settled_src(img, page)
                _move(page, control, "slider", key)
                times[when].append(_wait_new_figure(page, img, old))
                _assert_panel_clean(panel, f"{notebook.name} slider step")
        # then every slider at both ends (a figure or a message drawn as one, never an error),
        # and every other control moved
        for kind, selector in CONTROLS:
            for control in page.locator(f".jp-Notebook {selector}").all():
                control.scroll_into_view_if_needed()
                img, panel = _panel_image(control)
                if kind == "slider":
                    for end_key, end in (("Home", "min"), ("End", "max")):
                        if _slider_at(control, end):
                            continue
                        old = _settled_src(img, page)
                        _move(page, control, kind, end_key)
                        _wait_new_figure(page, img, old)
                        _assert_panel_clean(panel, f"{notebook.name} slider at its {end}")
                else:
                    old = _settled_src(img, page)
                    _move(page, control, kind)
                    _wait_new_figure(page, img, old)
                    _assert_panel_clean(panel, f"{notebook.name} {kind}")
                moved += 1
        _settled_src(page.locator(".widget-output img").first, page) if moved else None
        BUILD.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(BUILD / "screenshots" / f"{notebook.stem}.png"),
                        full_page=False)
        assert page.locator(ERRORS).count() == 0
    finally:
        page.close()


def _write_report() -> None:
    """The latencies as JSON (build/browser_report.json), for the terminal summary."""
    if not LATENCIES:
        return
    # "all": every measured move (the target: median under 300 ms on a quiet
    # machine), then first uses (target: under 1 s) and repeats apart
    report = {nb: {when: {"median_ms": round(1e3 * statistics.median(ts)),
                          "max_ms": round(1e3 * max(ts)), "samples": len(ts)}
                   for when, ts in {"all": kinds["first"] + kinds["again"], **kinds}.items()
                   if ts}
              for nb, kinds in sorted(LATENCIES.items())}
    BUILD.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1))


def latency_report_lines(path: Path = REPORT) -> list[str]:
    """Lines for the terminal summary (conftest), from the JSON of the last browser run."""
    if not path.exists():
        return []
    lines = []
    for nb, kinds in json.loads(path.read_text()).items():
        parts = [f"{when} {r['median_ms']} ms median (max {r['max_ms']}, {r['samples']})"
                 for when, r in kinds.items()]
        lines.append(f"{nb}: slider -> new figure: " + "; ".join(parts))
    return lines
