"""The examples of ``examples/`` run as their docstrings say, each in its own
process on 127.0.0.1 with ``--port 0``:

- every example serves its page and the browser bundle;
- the official Node engine.io-client (``interop/server/node_client.js``)
  talks to the simple examples (ASGI and WSGI): echo, order, the upgrade;
- Debian's chromium, driven by playwright-core (``browser/latency-page.mjs``,
  the Rust browser test's driver), loads each latency example's page
  (ASGI, WSGI, native with threads and with asyncio) and must show at least
  five round trips over WebSocket.

The ASGI and WSGI examples also run on python-engineio, with their one
import line switched (``import engineio_rs as engineio`` to ``import
engineio``): that they are written against python-engineio's API is
checked, not only claimed.

A missing peer (node and the npm packages, chromium, playwright-core, the
browser bundle) skips its tests, or fails them when ``EIO_INTEROP=require``
(as ``scripts/test.sh`` sets).
"""

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
ROOT = HERE.parents[2]
INTEROP = ROOT / "interop"
BROWSER = ROOT / "browser"
CHROMIUM = pathlib.Path("/usr/bin/chromium")
BUNDLE = ROOT / "crates/engineio/examples/latency/node_modules/engine.io-client/dist"

OURS_IMPORT = "import engineio_rs as engineio\n"

# Runs an example with python-engineio: its source with the import line
# switched, under the example's own path (so it finds its page and bundle).
SWITCH = """\
import sys
path = sys.argv[1]
with open(path) as f:
    source = f.read()
assert source.count({ours!r}) == 1, "the example must import engineio_rs once"
source = source.replace({ours!r}, "import engineio\\n")
sys.argv = sys.argv[1:]
exec(compile(source, path, "exec"), {{"__name__": "__main__", "__file__": path}})
"""


def unavailable(what, install):
    """Skips the test, or fails it under ``EIO_INTEROP=require``."""
    message = f"{what} is missing (run {install})"
    if os.environ.get("EIO_INTEROP") == "require":
        pytest.fail(f"{message} and EIO_INTEROP=require")
    pytest.skip(message)


def need_node_client():
    if shutil.which("node") is None:
        unavailable("node", "scripts/install-test-deps.sh")
    if not (INTEROP / "node_modules/engine.io-client/package.json").is_file():
        unavailable("interop/node_modules/engine.io-client", "scripts/install-test-deps.sh")


def need_browser():
    needed = [
        CHROMIUM,
        BROWSER / "node_modules/playwright-core/package.json",
        BUNDLE / "engine.io.min.js",
    ]
    absent = [str(path) for path in needed if not path.exists()]
    if shutil.which("node") is None:
        absent.append("node")
    if absent:
        unavailable(", ".join(absent), "scripts/install-browser-deps.sh")


def need_impl(impl):
    if impl == "python-engineio":
        pytest.importorskip("engineio", reason="python-engineio is not installed")


class Example:
    """An example running in a subprocess; its output goes to files (read
    them with ``output()``), so no pipe can fill up and block it."""

    def __init__(self, script, args, impl, workdir):
        self.name = script
        self.out_path = workdir / f"{script}.out"
        self.err_path = workdir / f"{script}.err"
        command = [sys.executable, "-u"]
        if impl == "python-engineio":
            switch = workdir / "switch_import.py"
            switch.write_text(SWITCH.format(ours=OURS_IMPORT))
            command.append(str(switch))
        command += [str(EXAMPLES / script), "--host", "127.0.0.1", "--port", "0", *args]
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.process = subprocess.Popen(
                command,
                cwd=workdir,  # the examples run from anywhere
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # Ctrl-C must reach it even if this run ignores SIGINT.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        self.port = self._wait_listening()
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self):
        return self.out_path.read_text() + self.err_path.read_text()

    def stdout_lines(self):
        return self.out_path.read_text().splitlines()

    def _wait_listening(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for line in self.stdout_lines():
                if line.startswith("LISTENING "):
                    return int(line.split()[1])
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.05)
        pytest.fail(f"{self.name} printed no LISTENING line in 20 s:\n{self.output()}")

    def wait_for_line(self, prefix, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.stdout_lines() if line.startswith(prefix)]
            if found:
                return found[0]
            time.sleep(0.05)
        pytest.fail(f"{self.name} printed no {prefix!r} line:\n{self.output()}")

    def interrupt(self):
        """Ctrl-C; returns the exit code (``None`` if it did not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def running(tmp_path, script, *args, impl="ours"):
    example = Example(script, args, impl, tmp_path)
    try:
        yield example
    finally:
        example.interrupt()
        example.kill()


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


# ===== every example starts and serves its page =====

ALL = [
    ("simple_asgi.py", (), "simple.html"),
    ("simple_wsgi.py", (), "simple.html"),
    ("latency_asgi.py", (), "latency.html"),
    ("latency_wsgi.py", (), "latency.html"),
    ("latency_native.py", (), "latency.html"),
    ("latency_native.py", ("--asyncio",), "latency.html"),
]


@pytest.mark.parametrize(
    ("script", "args", "page"), ALL, ids=[" ".join((s, *a)) for s, a, _ in ALL]
)
def test_each_example_serves_its_page_and_stops_on_ctrl_c(tmp_path, script, args, page):
    with running(tmp_path, script, *args) as example:
        status, content_type, body = get(example.url + "/")
        assert status == 200
        assert content_type.startswith("text/html")
        assert body == (EXAMPLES / page).read_bytes()
        if (BUNDLE / "engine.io.min.js").is_file():
            status, content_type, body = get(example.url + "/static/engine.io.min.js")
            assert status == 200
            assert content_type.startswith("application/javascript")
            assert body == (BUNDLE / "engine.io.min.js").read_bytes()
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(example.url + "/nothing-here")
        assert refused.value.code == 404
        assert example.interrupt() == 0, example.output()


def test_the_examples_import_engineio_rs_as_engineio():
    for script in ("simple_asgi.py", "simple_wsgi.py", "latency_asgi.py", "latency_wsgi.py"):
        source = (EXAMPLES / script).read_text()
        assert source.count(OURS_IMPORT) == 1, script
        assert "engineio_rs." not in source, script
        assert '"""' in source.split("\n", 1)[0], f"{script} has no module docstring"


