"""Execute notebooks top to bottom in a fresh kernel (nbclient), never sitting on a lost reply.

Why not plain `jupyter nbconvert --execute` (issue 16, part 1): nbclient mimics the front end of
an ipywidgets `Output` widget. Every figure that a widget cell draws into an `Output` (each
`widgets.live` panel does, once, while its cell runs) makes that mimic send the new outputs
back to the kernel as a `comm_msg` on the SHELL channel, from the task that reads IOPub, while
the task that waits for the cell's `execute_reply` is polling the same shell socket. Now and
then (about one widget cell in a hundred here) that poll misses the reply: the kernel sent
`execute_reply` and went idle, and nbclient only notices when the poll's timeout ends (the
final non-blocking poll then finds the reply and the run goes on without an error). So a run
stalls for the whole per-cell timeout (600 s in the old `make notebooks`). Known upstream as
jupyter/nbclient#312 (fix proposed in #311, not merged).

Our own panels no longer trigger it (`ntklib.widgets.live` sets its figure into the Output
directly, nothing is captured while a cell runs), but any notebook that captures output into
an Output widget still would. `BatchClient` changes two things, each enough on its own:
  1. its Output-widget mimic keeps the outputs (they are stored in the notebook's widget state
     as before) but does not send them back to the kernel: nothing is sent on the shell
     channel while a cell runs;
  2. the shell and IOPub channels are polled in slices of POLL_SLICE seconds, so a wake-up
     lost for any other reason costs at most one slice, not the cell timeout.

    python tools/run_notebooks.py notebooks/*.ipynb               # execute, store outputs
    python tools/run_notebooks.py --no-write --timeout 60 NB ...  # execute only
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.output_widget import OutputWidget

#: Longest single wait on a kernel channel, in seconds (a lost wake-up costs at most this).
POLL_SLICE = 0.5


class _LocalOutputWidget(OutputWidget):
    """nbclient's Output-widget mimic without the echo of its outputs to the kernel."""

    def sync_state(self) -> None:
        # The kernel's copy of the outputs is not needed in a batch run; sending it on the
        # shell channel during a cell is what makes nbclient miss the cell's execute_reply.
        pass


def _sliced(get_msg: Callable[..., Any]) -> Callable[..., Any]:
    """`get_msg(timeout)` of an async kernel channel, polled in slices of POLL_SLICE s."""

    async def get_msg_sliced(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else deadline - time.monotonic()
            try:
                return await get_msg(timeout=max(0.0, min(POLL_SLICE, left)))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_sliced


class BatchClient(NotebookClient):
    """nbclient's NotebookClient that does not stall on widget cells (see the module doc)."""

    def __init__(self, nb: nbformat.NotebookNode, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.widget_registry["@jupyter-widgets/output"] = {"OutputModel": _LocalOutputWidget}

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        for channel in (kc.shell_channel, kc.iopub_channel):
            channel.get_msg = _sliced(channel.get_msg)
        return kc


def client(nb: nbformat.NotebookNode, folder: Path, *, timeout: int = 600,
           **kwargs: Any) -> BatchClient:
    """A BatchClient for `nb`, run in `folder` with the `python3` kernel (the current env)."""
    return BatchClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}, **kwargs)


def run(path: Path, *, timeout: int = 600, write: bool = True) -> float:
    """Execute the notebook at `path` top to bottom in a fresh kernel; store its outputs in
    place if `write`. Returns the seconds it took. Raises nbclient's CellExecutionError on an
    error and CellTimeoutError when a cell runs past `timeout` seconds."""
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    client(nb, path.resolve().parent, timeout=timeout).execute()
    seconds = time.perf_counter() - t0
    if write:
        nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--no-write", dest="write", action="store_false",
                        help="execute only; leave the files as they are")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        seconds = run(path, timeout=args.timeout, write=args.write)
        print(f"  {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
