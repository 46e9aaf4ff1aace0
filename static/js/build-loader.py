"""Build static/js/embed.js (what is served) from static/js/src/embed.js (what is edited).

The loader's budget is 1,024 bytes gzipped, and only a minifier that shortens names
(terser) gets it there; rjsmin, which the app applies to every script at start-up, keeps
names. Needs Node.js with npm: terser is installed into .node at the top of the
repository on the first run. embed.js.sha256 beside the built file pins the source it
came from (not a comment inside it: every byte of embed.js is served), and a test
fails when the source changed without a rebuild.

    python static/js/build-loader.py
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE, TARGET = HERE / "src" / "embed.js", HERE / "embed.js"
PIN = HERE / "embed.js.sha256"
NODE = HERE.parent.parent / ".node"
TERSER = NODE / "node_modules" / ".bin" / "terser"


def source_hash() -> str:
    """The SHA-256 the built file must carry."""
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def main() -> int:
    if not TERSER.exists():
        if not shutil.which("npm"):
            sys.exit("error: npm not found; building the loader needs Node.js with npm")
        subprocess.run(["npm", "install", "--silent", "--prefix", str(NODE), "terser@5"],
                       check=True)
    built = subprocess.run([str(TERSER), str(SOURCE), "--compress", "--mangle", "--toplevel",
                            "--ecma", "2020"], check=True, capture_output=True, text=True)
    TARGET.write_text(built.stdout.strip() + "\n", encoding="utf-8")
    PIN.write_text(f"{source_hash()}  src/embed.js\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