# ===== the Node client against the simple examples =====


def node_client(url, options):
    need_node_client()
    run = subprocess.run(
        ["node", "server/node_client.js", f"{url}/engine.io/", json.dumps(options)],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=60,
    )
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return events, run.stdout + run.stderr


SIMPLE = [
    (script, impl)
    for script in ("simple_asgi.py", "simple_wsgi.py")
    for impl in ("ours", "python-engineio")
]


@pytest.mark.parametrize("transports", [["polling", "websocket"], ["websocket"]])
@pytest.mark.parametrize(("script", "impl"), SIMPLE, ids=[f"{s}-{i}" for s, i in SIMPLE])
def test_the_node_client_gets_its_messages_back_from_the_simple_example(
    tmp_path, script, impl, transports
):
    need_impl(impl)
    need_node_client()
    upgrading = transports == ["polling", "websocket"]
    options = {
        "transports": transports,
        "onOpen": [{"text": "hello"}, {"binary": [0, 1, 2, 255]}],
        "sequence": {"count": 20, "burst": 5, "everyMs": 20, "atUpgrade": 3 if upgrading else 0},
        "expect": 25 if upgrading else 22,
        "waitUpgrade": upgrading,
        "closeWhenDone": True,
    }
    with running(tmp_path, script, impl=impl) as example:
        events, log = node_client(example.url, options)
        log += f"\n--- the example:\n{example.output()}"
        kinds = [e["event"] for e in events]
        assert "done" in kinds and kinds[-1] == "close", log
        opened = next(e for e in events if e["event"] == "open")
        if upgrading:
            assert opened["transport"] == "polling", log
            upgrade = next(e for e in events if e["event"] == "upgrade")
            assert upgrade["transport"] == "websocket", log
        else:
            assert opened["transport"] == "websocket", log
            assert "upgrade" not in kinds, log
        received = [
            e["text"] if "text" in e else bytes(e["binary"])
            for e in events
            if e["event"] == "message"
        ]
        sent = ["hello", bytes([0, 1, 2, 255])] + [f"seq-{n}" for n in range(options["expect"] - 2)]
        assert received == sent, log
        sid = next(e["sid"] for e in events if e["event"] == "handshake")
        assert example.wait_for_line("connect ") == f"connect {sid}"
        assert example.wait_for_line("disconnect ").startswith(f"disconnect {sid} ")
        assert f"message {sid} b'\\x00\\x01\\x02\\xff'" in example.stdout_lines()


# ===== the latency pages in chromium =====

LATENCY = [
    ("latency_asgi.py", (), "ours"),
    ("latency_wsgi.py", (), "ours"),
    ("latency_native.py", (), "ours"),
    ("latency_native.py", ("--asyncio",), "ours"),
    ("latency_asgi.py", (), "python-engineio"),
    ("latency_wsgi.py", (), "python-engineio"),
]


@pytest.mark.parametrize(
    ("script", "args", "impl"),
    LATENCY,
    ids=["-".join((s, *a, i)) for s, a, i in LATENCY],
)
def test_the_latency_page_shows_round_trips_over_websocket_in_chromium(
    tmp_path, script, args, impl
):
    need_impl(impl)
    need_browser()
    screenshot = tmp_path / "latency.png"
    with running(tmp_path, script, *args, impl=impl) as example:
        run = subprocess.run(
            ["node", "latency-page.mjs", example.url + "/", str(screenshot), "5"],
            cwd=BROWSER,
            capture_output=True,
            text=True,
            timeout=90,
        )
        log = f"{run.stdout}\n{run.stderr}\n--- the example:\n{example.output()}"
        assert run.returncode == 0, log
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result["ok"] is True, log
        assert result["status"] == "connected", log
        assert result["transport"] == "websocket", log
        assert result["samples"] >= 5, log
        assert result["latency_ms"] > 0, log
        assert not [line for line in result["console"] if "unexpected" in line], log
        assert screenshot.stat().st_size > 1000
        assert example.interrupt() == 0, example.output()
