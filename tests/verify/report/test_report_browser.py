"""report.html in a real browser (headless Chromium): typeset MathML, no horizontal scroll, no
clipped column, at projector width (1280 px) and at phone width (400 px).

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands
on file descriptor 3, answers on 4, each a JSON message ended by a NUL byte), with the standard
library only. The window size flag cannot make a headless window narrower than 500 px, so the
viewport width is set by ``Emulation.setDeviceMetricsOverride``. The tests skip when chromium is
not installed (``apt-get install chromium``; ``.ci/run`` installs it).

``FACTCHECK_SCREENSHOTS=DIR`` keeps the full-page screenshots (``report-1280.png``,
``report-400.png``) for a person to look at.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import verify.report.builder as report
from verify.base.records import ReportEntry

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (optional; apt-get install chromium)"
)

FAST = (
    ("verify.report.fact", "report_entries", "FACT (symbolic)", ("F1",)),
    ("verify.claims.f2", "report_entries", "FACT (numeric F2)", ("F2",)),
    ("verify.deep_linear.flow", "report_entries", "Deep linear networks", ("D1", "D7")),
)

#: measured in the page: what a reader would see scroll, overflow or stay untypeset
PROBE = """(() => {
  const de = document.documentElement, vw = de.clientWidth;
  const out = {viewport: window.innerWidth, client: vw, scroll: de.scrollWidth, outside: [],
               overfull: [], maths: document.querySelectorAll('math').length, fractions: 0,
               stacked: 0, summaryTop: null, viewportMeta: !!document.querySelector(
                 'meta[name=viewport]')};
  for (const el of document.querySelectorAll('table, tr, th, td, h1, h2, h3, p, li, figure, svg')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > vw + 1 || r.left < -1)) out.outside.push(el.tagName);
  }
  for (const el of document.querySelectorAll('td, th')) {
    if (el.scrollWidth > el.clientWidth + 1) out.overfull.push(el.textContent.slice(0, 60));
  }
  for (const f of document.querySelectorAll('mfrac')) {
    const a = f.children[0].getBoundingClientRect(), b = f.children[1].getBoundingClientRect();
    out.fractions += 1;
    if (a.height > 0 && a.bottom <= b.top + 0.5) out.stacked += 1;  // numerator above
  }
  out.witnessTables = document.querySelectorAll('.witness table').length;
  out.pres = 0; out.cutPres = [];
  for (const el of document.querySelectorAll('pre')) {
    if (!el.clientWidth) continue;  // inside a closed <details>
    out.pres += 1;
    if (el.scrollWidth > el.clientWidth + 1) out.cutPres.push(el.textContent.slice(0, 60));
  }
  const s = document.getElementById('summary');
  if (s) out.summaryTop = s.getBoundingClientRect().top;
  return out;
})()"""


class _Browser:
    """A headless Chromium on a DevTools pipe (module docstring)."""

    def __init__(self, profile: Path) -> None:
        cmd_r, cmd_w = os.pipe()
        ans_r, ans_w = os.pipe()
        flags = (
            "--headless --no-sandbox --disable-gpu --no-first-run --disable-sync "
            "--disable-background-networking --disable-component-update --hide-scrollbars "
            f"--remote-debugging-pipe --user-data-dir={profile}"
        )
        # the shell puts the pipe ends on descriptors 3 and 4, where Chromium expects them
        shell = f"exec {CHROMIUM} {flags} about:blank 3<&{cmd_r} 4>&{ans_w}"
        self.proc = subprocess.Popen(
            ["bash", "-c", shell],
            pass_fds=(cmd_r, ans_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(ans_w)
        self.w, self.r = cmd_w, ans_r
        self.buf, self.n = b"", 0

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        self.n += 1
        msg: dict[str, Any] = {"id": self.n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            while b"\0" not in self.buf:
                chunk = os.read(self.r, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe during {method}")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.n:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
        raise TimeoutError(method)

    def render(self, url: str, width: int, shot: Path) -> dict[str, Any]:
        """Open ``url`` at ``width`` CSS pixels; full-page screenshot; the probe's findings."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", metrics, s)
        self.send("Page.navigate", {"url": url}, s)
        for _ in range(100):  # wait for the load (no network, a local file)
            state = self.send("Runtime.evaluate", {"expression": "document.readyState"}, s)
            if state["result"]["value"] == "complete":
                break
            time.sleep(0.1)
        found = self.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, s)
        size = self.send("Page.getLayoutMetrics", {}, s)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": width, "height": min(size["height"], 16000), "scale": 1}
        png = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            s,
        )
        shot.write_bytes(base64.b64decode(png["data"]))
        self.send("Target.closeTarget", {"targetId": target})
        return found["result"]["value"]

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.w)
        os.close(self.r)


#: the counterexample chapter's entries of a real run (see test_report_witness.py): their family
#: tables are the widest on the page
WITNESSES = Path(__file__).with_name("data") / "counterexample_entries.json"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick report of the FACT, F2 and deep-linear producers (derivations, tables, figures)
    with the counterexample chapter's entries (family, witness and FACT tables) added."""
    out = tmp_path_factory.mktemp("browser") / "report"
    saved, collect = report.PRODUCERS, report.collect
    witnesses = [ReportEntry(seconds=0.0, **e) for e in json.loads(WITNESSES.read_text())]
    report.PRODUCERS = FAST
    report.collect = lambda **kw: collect(**kw) + witnesses
    try:
        assert report.run_report(out=str(out), quick=True) == 0
    finally:
        report.PRODUCERS, report.collect = saved, collect
    return out / "report.html"


@pytest.mark.parametrize("width", [1280, 400])
def test_report_renders_typeset_without_horizontal_scroll(
    page: Path, width: int, tmp_path: Path
) -> None:
    """F1, D5: at 1280 px and 400 px the page shows the summary first, typesets its MathML
    (fractions stacked), never scrolls sideways, and no table column is cut off; at 1280 px no
    preformatted line is cut either."""
    browser = _Browser(tmp_path / "profile")
    try:
        shot = tmp_path / f"report-{width}.png"
        found = browser.render(page.as_uri(), width, shot)
    finally:
        browser.close()
    keep = os.environ.get("FACTCHECK_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    assert found["viewport"] == width and found["viewportMeta"]
    assert found["scroll"] <= found["client"], f"page scrolls sideways: {found}"
    assert found["outside"] == [], f"elements beyond the right edge: {found['outside']}"
    assert found["overfull"] == [], f"table cells wider than their column: {found['overfull']}"
    assert found["maths"] > 100 and found["fractions"] > 10
    assert found["stacked"] == found["fractions"], "MathML fractions not typeset"
    assert found["summaryTop"] is not None and found["summaryTop"] < 900  # on the first screen
    if width > 640:  # on a projector no line of text is cut at its box (phones scroll it)
        assert found["pres"] > 0 and found["cutPres"] == [], found["cutPres"]
    assert found["witnessTables"] >= 10  # the counterexample chapter is on the page, as tables
    assert shot.stat().st_size > 50_000  # a blank page is a few kB
