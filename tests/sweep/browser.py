"""Headless Chromium driven over the DevTools protocol on a pipe (no extra packages).

`--dump-dom` cannot see TensorBoard's dashboards: they live in shadow roots, which it does not
serialize. `--remote-debugging-pipe` lets the test read the rendered text through them and
take screenshots once the page shows what is asked.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

# Every text node of the page, through shadow roots, in document order.
DEEP_TEXT = """(() => {
  const SKIP = ["STYLE", "SCRIPT", "TEMPLATE", "NOSCRIPT"];
  const out = [];
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) out.push(child.textContent.trim());
      else if (!SKIP.includes(child.nodeName)) walk(child);
    }
  };
  walk(document);
  return out.filter(Boolean).join("\\n");
})()"""


# Width and height of every loaded <img>, through shadow roots.
DEEP_IMAGES = """(() => {
  const out = [];
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children || []) {
      const img = child.tagName === "IMG" && child.complete;
      if (img) out.push([child.naturalWidth, child.naturalHeight]);
      walk(child);
    }
  };
  walk(document);
  return out;
})()"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _launch(width: int, height: int) -> tuple[subprocess.Popen, int, int]:
    """Start Chromium with the protocol on its fds 3 (commands) and 4 (replies)."""
    to_child, write = os.pipe()
    read, from_child = os.pipe()

    def pipes_at_3_and_4() -> None:
        # Out of the way first: a pipe end may already sit at 3 or 4, close-on-exec.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_child, from_child)]
        for target, fd in zip((3, 4), ends):
            os.dup2(fd, target)  # inheritable

    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--remote-debugging-pipe",
        f"--window-size={width},{height}",
        "about:blank",
    ]
    process = subprocess.Popen(
        args,
        preexec_fn=pipes_at_3_and_4,
        close_fds=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(to_child)
    os.close(from_child)
    return process, write, read


class Browser:
    """One headless Chromium with one page; a context manager that ends the process it started."""

    def __init__(self, width: int = 1400, height: int = 900) -> None:
        self.process, self._write, self._read = _launch(width, height)
        self._next_id, self._buffer, self.session = 0, b"", ""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        attached = self.send("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=width,
                  height=height, deviceScaleFactor=1, mobile=False)  # fmt: skip

    def send(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events in between are skipped)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str) -> None:
        """Load `url` afresh (a change of the #hash alone would not reload the page)."""
        self.send("Page.navigate", session=True, url="about:blank")
        self.send("Page.navigate", session=True, url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True)  # fmt: skip
        return result["result"].get("value")

    def text(self) -> str:
        """The rendered text of the page, shadow roots included."""
        return self.evaluate(DEEP_TEXT) or ""

    def image_sizes(self) -> list[tuple[int, int]]:
        """(width, height) of every image the page has loaded."""
        return [tuple(size) for size in self.evaluate(DEEP_IMAGES) or []]

    def wait_for(self, *needles: str, timeout: float = 90.0) -> str:
        """The page text once it holds every needle; the last text seen if the time runs out."""
        deadline, text = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(needle in text for needle in needles):
                return text
            time.sleep(0.5)
        return text

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
