"""The link checker itself, on a tiny hand-made site with one broken link and one broken anchor."""

from __future__ import annotations

from pathlib import Path

from .site_support import load_script

linkcheck = load_script("linkcheck")


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_tiny_site(root: Path) -> None:
    _write(
        root,
        {
            "index.html": """<!doctype html><html lang="en"><head><title>Home</title>
<link rel="stylesheet" href="style.css"></head><body id="top-of-page">
<nav><a href="claims/one.html">one</a> <a href="claims/">all claims</a>
<a href="claims/one.html#passage">passage</a> <a href="#main">skip</a>
<a href="https://example.org/x">external</a> <a href="mailto:a@example.org">mail</a></nav>
<main id="main"><a href="missing.html">broken link</a></main></body></html>""",
            "claims/index.html": """<!doctype html><title>Claims</title>
<a href="../index.html#main">home main</a> <a href="one.html?x=1#q%201">encoded</a>
<img src="../img/pic.png" alt="" srcset="../img/pic.png 1x, ../img/pic.png 2x">""",
            "claims/one.html": """<!doctype html><title>One</title>
<p id="passage">text</p><a name="q 1"></a><a href="../index.html#nowhere">broken anchor</a>
<a href="one.html#:~:text=text">text fragment</a> <a href="#top">top</a>""",
            "style.css": "body { background: url('img/pic.png'); }",
            "img/pic.png": "png",
        },
    )


def test_finds_exactly_the_broken_link_and_the_broken_anchor(tmp_path: Path) -> None:
    make_tiny_site(tmp_path)
    report = linkcheck.check_site(tmp_path)
    problems = [(p.link.page, p.kind, p.link.url) for p in report.problems]
    assert problems == [
        ("claims/one.html", "broken anchor", "../index.html#nowhere"),
        ("index.html", "broken link", "missing.html"),
    ], "\n".join(map(str, report.problems))
    assert len(report.broken_links) == 1
    assert len(report.broken_anchors) == 1
    assert [link.url for link in report.external] == ["https://example.org/x"]
    assert report.pages == 3


def test_reports_root_relative_and_javascript_links(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "index.html": '<a href="/index.html">root</a> <a href="javascript:alert(1)">js</a>'
            ' <a href="../up.html">above root</a>',
        },
    )
    kinds = sorted(p.kind for p in linkcheck.check_site(tmp_path).problems)
    assert kinds == ["broken link", "root-relative link", "unsafe link"]


def test_command_line_exit_status(tmp_path: Path, capsys: object) -> None:
    make_tiny_site(tmp_path)
    assert linkcheck.main([str(tmp_path), "--list-external"]) == 1
    (tmp_path / "missing.html").write_text("<title>now here</title>", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        (tmp_path / "index.html").read_text().replace('id="top-of-page"', 'id="nowhere"')
    )
    assert linkcheck.main([str(tmp_path)]) == 0
