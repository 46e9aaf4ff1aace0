"""The docs stay true: every setting, command and error code is documented, the README's
test command is the one CI runs, ARCHITECTURE.md names what exists and every package,
and every relative link in the README and docs/ leads somewhere."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from widget import settings
from widget.cli import main
from widget.core import i18n

from .helpers.source import parse

ROOT = Path(__file__).resolve().parent.parent
WIDGET = ROOT / "widget"
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
CONFIGURATION = (DOCS / "configuration.md").read_text(encoding="utf-8")
API = (DOCS / "api.md").read_text(encoding="utf-8")

README_MAX_LINES = 150
IMAGE_MAX_BYTES = 200_000


def test_every_setting_is_documented():
    rows = [line for line in CONFIGURATION.splitlines() if line.startswith("| `")]
    for setting in settings.SETTINGS:
        assert any(row.startswith(f"| `{setting.env}` |") for row in rows), setting.env


def test_every_command_is_documented():
    rows = [line for line in CONFIGURATION.splitlines() if line.startswith("| `widget ")]
    for name in main.commands:
        assert any(re.match(rf"\| `widget {name}[ `]", row) for row in rows), name


def test_every_error_code_is_documented_and_translated():
    codes = [k.split(".", 1)[1] for k in i18n.STRINGS if k.startswith("error.")]
    for code in codes:
        if code in ("network_error", "http_error"):  # the widget's own, never sent
            continue
        assert f"`{code}`" in API, code
    for key, entry in i18n.STRINGS.items():
        assert set(entry) == set(i18n.LANGS), key


def test_ci_runs_exactly_the_readme_test_command():
    lines = README.splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() == "<!-- test-command -->"]
    assert len(marks) == 1
    command = next(line.strip() for line in lines[marks[0] + 1:]  # past the ``` fence
                   if line.strip() and not line.startswith("```"))
    assert "pytest" in command
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci_lines[-1] == command


def test_readme_is_short():
    assert len(README.splitlines()) <= README_MAX_LINES


# Links ----------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def slugs(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings (a repeated one gets -1, -2, …)."""
    found: set[str] = set()
    for line in FENCED.sub("", markdown).splitlines():
        if match := re.match(r"#{1,6}\s+(.*)", line):
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            n, unique = 0, slug
            while unique in found:
                n += 1
                unique = f"{slug}-{n}"
            found.add(unique)
    return found


