"""Every relative link and image in the README and the docs pages is a file git tracks: a fresh clone shows it
(an ignore rule once hid docs/results/ and left the README's figures broken on every clone)."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img[^>]*\bsrc=\"([^\"]+)\"")


def relative_links(page: Path) -> list[str]:
    """The page's link targets that point into the repository (no URL, no in-page anchor)."""
    targets = [a or b for a, b in LINK.findall(page.read_text())]
    return sorted({t.split("#")[0] for t in targets if not re.match(r"^[a-z]+:|^#", t) and t.split("#")[0]})


def test_link_pattern_finds_markdown_and_html_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('[a](docs/a.md#x) ![b](img/b.png "t") <img src="c.png" width=3> [d](https://x.org) [e](#top)\n')
    assert relative_links(page) == ["c.png", "docs/a.md", "img/b.png"]


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git checkout")
def test_every_relative_link_is_tracked_by_git():
    tracked = set(
        subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    )
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    missing = []
    for page in pages:
        for target in relative_links(page):
            path = (page.parent / target).resolve().relative_to(REPO)
            if str(path) not in tracked and not any(t.startswith(f"{path}/") for t in tracked):
                missing.append(f"{page.relative_to(REPO)} -> {target}")
    assert not missing, f"links to files git does not track: {missing}"
