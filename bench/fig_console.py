"""Figure: the console's weight and first paint. What a browser downloads
for the console (index.html and every file it names, as served: minified),
and in Debian's Chromium on loopback the first contentful paint and the
moment the first screen (sign-in) is drawn, median of several cold loads."""
import re
import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chalicelib.console.routes import TYPES, served

BUDGET_KB = 150
#: when the first screen's form is in the page, seen from inside it (not when a poll from outside notices)
DRAWN = """new MutationObserver((_, seen) => {
  if (document.querySelector("main form")) { window.__drawn = performance.now(); seen.disconnect(); }
}).observe(document, { subtree: true, childList: true });"""
PAINT_GOAL_MS = 200


class _Console(BaseHTTPRequestHandler):
    """The console's files as the app serves them (the API is not needed to
    draw the sign-in screen: without a token the console asks nothing), over
    HTTP/1.1 with keep-alive, as API Gateway and Chalice's local server speak."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        name = "index.html" if self.path in ("/", "") else self.path.removeprefix("/assets/")
        try:
            body = served(name).encode("utf-8")
        except (OSError, ValueError):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", TYPES["." + name.rsplit(".", 1)[-1]])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def console_bytes():
    html = served("index.html")
    names = ["index.html"] + re.findall(r'(?:src|href)="assets/([^"]+)"', html)
    return sum(len(served(n).encode("utf-8")) for n in names)


def run(quick=False):
    from playwright.sync_api import sync_playwright
    from tests.e2e.test_console import CHROMIUM
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Console)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    paints, drawn = [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            for _ in range(3 if quick else 10):
                context = browser.new_context()  # (a cold cache each time)
                page = context.new_page()
                page.add_init_script(DRAWN)
                page.goto(url)
                page.get_by_role("button", name="Sign in", exact=True).first.wait_for()
                drawn.append(page.evaluate("() => window.__drawn"))
                paints.append(page.evaluate(
                    "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"))
                context.close()
            browser.close()
    finally:
        server.shutdown()
    size = console_bytes() / 1024
    paint = statistics.median([p for p in paints if p is not None] or [float("nan")])
    first = statistics.median(drawn)
    return [
        {"figure": "console assets as served (uncompressed)", "value": round(size, 1), "unit": "KB",
         "goal": f"< {BUDGET_KB}", "passed": size < BUDGET_KB},
        {"figure": "console first contentful paint (loopback, cold)", "value": round(paint, 1), "unit": "ms",
         "goal": f"< {PAINT_GOAL_MS}", "passed": paint < PAINT_GOAL_MS},
        {"figure": "console sign-in screen drawn (loopback, cold)", "value": round(first, 1), "unit": "ms",
         "goal": f"< {PAINT_GOAL_MS}", "passed": first < PAINT_GOAL_MS},
    ]