def broken_links(page: Path, markdown: str) -> list[str]:
    """Relative links (and images) of a page that lead to no file, or to no heading."""
    broken = []
    for target in LINK.findall(INLINE_CODE.sub("", FENCED.sub("", markdown))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.is_file():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in slugs(
                dest.read_text(encoding="utf-8")):
            broken.append(target)
    return broken


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def test_every_relative_link_leads_somewhere():
    for page in doc_pages():
        assert broken_links(page, page.read_text(encoding="utf-8")) == [], page.name


def test_the_readme_shows_small_images_that_exist():
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", README)
    assert len(images) >= 2  # the widget and the dashboard
    for image in images:
        assert (ROOT / image).stat().st_size <= IMAGE_MAX_BYTES, image


def test_the_link_check_can_fail():
    page = DOCS / "README.md"
    text = ("[ok](embedding.md) [gone](nowhere.md) ![gone](img/none.png) "
            "[anchor](embedding.md#the-snippet) [no anchor](embedding.md#no-such-part) "
            "[web](https://example.com/x.md) `[in code](nowhere.md)`")
    assert broken_links(page, text) == ["nowhere.md", "img/none.png",
                                        "embedding.md#no-such-part"]


# ARCHITECTURE.md ------------------------------------------------------------------------

# A backticked path: a file or folder, with an optional `:name` defined in the file.
PATH_TOKEN = re.compile(r"^[\w][\w./-]*(?:/|\.py|\.js|\.css|\.md)(?::[\w.]+)?$")


def tree(markdown: str) -> list[str]:
    """The paths of the code block's tree: a line at the margin names a folder or a file
    from the repository root; a line indented two spaces, a file in the folder above."""
    paths, folder = [], ""
    for block in FENCED.findall(markdown):
        for line in block.splitlines()[1:-1]:
            if not line.strip() or line.startswith("   "):  # a description's next line
                continue
            first = line.split()[0]
            if not line.startswith(" "):
                paths.append(first)
                folder = first if first.endswith("/") else ""
            elif folder:
                paths.append(folder + first)
    return paths


def prose_paths(markdown: str) -> list[str]:
    """Backticked paths outside the code block: from the root, or from widget/."""
    tokens = [t.strip("`") for t in INLINE_CODE.findall(FENCED.sub("", markdown))]
    return [t for t in tokens if PATH_TOKEN.match(t) and ("/" in t or ".py" in t)]


def defined_names(source: Path) -> set[str]:
    names = set()
    for node in parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{n.name}" for n in node.body
                          if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def missing_paths(paths: list[str], root: Path = ROOT) -> list[str]:
    """Paths that exist neither from the root nor from widget/, and `file.py:name`s whose
    file does not define the name."""
    missing = []
    for token in paths:
        path, _, name = token.partition(":")
        found = next((p for p in (root / path, root / "widget" / path) if p.exists()), None)
        if found is None or (name and name not in defined_names(found)):
            missing.append(token)
    return missing


def packages(root: Path = WIDGET) -> list[str]:
    """Every folder under widget/ with an __init__.py (but the migrations' versions), as
    the tree names it: widget/, widget/api/, …"""
    found = []
    for init in sorted(root.rglob("__init__.py")):
        folder = init.parent.relative_to(root.parent).as_posix() + "/"
        if folder != "widget/migrations/versions/":
            found.append(folder)
    return found


def floors(markdown: str) -> list[list[str]]:
    """The numbered list of floors, each room as a module name (widget.api, widget.cli)."""
    found = []
    for line in markdown.splitlines():
        if re.match(r"\d+\. \*\*", line):
            rooms = []
            for token in re.findall(r"`([^`]+)`", line):
                name = token.rstrip("/").removesuffix(".py")
                rooms.append("widget" if name == "__init__" else f"widget.{name}")
            found.append(rooms)
    return found


def layout_floors() -> list[list[str]]:
    """FLOORS as tests/test_layout.py holds it, read from its source (not imported)."""
    source = (ROOT / "tests" / "test_layout.py").read_text(encoding="utf-8")
    for node in parse(source).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "FLOORS" for t in node.targets):
            return [rooms for _, rooms in ast.literal_eval(node.value)]
    raise AssertionError("tests/test_layout.py has no FLOORS")


def test_architecture_names_only_what_exists():
    assert missing_paths(tree(ARCHITECTURE) + prose_paths(ARCHITECTURE)) == []


def test_architecture_names_every_package():
    named = set(tree(ARCHITECTURE))
    assert [p for p in packages() if p not in named] == []


def test_architecture_floors_are_the_layout_tests():
    assert floors(ARCHITECTURE) == layout_floors()


def test_the_architecture_checks_can_fail():
    text = ("`sites/checks.py:admit` `sites/checks.py:no_such_function` `widget/gone.py` "
            "`tests/test_layout.py`\n```\nwidget/sites/\n  checks.py  x\n  gone.py  y\n"
            "widget/nowhere/  z\n```\n")
    assert missing_paths(tree(text) + prose_paths(text)) == [
        "widget/sites/gone.py", "widget/nowhere/", "sites/checks.py:no_such_function",
        "widget/gone.py"]
    assert "widget/sites/" in packages()
    assert "widget/sites/" not in tree(ARCHITECTURE.replace("widget/sites/", "widget/place/"))
    assert floors("1. **a**: `cli.py`, `__init__.py`\n2. **b**: `api/`") == [
        ["widget.cli", "widget"], ["widget.api"]]


def test_wheel_ships_templates_static_examples_and_migrations(tmp_path):
    src = tmp_path / "src"  # a copy: building writes build/ and egg-info next to the sources
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "instance", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("widget/templates/dashboard/site.html", "widget/templates/public/error.html",
                   "widget/templates/mail/message.txt", "widget/templates/mail/message.html",
                   "widget/static/js/embed.js", "widget/static/js/ui.js",
                   "widget/static/css/ui.css", "widget/examples/blog-post.html",
                   "widget/migrations/env.py", "widget/migrations/script.py.mako",
                   "widget/migrations/versions/0001_initial_schema.py"):
        assert needed in names, needed
    assert not any(re.match(r"tests/|bench/", n) for n in names)
    # Every module of the package, so a new sub-package can't be left out of pyproject.
    for module in (ROOT / "widget").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names, module
