"""What the snippet costs a host page, measured by Lighthouse: Total Blocking Time and
Cumulative Layout Shift of the example blog post without the snippet, with it, and with
a widget opened during load (loader + UI). Targets: 0 ms and 0.000 added.

Needs Node.js with npm (Lighthouse 12 is installed into bench/.node on first run) and a
Chromium (CHROME_PATH, default /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_DIR = BENCH / ".node"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
SNIPPET = re.compile(r'<script async src="http://127\.0\.0\.1:5000/embed\.js"[^>]*></script>',
                     re.S)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_lighthouse() -> None:
    if LIGHTHOUSE.exists():
        return
    if not shutil.which("npm"):
        sys.exit("error: npm not found; Lighthouse needs Node.js 18+ with npm")
    print("installing lighthouse@12 into bench/.node (once) ...", flush=True)
    subprocess.run(["npm", "install", "--silent", "--prefix", str(NODE_DIR), "lighthouse@12"],
                   check=True)


def widget_cli(env, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "widget", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout


def pages(folder: Path, base: str, site: str, widget: str) -> None:
    """The blog post three ways: without the snippet, with it, and with a widget opened
    by the page's own script during load."""
    post = (ROOT / "examples" / "embed" / "blog-post.html").read_text(encoding="utf-8")
    shutil.copy(ROOT / "examples" / "embed" / "blog.css", folder / "blog.css")
    snippet = f'<script async src="{base}/embed.js" data-site="{site}"></script>'
    (folder / "without.html").write_text(SNIPPET.sub("", post), encoding="utf-8")
    (folder / "with.html").write_text(SNIPPET.sub(snippet, post), encoding="utf-8")
    (folder / "open.js").write_text(
        "window.widget = window.widget || function () { (widget.q = widget.q || [])"
        f".push(arguments) }};\nwidget('open', '{widget}');\n", encoding="utf-8")
    (folder / "opened.html").write_text(
        SNIPPET.sub('<script src="open.js"></script>' + snippet, post), encoding="utf-8")


def lighthouse(url: str, out: Path) -> dict:
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    subprocess.run([str(LIGHTHOUSE), url, "--quiet", "--only-categories=performance",
                    "--output=json", f"--output-path={out}",
                    "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
                   env={**os.environ, "CHROME_PATH": chrome}, check=True, timeout=180)
    audits = json.loads(out.read_text())["audits"]
    urls = [r["url"] for r in audits["network-requests"]["details"]["items"]]
    return {"tbt_ms": audits["total-blocking-time"]["numericValue"],
            "cls": audits["cumulative-layout-shift"]["numericValue"],
            "loader": any("/embed.js" in u for u in urls),
            "ui": any("/static/js/ui.js" in u for u in urls)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (3)")
    args = parser.parse_args()
    ensure_lighthouse()
    tmp = Path(tempfile.mkdtemp(prefix="widget-lh-"))
    port, page_port = free_port(), free_port()
    base, origin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{page_port}"
    env = {**os.environ, "WIDGET_INSTANCE_PATH": str(tmp / "instance"), "WIDGET_BASE_URL": base}
    server = proc = None
    try:
        widget_cli(env, "create-owner", "--email", "lh@example.com", "--password", "lh-password-1")
        site = widget_cli(env, "create-site", "--owner", "lh@example.com", "--name", "LH",
                          "--origin", origin).strip().splitlines()[-1]
        proc = subprocess.Popen([sys.executable, "-m", "widget", "serve", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/api/v1/sites/{site}/widgets") as r:
                    widget = json.load(r)["widgets"][0]["id"]
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("error: widget serve did not start")
        (tmp / "pages").mkdir()
        pages(tmp / "pages", base, site, widget)
        handler = functools.partial(Quiet, directory=str(tmp / "pages"))
        server = ThreadingHTTPServer(("127.0.0.1", page_port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        results = {}
        for name in ("without", "with", "opened"):
            runs = [lighthouse(f"{origin}/{name}.html", tmp / f"{name}{i}.json")
                    for i in range(args.runs)]
            expected = {"without": (False, False), "with": (True, False), "opened": (True, True)}
            if any((r["loader"], r["ui"]) != expected[name] for r in runs):
                raise SystemExit(f"error: {name}.html did not load what it should: {runs}")
            results[name] = {k: statistics.median(r[k] for r in runs)
                             for k in ("tbt_ms", "cls")}
            print(f"  {name:<8} TBT {results[name]['tbt_ms']:6.0f} ms   "
                  f"CLS {results[name]['cls']:.3f}", flush=True)
        print("\nadded by the snippet (medians of", args.runs, "runs):")
        for name, label in (("with", "loader, widget armed"), ("opened", "loader + UI shown")):
            tbt = results[name]["tbt_ms"] - results["without"]["tbt_ms"]
            cls = results[name]["cls"] - results["without"]["cls"]
            ok = "PASS" if tbt <= 0 and cls <= 0 else "MISS"
            print(f"  {ok}  {label:<22} TBT {tbt:+.0f} ms   CLS {cls:+.3f}   (targets 0 ms, 0.000)")
        return 0
    finally:
        if server:
            server.shutdown()
        if proc:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
