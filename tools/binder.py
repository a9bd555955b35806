"""Binder and Colab launch links of the README, all derived from ONE address.

The repository's public address is set in exactly one place: `[project.urls] Repository` in
pyproject.toml. After changing it, run `make readme` (this script), which rewrites every
mybinder.org and Colab link in README.md to that address and puts an "Open in Colab" badge
next to every Binder badge that lacks one; `--check` (run by the tests) fails when a link
disagrees with the address or a Colab badge is missing.

    python tools/binder.py           # rewrite README.md's Binder and Colab links
    python tools/binder.py --check   # exit 1 if any link uses another address
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"https://mybinder\.org/v2/gh/([^/\s)]+)/([^/\s)]+)/([^?\s)]+)\?"
                  r"urlpath=lab/tree/([^\s)]+)")


def repository() -> tuple[str, str]:
    """(owner, name) from pyproject's [project.urls] Repository (a GitHub address)."""
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    match = re.fullmatch(r"https://github\.com/([^/\s]+)/([^/\s]+?)/?", url)
    if not match:
        raise ValueError(f"[project.urls] Repository must be https://github.com/OWNER/NAME, "
                         f"got {url!r}")
    return match.group(1), match.group(2)


COLAB = re.compile(r"https://colab\.research\.google\.com/github/([^/\s)]+)/([^/\s)]+)/blob/"
                   r"([^/\s)]+)/([^\s)]+)")
BINDER_BADGE = re.compile(r"\[!\[[^\]]*\]\(https://mybinder\.org/badge_logo\.svg\)\]\("
                          + LINK.pattern + r"\)")
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def launch_url(path: str, ref: str = "main") -> str:
    """The Binder address that opens `path` (e.g. notebooks/01_x.ipynb) in JupyterLab."""
    owner, name = repository()
    return f"https://mybinder.org/v2/gh/{owner}/{name}/{ref}?urlpath=lab/tree/{path}"


def colab_url(path: str, ref: str = "main") -> str:
    """The Colab address that opens `path` of the repository on GitHub."""
    owner, name = repository()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{ref}/{path}"


def colab_badge(path: str, ref: str = "main") -> str:
    return f"[![Open in Colab]({COLAB_BADGE_IMAGE})]({colab_url(path, ref)})"


def rewrite(text: str) -> str:
    """`text` with every Binder and Colab link pointed at the configured repository, and a
    Colab badge right after every Binder badge (same notebook, same ref)."""
    text = LINK.sub(lambda m: launch_url(m.group(4), m.group(3)), text)
    text = COLAB.sub(lambda m: colab_url(m.group(4), m.group(3)), text)

    def add_colab(m: re.Match) -> str:
        badge = colab_badge(m.group(4), m.group(3))
        following = text[m.end():m.end() + len(badge) + 1]
        return m.group(0) if following.strip() == badge else f"{m.group(0)} {badge}"

    return BINDER_BADGE.sub(add_colab, text)


def main(argv: list[str]) -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = rewrite(text)
    if "--check" in argv:
        if new != text:
            print("README.md has Binder or Colab links that do not use the address in "
                  "pyproject.toml, or a Binder badge without its Colab badge; run `make readme`")
            return 1
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
