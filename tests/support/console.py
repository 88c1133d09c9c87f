"""The console for tests: start it as a service of a test system, create its operators
with the CLI, and drive Debian's chromium through selenium (chromium-driver)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.system import REPO, Service, System, free_port, wait_http

SCREENSHOTS = REPO / ".wastream" / "console-screenshots"  # ignored by git
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,1000")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def add_operator(system: System, name: str, password: str, role: str) -> None:
    """``wastream console add-operator`` with the password on stdin."""
    result = subprocess.run([sys.executable, "-m", "wastream.cli", "console", "add-operator",
                             name, "--role", role], input=password + "\n", env=system.env,
                            capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr


def start_console(system: System, ingress_metrics: str | None = None,
                  worker_metrics: str | None = None) -> tuple[Service, str]:
    """The console; the services' /metrics URLs (on their WASTREAM_HEALTH_PORT) if any."""
    port = free_port()
    args = ["--port", str(port)]
    if ingress_metrics:
        args += ["--ingress-metrics-url", ingress_metrics]
    if worker_metrics:
        args += ["--worker-metrics-url", worker_metrics]
    svc = system.start("console", "console", *args)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", svc)
    return svc, url


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium of Debian's packages with a fresh profile, driven by selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver_bin = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=DriverService(executable_path=driver_bin), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def browser_login(drv: Any, url: str, name: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    drv.get(f"{url}/login")
    drv.find_element(By.ID, "name").send_keys(name)
    drv.find_element(By.ID, "password").send_keys(password)
    drv.find_element(By.ID, "submit").click()
    # The click returns before the POST's answer: wait for the page it leads to.
    WebDriverWait(drv, 20).until(lambda d: not d.current_url.endswith("/login")
                                 or d.find_elements(By.ID, "error"))


def screenshot(drv: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # The whole page: the window grows to the document's height first.
    height = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(1280, max(800, min(int(height) + 100, 6000)))
    drv.save_screenshot(str(path))
    return path


def client() -> aiohttp.ClientSession:
    """An HTTP client that keeps cookies of 127.0.0.1 (aiohttp's jar skips IP hosts)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def http_login(session: aiohttp.ClientSession, url: str, name: str,
                     password: str) -> int:
    """Log in like a browser (the login form's double-submit token); the status."""
    async with session.get(f"{url}/login") as r:
        pre = CSRF.search(await r.text())
    assert pre is not None
    async with session.post(f"{url}/login", data={"csrf": pre.group(1), "name": name,
                                                  "password": password},
                            allow_redirects=False) as r:
        return r.status


async def page_csrf(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as r:
        m = CSRF.search(await r.text())
    assert m is not None
    return m.group(1)
