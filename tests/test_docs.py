"""The README stays true: every setting, command and error code is documented."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from widget import settings
from widget.cli import main
from widget.core import i18n

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    for setting in settings.SETTINGS:
        assert f"`{setting.env}`" in README, setting.env


def test_every_command_is_documented():
    for name in main.commands:
        assert f"`widget {name}" in README, name


def test_every_error_code_is_documented_and_translated():
    codes = [k.split(".", 1)[1] for k in i18n.STRINGS if k.startswith("error.")]
    for code in codes:
        if code in ("network_error", "http_error"):  # the widget's own, never sent
            continue
        assert f"`{code}`" in README, code
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
