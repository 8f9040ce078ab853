"""Headless Chromium for tests, driven over the W3C WebDriver protocol by Debian's chromedriver.

Four WebDriver commands are all the tests need (new session, navigate, execute an async script,
delete the session), so they are spoken here with httpx rather than through a driver library:
no new dependency, and nothing that tries to download a browser or a driver (Selenium Manager
does when it cannot find one, and this machine reaches no download site).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.serving import free_port

CHROMIUM = "chromium"
CHROMEDRIVER = "chromedriver"
SCRIPT_TIMEOUT_SECONDS = 60


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    absent = [name for name in (CHROMIUM, CHROMEDRIVER) if shutil.which(name) is None]
    if not absent:
        return None
    return (
        f"{' and '.join(absent)} not installed: headless Chromium tests need Debian's "
        "`chromium` and `chromium-driver` (.ci/run installs them when it runs as root)"
    )


class WebDriverError(AssertionError):
    """A WebDriver command failed (its `error` and `message` are in the text)."""


class Browser:
    """One WebDriver session."""

    def __init__(self, endpoint: str, session_id: str) -> None:
        self._session = f"{endpoint}/session/{session_id}"

    def _command(self, path: str, body: dict[str, Any]) -> Any:
        answer = httpx.post(f"{self._session}/{path}", json=body, timeout=120)
        value = answer.json()["value"]
        if answer.status_code != 200:
            raise WebDriverError(f"{path}: {value.get('error')}: {value.get('message')}")
        return value

    def open(self, url: str) -> None:
        self._command("url", {"url": url})

    def run(self, function: str, *args: Any) -> Any:
        """Await `function(...args)` (a global of the open page that returns a promise of
        something JSON can carry) and return its value."""
        script = (
            "const done = arguments[arguments.length - 1];"
            f"{function}(...Array.from(arguments).slice(0, -1))"
            ".then(done, (e) => done({thrown: String(e)}));"
        )
        return self._command("execute/async", {"script": script, "args": list(args)})


@contextmanager
def chromium(*, host_rules: str = "") -> Iterator[Browser]:
    """A headless Chromium session. `host_rules` is Chromium's `--host-resolver-rules`, e.g.
    `MAP localhost:3000 127.0.0.1:41234` to give a page the origin http://localhost:3000
    whatever listens on port 3000 of this machine."""
    port = free_port()
    driver = subprocess.Popen(
        [shutil.which(CHROMEDRIVER) or CHROMEDRIVER, f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(driver, endpoint)
        arguments = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage"]
        arguments.append("--no-sandbox")  # Chromium's sandbox refuses to run as root (CI is)
        if host_rules:
            arguments.append(f"--host-resolver-rules={host_rules}")
        options = {"binary": shutil.which(CHROMIUM), "args": arguments}
        created = httpx.post(
            f"{endpoint}/session",
            json={"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}},
            timeout=120,
        )
        value = created.json()["value"]
        if created.status_code != 200:
            raise WebDriverError(f"new session: {value.get('error')}: {value.get('message')}")
        session = f"{endpoint}/session/{value['sessionId']}"
        try:
            httpx.post(
                f"{session}/timeouts", json={"script": SCRIPT_TIMEOUT_SECONDS * 1000}, timeout=30
            )
            yield Browser(endpoint, value["sessionId"])
        finally:
            httpx.delete(session, timeout=30)
    finally:
        driver.terminate()
        driver.wait(timeout=30)


def _wait_until_ready(driver: subprocess.Popen[bytes], endpoint: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{endpoint}/status", timeout=1).json()["value"]["ready"]:
                return
        except httpx.TransportError:
            pass
        assert driver.poll() is None, "chromedriver exited"
        assert time.monotonic() < deadline, "chromedriver did not start"
        time.sleep(0.1)
