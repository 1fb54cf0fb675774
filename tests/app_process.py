"""The real app in a subprocess, as an owner runs it (`python app.py`), on a free loopback port.

Shared by the end-to-end tests and the benchmarks, so both start, wait for and stop the app the
same way.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class AppDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The parent's environment without pytest's and NiceGUI's markers, plus the app's settings.

    NiceGUI switches into test mode when it sees PYTEST_CURRENT_TEST, and NICEGUI_* variables
    would redirect its host, port or storage.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTEST_CURRENT_TEST" and not key.startswith("NICEGUI_")
    }
    env.update(
        CUSTOMER_GROUPS_DATA=str(data_dir),
        NICEGUI_STORAGE_PATH=str(data_dir / ".nicegui"),
        PYTHONUNBUFFERED="1",
        **settings,
    )
    return env


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):  # not listening yet, or an error page while starting
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (NiceGUI shuts down cleanly and closes the database), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_app(
    *, data_dir: Path, settings: dict[str, str], start_timeout: float, command: Sequence[str] = ("app.py",)
) -> Iterator[str]:
    """Start the app with `settings` and its data in `data_dir`; yield its base URL once it
    answers. Raises AppDidNotStart, with the app's output, if it exits or stays silent.

    `command` follows the Python interpreter (a benchmark may run the app with a page of its own)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_environment(data_dir, PORT=str(port), HOST="127.0.0.1", **settings)
    with (data_dir / "app.log").open("w+") as log:
        process = subprocess.Popen(
            [sys.executable, *command], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + start_timeout
            while not _answers_200(f"{url}/"):
                if process.poll() is not None or time.monotonic() > deadline:
                    _stop(process)
                    log.seek(0)
                    reason = (
                        f"exited with code {process.returncode}"
                        if process.returncode not in (None, -15)
                        else f"did not answer on {url}/ within {start_timeout:.0f} s"
                    )
                    raise AppDidNotStart(f"The app {reason}. Its output:\n{log.read()}")
                time.sleep(0.1)
            yield url
        finally:
            _stop(process)
