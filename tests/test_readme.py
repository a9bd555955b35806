"""The README guides: the two commands first, and every Binder and Colab badge from one address."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
spec = importlib.util.spec_from_file_location("binder", ROOT / "tools" / "binder.py")
binder = importlib.util.module_from_spec(spec)
spec.loader.exec_module(binder)


def _links(text: str) -> list[re.Match]:
    return list(binder.LINK.finditer(text))


def _colab_links(text: str) -> list[re.Match]:
    return list(binder.COLAB.finditer(text))


def test_the_two_commands_come_first():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make lab", "make test"]
    assert README.index("make lab") < README.index("## The notebooks")


def test_every_badge_uses_the_one_address():
    owner, name = binder.repository()
    links = _links(README)
    assert links, "no Binder links in README.md"
    for m in links:
        assert (m.group(1), m.group(2)) == (owner, name), m.group(0)
    assert binder.main(["--check"]) == 0


def test_one_badge_per_notebook_and_the_top_one_opens_01():
    linked = [m.group(4) for m in _links(README)]
    notebooks = sorted(f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert linked[0].startswith("notebooks/01_"), linked[0]
    assert sorted(set(linked[1:])) == notebooks, "the notebook map and notebooks/ disagree"
    for path in linked:
        assert (ROOT / path).exists(), path


def test_every_binder_badge_has_its_colab_badge_next_to_it():
    badges = list(binder.BINDER_BADGE.finditer(README))
    assert len(badges) == len(_links(README))
    for m in badges:
        follows = README[m.end():].split("\n", 1)[0]
        assert follows.startswith(" " + binder.colab_badge(m.group(4), m.group(3))), (
            f"no Colab badge right after the Binder badge of {m.group(4)}")
    owner, name = binder.repository()
    colab = _colab_links(README)
    assert [m.group(4) for m in colab] == [m.group(4) for m in _links(README)]
    assert all((m.group(1), m.group(2), m.group(3)) == (owner, name, "main") for m in colab)
    assert binder.rewrite(README) == README  # adds no second badge


def test_setting_the_address_once_moves_every_badge(monkeypatch):
    monkeypatch.setattr(binder, "repository", lambda: ("someone", "elsewhere"))
    moved = binder.rewrite(README)
    assert len(_links(moved)) == len(_links(README))
    assert all(m.group(1) == "someone" and m.group(2) == "elsewhere" for m in _links(moved))
    assert len(_colab_links(moved)) == len(_colab_links(README))
    assert all(m.group(1) == "someone" and m.group(2) == "elsewhere"
               for m in _colab_links(moved))


def test_a_missing_colab_badge_is_added_and_reported():
    first = binder.BINDER_BADGE.search(README)
    badge = " " + binder.colab_badge(first.group(4), first.group(3))
    stripped = README.replace(badge, "", 1)
    assert binder.rewrite(stripped) == README
