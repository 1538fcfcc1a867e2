"""Write a PNG of every page of the built site, both languages, for review.

    make screenshots        # builds the site first, then writes screenshots/*.png

Each page is captured whole at a desktop width and at a phone width, so that
overflowing code, broken layout or unreadable figures can be spotted by eye.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
OUT = ROOT / "screenshots"
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def pages():
    for html in sorted(SITE.rglob("index.html")):
        relative = html.parent.relative_to(SITE).as_posix()
        if not relative.startswith(("assets", "search")):
            yield "" if relative == "." else relative + "/"


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not (SITE / "index.html").exists():
        print("no built site: run `make build` first", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(SITE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        for name, (width, height) in VIEWPORTS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            for path in pages():
                if path.endswith("print/"):
                    continue  # the whole book: open it in a browser and print it instead
                page.goto(base + path, wait_until="load")
                target = OUT / f"{(path.strip('/').replace('/', '_') or 'home')}-{name}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target.relative_to(ROOT))
            page.close()
        browser.close()
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
