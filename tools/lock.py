"""requirements-lock.txt: the exact versions of everything `ntklib[test]` pulls in, as tested.

The lock is written from the environment the tests ran in (`make lock`, after `make test`):
starting from ntklib's own requirements with the `test` extra, it follows every installed
distribution's requirements (markers evaluated for this interpreter and platform) and pins
each one reached to its installed version. Packages installed by hand that nothing requires
(a debugger, pytest-xdist, ...) stay out.

Who installs from it: `make install` / `make lab` / `make test` and so `.ci/run` (as pip
constraints, `-c`, so a platform's extra packages still resolve), and Binder (environment.yml
hands it to pip as requirements, `-r`: Binder is linux and python 3.11, as here).

    python tools/lock.py            # write requirements-lock.txt from the current environment
    python tools/lock.py --check    # exit 1 if the environment and the lock disagree
"""

from __future__ import annotations

import platform
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-lock.txt"
ROOT_PACKAGE, ROOT_EXTRAS = "ntklib", ("test",)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    """The requirements of `dist` that apply here with `extras` requested."""
    env = default_environment()
    kept = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or any(req.marker.evaluate({**env, "extra": e})
                                     for e in (extras or {""})):
            kept.append(req)
    return kept


def closure() -> dict[str, str]:
    """{canonical name: installed version} of every distribution that ntklib[test] needs here,
    ntklib itself excluded."""
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(ROOT_PACKAGE, frozenset(ROOT_EXTRAS))]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is required but not installed: run `make install`") from None
        if canonicalize_name(name) != ROOT_PACKAGE:
            pins[canonicalize_name(name)] = dist.version
        for req in _requirements(dist, set(extras)):
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return dict(sorted(pins.items()))


def header() -> str:
    py = ".".join(platform.python_version_tuple()[:2])
    return (f"# The exact versions that ntklib[test] was tested with: python {py}, "
            f"{sys.platform} {platform.machine()}.\n"
            "# Written by `make lock` (tools/lock.py) from the tested environment; do not edit.\n"
            "# make install/lab/test, .ci/run: pip -c (constraints); Binder: environment.yml -r.\n")


def render(pins: dict[str, str]) -> str:
    return header() + "".join(f"{name}=={version}\n" for name, version in pins.items())


def read(path: Path = LOCK) -> dict[str, str]:
    """{canonical name: version} from a lock file."""
    pins = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        if not match:
            raise ValueError(f"{path.name}: not an exact pin: {line!r}")
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def python_of(path: Path = LOCK) -> str:
    """The python minor version ('3.11') the lock was written with, from its header."""
    match = re.search(r"python (\d+\.\d+)", path.read_text().splitlines()[0])
    if not match:
        raise ValueError(f"{path.name}: the first line must name the python version")
    return match.group(1)


def diff(locked: dict[str, str], installed: dict[str, str]) -> list[str]:
    """Readable differences between the lock and the environment (empty: they agree)."""
    lines = []
    for name in sorted(set(locked) | set(installed)):
        a, b = locked.get(name), installed.get(name)
        if a != b:
            lines.append(f"  {name}: lock {a or '-'}, installed {b or '-'}")
    return lines


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = diff(read(), closure())
        if problems:
            print("requirements-lock.txt and this environment disagree:\n" + "\n".join(problems)
                  + "\n(`make install` installs the lock; `make lock` writes it from here)")
            return 1
        return 0
    LOCK.write_text(render(closure()))
    print(f"wrote {LOCK.name}: {len(read())} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
