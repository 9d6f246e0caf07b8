"""Load: many visitors streaming at once from one app server, as in a study-group demo.

A study group opens the app together and presses Run at about the same moment,
each visitor on their own machine. This starts the app with ``streamlit run`` on
127.0.0.1 (loopback only, the simulator only: no key, no network), opens
SESSIONS Streamlit sessions, and for each page in turn (Stream, with the answer
length set, then Batch, with its example topics, the ``for`` loop and ``batch``):

1. runs one session alone, as the baseline (``--alone-runs`` times, 3 by default with the
   websocket client: the baseline is each mark's median, since one run on a shared machine is noisy);
2. presses Run in every session as close together as possible, and records in
   each one when the first result appeared and when the run ended;
3. counts errors: a session that gets an exception or an error box, or that
   never finishes within the time limit.

On Stream (websocket client, unless ``--no-bare``) the same client also drives a
bare Streamlit page, ``bench/bare_stream_app.py`` (a Run button and the same
simulated stream, same model, profile, seed and chain, into one container with the
same renderer; its docstring says what it leaves out), on its own server started
beside the app's, with as many sessions. Turns alternate, ABBA over ``--rounds``
(default 2): the app's baseline and crowd, then the bare page's, then the bare
page's again and the app's; the idle server meanwhile waits. Alternating whole
turns, rather than running both crowds at once, keeps each crowd the only load
on its server and on the cores (two crowds at once would each be the other's
noise), and the ABBA order gives a load that rises or falls over the bench to
both alike. It then prints, for the first text p95, the run's end p95 and the
server CPU per run: the app ÷ its alone, the bare page ÷ its alone, and app ÷
bare, per round and pooled, with the load average at the start and the end, and
one line for the README's table. A ratio is only worth its baseline: the bare
page tells how much of the app's ratio is the machine's and Streamlit's own.

It prints, per page, p50/p95/max of the time to the first result and to the end,
their ratio to the single session measured in the same run, the server's
resident memory (RSS) before, at its peak and after, and the CPU time the server
(and the client) used against the wall time of the crowd's run. Everything is
bounded: one server, at most 50 sessions, one run each, a time limit per wait.

Two clients:

``--client ws`` (the default) drives the sessions without a browser. It speaks
Streamlit's own websocket protocol from Python, in one asyncio loop: it connects
to ``ws://127.0.0.1:PORT/_stcore/stream`` with the ``streamlit`` subprotocol
(the ``websockets`` package, a dependency of Streamlit itself), sends a
``BackMsg`` ``rerun_script`` for the page, reads the ``ForwardMsg`` deltas to
find the widget ids of Run and of the answer-length radio, and presses Run by
sending the button's ``trigger_value`` in the widget states. On Stream, "first
result" is the first markdown delta with text inside the ``stream_output``
container; on Batch, the first "finished #1" line of ``batch_as_completed``.
"Run finished" is ``script_finished``; "metrics sent" is when the run's metrics
arrive (TTFT on Stream, the batch total on Batch), the browser client's end mark.

``--client browser`` (Stream only) opens SESSIONS tabs in one headless Chromium
(each tab its own context, so its own Streamlit session) and records in each tab, with a
MutationObserver and ``Date.now()``, when the stream's box first shows text and
when the run's metrics appear. It is an end-to-end cross-check, but on a small
machine it measures the shared browser more than the server: with 10 tabs on 2
cores Chromium used 169 % of a core and the server 15 %, and the first text took
5.9 s at p50 against 0.42 s alone. That is why ``ws`` is the default: each
visitor of a study group renders on their own machine, so only the server's
work should grow with the number of sessions.

With either client, one warm-up run in the first session comes before the
baseline, so that what a server's first run imports (plotly, for the token
chart) is not counted in the baseline.

The simulator sleeps (it does not burn CPU), so what grows with the number of
sessions is the app's own work: script runs, throttled re-renders, protobuf
serialisation and websocket traffic (and, with ``--client browser``, the
browser itself, on the same machine).

Usage::

    python -m bench.load                     # 20 sessions, Stream (≈300-token answers) then Batch
    python -m bench.load --sessions 40 --pages stream   # the app against the bare page, ABBA, 2 rounds
    python -m bench.load --sessions 40 --pages stream --no-bare --rounds 1   # the app alone, as before
    python -m bench.load --sessions 10 --length short --pages stream
    python -m bench.load --sessions 40 --pages stream --shape paragraph   # one long paragraph (or list, code)
    python -m bench.load --client browser --sessions 10   # end-to-end, in headless Chromium
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from chains.simulation.joke_book import REPLY_SHAPES
from devtools.browser import (
    EXCEPTION,
    VIEWPORT,
    chromium_browser,
    open_page,
    rss_mb,
    served_app,
    strings,
    wait_for_idle,
)

EN = strings("en")
MAX_SESSIONS = 50
#: The Stream page's url path (``st.Page(..., url_path="stream")`` in streamlit_app.py).
STREAM_PAGE = "stream"
#: Widget and container keys on the mode pages (pages/stream.py, pages/batch.py).
RUN_KEY = "run"
LENGTH_KEY = "answer_length"
SHAPE_KEY = "answer_shape"
OUTPUT_KEY = "stream_output"


@dataclass(frozen=True)
class PageScenario:
    """One page the crowd runs, and how the websocket client reads its run.

    Attributes:
        page: The page's url path.
        title: Its name in the report.
        end_metric: The label of the metric that the run shows when it is done.
        output_key: A container whose first markdown marks the first result, or ``None``.
        first_text: Text whose first markdown marks the first result, or ``None``.
        length_radio: True when the page has the simulator's answer-length and answer-shape radios.
        length_in_query: True when the page reads the answer's length and shape from its query
            string instead (``bench/bare_stream_app.py``: ``?length=medium&shape=paragraphs``).
    """

    page: str
    title: str
    end_metric: str
    output_key: str | None = None
    first_text: str | None = None
    length_radio: bool = False
    length_in_query: bool = False


SCENARIOS = {
    "stream": PageScenario(STREAM_PAGE, "Stream page", EN["metrics"]["ttft"], output_key=OUTPUT_KEY, length_radio=True),
    "batch": PageScenario("batch", "Batch page", EN["batch"]["batch_total"], first_text=EN["batch"]["finished_nth"].format(nth=1)),
}
#: The same-run baseline: a bare Streamlit page with only Run and the same stream (``bench/bare_stream_app.py``).
BARE_SCRIPT = "bench/bare_stream_app.py"
BARE = PageScenario("", "bare page", end_metric="", output_key=OUTPUT_KEY, length_in_query=True)
#: The browser locale the websocket client reports, so the app speaks English.
LOCALE = "en-US"

#: Installed in a tab just before Run is clicked: records when the stream's box first
#: shows new text and when the metrics (the end of the run) appear.
WATCH_JS = """
(label) => {
  const box = () => document.querySelector('.st-key-stream_output');
  const initial = box() ? box().innerText : '';
  const marks = {clicked: null, first: null, done: null, error: null};
  const check = () => {
    if (marks.first === null && box() && box().innerText !== initial && box().innerText.trim()) marks.first = Date.now();
    if (marks.done === null) {
      const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')];
      if (metrics.some(m => m.innerText.includes(label))) marks.done = Date.now();
    }
    if (marks.error === null && document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]')) {
      marks.error = Date.now();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  window.__marks = marks;
  window.__clickRun = () => { marks.clicked = Date.now(); document.querySelector('.st-key-run button').click(); };
}
"""


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class PeakMemory:
    """Samples a process's RSS every 50 ms in a thread and keeps the peak."""

    def __init__(self, pid: int) -> None:
        """Watch ``pid``."""
        self._pid = pid
        self.peak = rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb(self._pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User plus system CPU time used so far by process ``pid`` (0 when it is gone).

    With ``thread`` (a thread id of that process; the main thread's id is ``pid``),
    only that thread's CPU time.
    """
    stat = Path(f"/proc/{pid}/stat") if thread is None else Path(f"/proc/{pid}/task/{thread}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """The server's CPU time over an interval: in all, and in its main thread.

    The main thread runs the asyncio event loop (uvicorn and Starlette: the
    websockets, serialising and sending each ForwardMsg); the other threads are
    mostly the script runs (one thread per session's run).
    """

    def __init__(self, pid: int) -> None:
        """Start counting for process ``pid``."""
        self._pid = pid
        self._start = (cpu_seconds(pid), cpu_seconds(pid, pid))
        self.total_s = 0.0
        self.main_thread_s = 0.0

    def stop(self) -> None:
        """Stop counting: set ``total_s`` and ``main_thread_s``."""
        self.total_s = cpu_seconds(self._pid) - self._start[0]
        self.main_thread_s = cpu_seconds(self._pid, self._pid) - self._start[1]


def browser_cpu_seconds() -> float:
    """CPU time used so far by every Chromium process on the machine."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"chromium" in (proc / "cmdline").read_bytes():
                    total += cpu_seconds(int(proc.name))
            except OSError:
                continue
    return total


@dataclass
class RunMarks:
    """When one session's run reached each mark, in seconds after its click (``None``: never).

    Attributes:
        clicked: ``time.perf_counter()`` when Run was pressed.
        first: The first text of the answer.
        metrics: The run's metrics (the browser client's end mark).
        done: The end of the run (``script_finished`` over the websocket).
        finished: False when the run did not end within the time limit.
        error: What went wrong (an exception, an error box, a closed connection), or ``None``.
        messages: ForwardMsgs received for this run (websocket client only).
        received_bytes: Their protobuf size, after websocket decompression (websocket client only).
        messages_before_first: Of those, how many came before the first text, that one included:
            each is one more wake-up of the server's event loop (websocket client only).
    """

    clicked: float
    first: float | None = None
    metrics: float | None = None
    done: float | None = None
    finished: bool = False
    error: str | None = None
    messages: int = 0
    received_bytes: int = 0
    messages_before_first: int = 0

    @property
    def failed(self) -> bool:
        """True when the run counts as an error."""
        return not self.finished or self.error is not None


@dataclass
class CrowdReport:
    """What one bench run measured, whichever client drove it.

    Attributes:
        client: ``ws`` or ``browser``.
        page: The page the crowd ran (``Stream``, ``Batch``).
        alone: The baseline: one session alone (with several baseline runs, each mark's median).
        alone_server_cpu_s: CPU time the server used for a baseline run (the median of them).
        crowd: Every session's run when all pressed Run together.
        rows: ``(label, field)`` pairs: the table's rows and the ``RunMarks`` field each shows.
        rss_before: Server RSS (MB) just before the crowd pressed Run.
        rss_peak: Peak server RSS (MB) during the crowd's run.
        rss_after: Server RSS (MB) after every run ended.
        wall_s: Wall time of the crowd's run, from the first click until every session ended.
        server_cpu_s: CPU time the server used in that time.
        server_main_thread_cpu_s: The part of it used by the server's main thread (its event loop).
        client_cpu: ``(name, seconds)``: the CPU time the client side used in that time.
        alone_runs: Every baseline run (``alone`` is their median).
        alone_cpu_runs: The server's CPU time for each of them.
        rounds: How many crowds ``crowd`` holds, one after the other (see ``pooled``).
    """

    client: str
    page: str
    alone: RunMarks
    alone_server_cpu_s: float
    crowd: list[RunMarks]
    rows: Sequence[tuple[str, str]]
    rss_before: float
    rss_peak: float
    rss_after: float
    wall_s: float
    server_cpu_s: float
    server_main_thread_cpu_s: float
    client_cpu: tuple[str, float]
    alone_runs: Sequence[RunMarks] = ()
    alone_cpu_runs: Sequence[float] = ()
    rounds: int = 1

    @property
    def crowd_cpu_per_run_s(self) -> float:
        """The server's CPU time in the crowd's run, divided by its sessions."""
        return self.server_cpu_s / len(self.crowd)

    def p95(self, field: str) -> float:
        """The crowd's 95th percentile of one ``RunMarks`` field (seconds after the click)."""
        return percentile([value for marks in self.crowd if (value := getattr(marks, field)) is not None], 0.95)


# --- websocket client: Streamlit's own protocol, no browser -------------------------------------


def widget_key(element_id: str) -> str:
    """The user key at the end of a Streamlit element id such as ``$$ID-<hash>-run`` ("" if none)."""
    return element_id.rsplit("-", 1)[-1] if element_id.startswith("$$ID-") else ""


class StreamlitSession:
    """One visitor: a Streamlit session driven over ``/_stcore/stream``, as the browser drives it.

    The frontend's protocol, as served by Streamlit 1.67
    (``web/server/starlette/starlette_websocket.py`` and ``runtime/app_session.py``):
    the websocket offers the ``streamlit`` subprotocol (an XSRF token and a session
    id may follow it, only for auth cookies and reconnection: not needed here);
    every frame is a protobuf, ``BackMsg`` up and ``ForwardMsg`` down. A
    ``rerun_script`` ``ClientState`` starts a run: ``page_name`` is the page's url
    path on the first load (``st.navigation`` resolves it), ``page_script_hash``
    afterwards, and ``widget_states`` carries the widget values, a button's press
    being ``trigger_value=True``. Like a browser, the session keeps the URL's query
    string that the app sets (``page_info_changed``) and sends it with every run, so
    the app sees its own ``st.query_params`` as a browser tab shows them. A run ends
    with ``script_finished``; status
    ``FINISHED_EARLY_FOR_RERUN`` means that the script called ``st.rerun`` and
    another run follows.
    """

    def __init__(self, base_url: str, timeout_s: float) -> None:
        """Prepare a session on the server at ``base_url`` (``http://127.0.0.1:PORT``)."""
        self._base_url = base_url
        self._stream_url = base_url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self._timeout_s = timeout_s
        self._socket: Any = None
        self.scenario = SCENARIOS["stream"]
        self.page_script_hash = ""
        self.query_string = ""
        self.run_button_id = ""
        self.run_fragment_id = ""
        self.length_radio: Any = None
        self.shape_radio: Any = None
        self.output_path: tuple[int, ...] | None = None

    async def connect(self) -> None:
        """Open the websocket, as a browser tab does before its first script run."""
        from websockets.asyncio.client import connect

        self._socket = await connect(
            self._stream_url,
            subprotocols=["streamlit"],  # type: ignore[list-item]
            origin=self._base_url,  # type: ignore[arg-type]
            proxy=None,  # loopback only: never through an HTTP(S)_PROXY from the environment
            max_size=None,  # the server's own limit (server.maxMessageSize) applies
            open_timeout=self._timeout_s,
        )

    async def open(self, scenario: PageScenario) -> None:
        """Go to the scenario's page, as a click in the sidebar's navigation does.

        Raises:
            RuntimeError: When the page does not load, or Run, the length radio or the
                stream's output box is missing from it.
        """
        if self._socket is None:
            await self.connect()
        self.scenario = scenario
        self.page_script_hash, self.run_button_id, self.length_radio, self.output_path = "", "", None, None
        self.run_fragment_id = ""
        self.shape_radio = None
        marks = RunMarks(clicked=time.perf_counter())
        await self._send_rerun(page_name=scenario.page)
        await self._read_run(marks, on_delta=self._learn_page)
        if marks.failed:
            raise RuntimeError(f"the {scenario.title} did not load: {marks.error or 'timed out'}")
        missing = [
            name
            for name, absent in (
                ("Run button", not self.run_button_id),
                ("answer-length radio", scenario.length_radio and self.length_radio is None),
                ("answer-shape radio", scenario.length_radio and self.shape_radio is None),
                (f"{scenario.output_key} box", scenario.output_key is not None and self.output_path is None),
            )
            if absent
        ]
        if missing:
            raise RuntimeError(f"the {scenario.title} has no {', '.join(missing)}")

    async def close(self) -> None:
        """Close the websocket (the server then ends the session)."""
        if self._socket is not None:
            await self._socket.close()

    async def press_run(self, length: str, shape: str = REPLY_SHAPES[0]) -> RunMarks:
        """Press Run, with the answer's length (``short``, ``medium`` or ``long``) and shape where the page has them.

        Returns:
            The marks of the run that starts, with only ``clicked`` set yet.
        """
        radios = []
        if self.scenario.length_radio:
            for radio, wanted in ((self.length_radio, EN["stream"][f"length_{length}"]), (self.shape_radio, EN["shapes"][f"shape_{shape}"])):
                options = list(radio.options)
                if wanted not in options:
                    raise RuntimeError(f"no option {wanted!r} in {options}")
                radios.append((radio.id, wanted))
        if self.scenario.length_in_query:
            self.query_string = urlencode({"length": length, "shape": shape})
        clicked = time.perf_counter()
        await self._send_rerun(button_id=self.run_button_id, radios=radios, fragment_id=self.run_fragment_id)
        return RunMarks(clicked=clicked)

    async def wait_for_run(self, marks: RunMarks) -> RunMarks:
        """Read the run started by :meth:`press_run` until it ends, filling in ``marks``."""
        await self._read_run(marks, on_delta=self._watch_answer)
        return marks

    async def _send_rerun(
        self, *, page_name: str = "", button_id: str = "", radios: Sequence[tuple[str, str]] = (), fragment_id: str = ""
    ) -> None:
        """Ask for a script run, as the browser does: the whole page, or only ``fragment_id``'s fragment when a widget inside it was used."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.page_script_hash
        state.fragment_id = fragment_id
        state.page_name = page_name
        state.query_string = self.query_string
        state.context_info.locale = LOCALE
        if button_id:
            widget = state.widget_states.widgets.add()
            widget.id = button_id
            widget.trigger_value = True
        for radio in radios:
            widget = state.widget_states.widgets.add()
            widget.id, widget.string_value = radio
        await self._socket.send(message.SerializeToString())

    async def _read_run(self, marks: RunMarks, *, on_delta: Callable[[Any, RunMarks], None]) -> None:
        """Read ForwardMsgs until the run ends, passing each delta to ``on_delta(msg, marks)``.

        Every run starts with a ``new_session`` message. Anything before it is left
        over from an earlier run (one that timed out and was then interrupted), so it
        is skipped.
        """
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from websockets.exceptions import ConnectionClosed

        started = False
        try:
            async with asyncio.timeout(self._timeout_s):
                while True:
                    frame = await self._socket.recv()
                    message = ForwardMsg()
                    message.ParseFromString(frame)
                    kind = message.WhichOneof("type")
                    started = started or kind == "new_session"
                    if not started:
                        continue
                    marks.messages += 1
                    marks.received_bytes += len(frame)
                    if kind == "delta":
                        on_delta(message, marks)
                    elif kind == "page_info_changed":
                        self.query_string = message.page_info_changed.query_string
                    elif kind == "navigation":
                        self.page_script_hash = message.navigation.page_script_hash
                    elif kind == "page_not_found":
                        marks.error = marks.error or "page not found"
                    elif kind == "script_finished":
                        status = message.script_finished
                        if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                            continue  # st.rerun(): another run follows at once
                        marks.done = time.perf_counter() - marks.clicked
                        marks.finished = True
                        if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                            marks.error = marks.error or "compile error"
                        return
        except TimeoutError:
            marks.error = marks.error or f"not finished within {self._timeout_s:.0f} s"
        except ConnectionClosed as closed:
            marks.error = marks.error or f"connection closed: {closed}"

    def _learn_page(self, message: Any, marks: RunMarks) -> None:
        """Note the ids of Run and of the length radio, and where the output box is."""
        self._check_error(message, marks)
        delta = message.delta
        output_key = self.scenario.output_key
        if output_key and delta.WhichOneof("type") == "add_block" and widget_key(delta.add_block.id) == output_key:
            self.output_path = tuple(message.metadata.delta_path)
        elif delta.WhichOneof("type") == "new_element":
            element = delta.new_element
            kind = element.WhichOneof("type")
            if kind == "button" and widget_key(element.button.id) == RUN_KEY:
                self.run_button_id = element.button.id
                self.run_fragment_id = delta.fragment_id  # a Run inside st.fragment reruns only its fragment
            elif kind == "radio" and widget_key(element.radio.id) == LENGTH_KEY:
                self.length_radio = element.radio
            elif kind == "radio" and widget_key(element.radio.id) == SHAPE_KEY:
                self.shape_radio = element.radio

    def _watch_answer(self, message: Any, marks: RunMarks) -> None:
        """Mark the first result (see ``PageScenario``) and the end metric."""
        self._check_error(message, marks)
        delta = message.delta
        output_key = self.scenario.output_key
        if output_key and delta.WhichOneof("type") == "add_block" and widget_key(delta.add_block.id) == output_key:
            # Where the box is in this run: a session's first run has one element more (the app's
            # hidden chart warm-up), so the path learned when the page was opened can be one off.
            self.output_path = tuple(message.metadata.delta_path)
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        now = time.perf_counter() - marks.clicked
        if marks.first is None and kind == "markdown" and self._is_first_result(element.markdown.body, message):
            marks.first = now
            marks.messages_before_first = marks.messages
        elif marks.metrics is None and kind == "metric" and element.metric.label == self.scenario.end_metric:
            marks.metrics = now

    def _is_first_result(self, body: str, message: Any) -> bool:
        """True when a markdown delta is the scenario's first result."""
        if not body.strip():
            return False
        if self.scenario.first_text is not None:
            return self.scenario.first_text in body
        path = tuple(message.metadata.delta_path)
        return self.output_path is not None and path[: len(self.output_path)] == self.output_path

    @staticmethod
    def _check_error(message: Any, marks: RunMarks) -> None:
        """Record an exception element or an error box (``st.error``) as the run's error."""
        from streamlit.proto.Alert_pb2 import Alert

        delta = message.delta
        if marks.error is not None or delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            marks.error = f"exception: {element.exception.type} {element.exception.message[:200]}"
        elif kind == "alert" and element.alert.format == Alert.ERROR:
            marks.error = f"error box: {element.alert.body[:200]}"


async def crowd_over_websockets(
    base_url: str,
    server_pid: int,
    sessions: int,
    length: str,
    timeout_s: float,
    scenarios: Sequence[PageScenario],
    shape: str = REPLY_SHAPES[0],
    alone_runs: int = 1,
) -> list[CrowdReport]:
    """Open the sessions; on each scenario's page, run the baseline, then press Run in every session at once.

    Args:
        base_url: The app's address, ``http://127.0.0.1:PORT``.
        server_pid: The server's process id, for its RSS and CPU time.
        sessions: How many sessions (visitors).
        length: The Stream page's answer length (``short``, ``medium`` or ``long``).
        timeout_s: Time limit for one run (and for connecting).
        scenarios: The pages, in order; every session visits each.
        shape: The Stream page's answer shape (``chains.simulation.joke_book.REPLY_SHAPES``).
        alone_runs: Baseline runs of one session alone; the baseline is their median.

    Returns:
        The measurements, one report per page.
    """
    visitors = [StreamlitSession(base_url, timeout_s) for _ in range(sessions)]
    reports = []
    try:
        for scenario in scenarios:
            await asyncio.gather(*(visitor.open(scenario) for visitor in visitors))
            print(f"{sessions} sessions open on the {scenario.title} (websocket client)", file=sys.stderr)
            reports.append(await _crowd_on_page(visitors, server_pid, length, scenario, shape, alone_runs))
    finally:
        await asyncio.gather(*(visitor.close() for visitor in visitors), return_exceptions=True)
    return reports


@dataclass(frozen=True)
class Target:
    """One server the crowd visits, with the sessions open on it.

    Attributes:
        name: ``app`` or ``bare``.
        scenario: The page the sessions run.
        pid: The server's process id.
        visitors: The sessions, open on that page.
    """

    name: str
    scenario: PageScenario
    pid: int
    visitors: list[StreamlitSession]


#: Seconds between two turns, so that one server's last deltas and session clean-up are not the next turn's load.
SETTLE_S = 1.0


async def app_against_bare(
    app: Any,
    bare: Any,
    sessions: int,
    length: str,
    timeout_s: float,
    shape: str,
    alone_runs: int,
    rounds: int,
    profile_dir: Path | None = None,
) -> dict[str, list[CrowdReport]]:
    """The Stream page's crowd and the bare page's crowd, in alternating turns (ABBA...) on their own servers.

    Each turn is one server's baseline (``alone_runs`` runs of one session) and
    then its crowd; the other server idles meanwhile. Round ``r`` runs the app
    first when ``r`` is even and the bare page first when it is odd, so that a
    load that rises or falls over the bench touches both alike; running the two
    crowds at the same moment instead would make each one the other's load.

    Args:
        app: The app's server (``devtools.browser.AppServer``).
        bare: The bare page's server.
        sessions: Sessions per server.
        length: The answer length.
        timeout_s: Time limit for one run.
        shape: The answer shape.
        alone_runs: Baseline runs per turn.
        rounds: How many app-and-bare pairs.
        profile_dir: Where py-spy writes a profile of each crowd's run (``<target>-<round>.json``), or ``None``.

    Returns:
        Each target's reports (``app``, ``bare``), one per round.
    """
    targets = [
        Target("app", SCENARIOS["stream"], app.process.pid, [StreamlitSession(app.url, timeout_s) for _ in range(sessions)]),
        Target("bare", BARE, bare.process.pid, [StreamlitSession(bare.url, timeout_s) for _ in range(sessions)]),
    ]
    reports: dict[str, list[CrowdReport]] = {target.name: [] for target in targets}
    try:
        for target in targets:
            await asyncio.gather(*(visitor.open(target.scenario) for visitor in target.visitors))
            print(f"{sessions} sessions open on the {target.scenario.title} (pid {target.pid}, websocket client)", file=sys.stderr)
        for round_index in range(rounds):
            for target in targets if round_index % 2 == 0 else targets[::-1]:
                await asyncio.sleep(SETTLE_S)
                print(f"Round {round_index + 1}: {target.name} (load average {os.getloadavg()[0]:.2f})", file=sys.stderr)
                profile = None if profile_dir is None else profile_dir / f"{target.name}-{round_index + 1}.json"
                report = await _crowd_on_page(
                    target.visitors, target.pid, length, target.scenario, shape, alone_runs, warm_up=round_index == 0, profile=profile
                )
                reports[target.name].append(report)
    finally:
        await asyncio.gather(*(visitor.close() for target in targets for visitor in target.visitors), return_exceptions=True)
    return reports


def pooled(reports: Sequence[CrowdReport]) -> CrowdReport:
    """One target's rounds as one report: every crowd's runs together, the baseline the median of every run alone."""
    first = reports[0]
    alone_runs = [marks for report in reports for marks in report.alone_runs]
    alone_cpu = [cpu for report in reports for cpu in report.alone_cpu_runs]
    return CrowdReport(
        client=first.client,
        page=first.page,
        alone=median_marks(alone_runs),
        alone_server_cpu_s=statistics.median(alone_cpu),
        crowd=[marks for report in reports for marks in report.crowd],
        rows=first.rows,
        rss_before=min(report.rss_before for report in reports),
        rss_peak=max(report.rss_peak for report in reports),
        rss_after=reports[-1].rss_after,
        wall_s=sum(report.wall_s for report in reports),
        server_cpu_s=sum(report.server_cpu_s for report in reports),
        server_main_thread_cpu_s=sum(report.server_main_thread_cpu_s for report in reports),
        client_cpu=(first.client_cpu[0], sum(report.client_cpu[1] for report in reports)),
        alone_runs=alone_runs,
        alone_cpu_runs=alone_cpu,
        rounds=len(reports),
    )


def baseline_ratios(app: CrowdReport, bare: CrowdReport) -> list[tuple[str, float, float, float, float, float, float]]:
    """Per measure: app alone, app crowd, bare alone, bare crowd (seconds), app ÷ alone, bare ÷ alone, app ÷ bare."""
    rows = []
    for label, field in (("first text p95", "first"), ("run end p95", "done")):
        app_alone, bare_alone = getattr(app.alone, field), getattr(bare.alone, field)
        app_crowd, bare_crowd = app.p95(field), bare.p95(field)
        rows.append((label, app_alone, app_crowd, bare_alone, bare_crowd, app_crowd / app_alone, bare_crowd / bare_alone))
    app_cpu, bare_cpu = app.crowd_cpu_per_run_s, bare.crowd_cpu_per_run_s
    cpu_row = ("server CPU per run", app.alone_server_cpu_s, app_cpu, bare.alone_server_cpu_s, bare_cpu)
    rows.append((*cpu_row, app_cpu / app.alone_server_cpu_s, bare_cpu / bare.alone_server_cpu_s))
    return [(*row, row[2] / row[4]) for row in rows]


def print_baseline_report(reports: dict[str, list[CrowdReport]], sessions: int, length: str, shape: str, loads: Sequence[float]) -> None:
    """Print the app against the bare page: per round, pooled, and one line for the README's table."""
    print(f"\n### The app against a bare Streamlit page, same run ({sessions} sessions, {length} answers, shape {shape})\n")
    print(
        f"Turns alternate, ABBA: round 1 app then bare, round 2 bare then app, and so on. "
        f"Load average (1 min) at the bench's start and end: {loads[0]:.2f} / {loads[1]:.2f}.\n"
    )
    print("| round | measure | app alone | app crowd | app ÷ alone | bare alone | bare crowd | bare ÷ alone | app ÷ bare |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rounds = list(zip(reports["app"], reports["bare"], strict=True))
    labelled = [(f"{index + 1}", app, bare) for index, (app, bare) in enumerate(rounds)]
    app_all, bare_all = pooled(reports["app"]), pooled(reports["bare"])
    labelled.append(("all", app_all, bare_all))
    for name, app, bare in labelled:
        for label, app_alone, app_crowd, bare_alone, bare_crowd, app_ratio, bare_ratio, app_bare in baseline_ratios(app, bare):
            print(
                f"| {name} | {label} | {app_alone:.2f} s | {app_crowd:.2f} s | {app_ratio:.2f}× | "
                f"{bare_alone:.2f} s | {bare_crowd:.2f} s | {bare_ratio:.2f}× | **{app_bare:.2f}** |"
            )
    first, end, cpu = baseline_ratios(app_all, bare_all)
    errors = sum(marks.failed for report in (app_all, bare_all) for marks in report.crowd)
    print("\nFor the README (load at start; first text p95 ÷ alone: app, bare, app ÷ bare; end; CPU per run in the crowd):\n")
    print(
        f"| {loads[0]:.1f} | {first[5]:.2f}× | {first[6]:.2f}× | **{first[7]:.2f}** | {end[5]:.2f}× | {end[6]:.2f}× | {end[7]:.2f} "
        f"| {cpu[2]:.3f} s | {cpu[4]:.3f} s | {cpu[7]:.2f} | {errors} |"
    )


def median_marks(runs: Sequence[RunMarks]) -> RunMarks:
    """One ``RunMarks`` whose times are the medians of ``runs`` (a failed run makes it failed)."""

    def median_of(field: str) -> float | None:
        values = [value for marks in runs if (value := getattr(marks, field)) is not None]
        return statistics.median(values) if values else None

    failed = next((marks for marks in runs if marks.failed), None)
    return RunMarks(
        clicked=runs[0].clicked,
        first=median_of("first"),
        metrics=median_of("metrics"),
        done=median_of("done"),
        finished=failed is None,
        error=failed.error if failed is not None else None,
        messages=round(statistics.median(marks.messages for marks in runs)),
        received_bytes=round(statistics.median(marks.received_bytes for marks in runs)),
        messages_before_first=round(statistics.median(marks.messages_before_first for marks in runs)),
    )


@contextmanager
def py_spy(pid: int, output: Path | None) -> Iterator[None]:
    """Sample process ``pid`` with py-spy while the block runs (nothing when ``output`` is ``None``).

    ``py-spy record --gil --format chrometrace``: every sample of the thread
    that holds the GIL, with its time, so that the seconds before the crowd's
    first text can be told from the rest (open the file in Perfetto or
    ``chrome://tracing``, or sum its stacks by time window). py-spy pauses the
    process for each sample, so a profiled run's times are not the bench's figures.
    """
    if output is None:
        yield
        return
    command = ["py-spy", "record", "--gil", "--rate", "200", "--format", "chrometrace", "--pid", str(pid), "--output", str(output)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        spy.wait(timeout=60)
        print(f"py-spy: {output}", file=sys.stderr)


async def _crowd_on_page(
    visitors: list[StreamlitSession],
    server_pid: int,
    length: str,
    scenario: PageScenario,
    shape: str,
    alone_runs: int = 1,
    *,
    warm_up: bool = True,
    profile: Path | None = None,
) -> CrowdReport:
    """Warm up (unless ``warm_up`` is false: done before), run one session alone (``alone_runs`` times), then every session together.

    With ``profile``, py-spy samples the server during the crowd's run (see ``py_spy``).
    """
    first = visitors[0]
    if warm_up:
        warm_up_run = await first.wait_for_run(await first.press_run("short", shape))
        if warm_up_run.failed:
            raise RuntimeError(f"the warm-up run on {scenario.title} failed: {warm_up_run.error or 'not finished'}")
    baseline: list[RunMarks] = []
    baseline_cpu: list[float] = []
    for _ in range(alone_runs):
        alone_cpu = ServerCpu(server_pid)
        baseline.append(await first.wait_for_run(await first.press_run(length, shape)))
        alone_cpu.stop()
        baseline_cpu.append(alone_cpu.total_s)
    alone = median_marks(baseline)
    print(
        f"{scenario.title}: baseline, {alone_runs} run(s) alone: server CPU per run {', '.join(f'{cpu:.3f}' for cpu in baseline_cpu)} s",
        file=sys.stderr,
    )

    rss_before = rss_mb(server_pid)
    with py_spy(server_pid, profile):
        server_cpu, client_cpu_before = ServerCpu(server_pid), time.process_time()
        started = time.perf_counter()
        with PeakMemory(server_pid) as memory:
            # Every click goes out before any answer is read, so the runs start together.
            pressed = [await visitor.press_run(length, shape) for visitor in visitors]
            crowd = await asyncio.gather(*(visitor.wait_for_run(marks) for visitor, marks in zip(visitors, pressed, strict=True)))
        wall = time.perf_counter() - started
        server_cpu.stop()
    client_cpu = time.process_time() - client_cpu_before
    return CrowdReport(
        client="ws",
        page=scenario.title,
        alone=alone,
        alone_server_cpu_s=statistics.median(baseline_cpu),
        crowd=list(crowd),
        rows=(
            ("first result", "first"),
            *([(f"metrics sent ({scenario.end_metric})", "metrics")] if scenario.end_metric else []),
            ("run finished (script_finished)", "done"),
        ),
        rss_before=rss_before,
        rss_peak=memory.peak,
        rss_after=rss_mb(server_pid),
        wall_s=wall,
        server_cpu_s=server_cpu.total_s,
        server_main_thread_cpu_s=server_cpu.main_thread_s,
        client_cpu=("this Python client (all sessions, one asyncio loop)", client_cpu),
        alone_runs=baseline,
        alone_cpu_runs=baseline_cpu,
    )


# --- browser client: one headless Chromium, one tab per session ----------------------------------


def run_together(tabs: list[Any], timeout_ms: float) -> list[dict[str, Any]]:
    """Press Run in every tab (about at once), wait for each to end, and return each tab's marks."""
    for tab in tabs:
        tab.evaluate(WATCH_JS, EN["metrics"]["ttft"])
    for tab in tabs:
        tab.evaluate("() => window.__clickRun()")
    results = []
    for tab in tabs:
        finished = True
        try:
            tab.wait_for_function("() => window.__marks.done !== null || window.__marks.error !== null", timeout=timeout_ms)
            wait_for_idle(tab, timeout_ms=timeout_ms)
        except Exception:  # noqa: BLE001 - a tab that never finishes is an error to count, not a crash
            finished = False
        marks = tab.evaluate("() => window.__marks")
        marks["finished"] = finished
        marks["exception"] = tab.locator(EXCEPTION).count() > 0
        results.append(marks)
    return results


def tab_marks(marks: dict[str, Any]) -> RunMarks:
    """A tab's ``window.__marks`` (``Date.now()`` ms) as ``RunMarks`` (seconds after the click)."""

    def after_click(key: str) -> float | None:
        return None if marks.get(key) is None else (marks[key] - marks["clicked"]) / 1000

    error = None
    if marks["exception"]:
        error = "exception"
    elif marks["error"] is not None:
        error = "error box"
    return RunMarks(
        clicked=marks["clicked"] / 1000,
        first=after_click("first"),
        metrics=after_click("done"),
        done=after_click("done"),
        finished=marks["finished"],
        error=error,
    )


def crowd_in_browser(base_url: str, server_pid: int, sessions: int, length: str, timeout_s: float, shape: str = REPLY_SHAPES[0]) -> CrowdReport:
    """Open one headless Chromium tab per session, run the baseline, then click Run in every tab.

    Args:
        base_url: The app's address, ``http://127.0.0.1:PORT``.
        server_pid: The server's process id, for its RSS and CPU time.
        sessions: How many sessions (tabs).
        length: The answer length (``short``, ``medium`` or ``long``).
        timeout_s: Time limit for one run.
        shape: The answer shape (``chains.simulation.joke_book.REPLY_SHAPES``).

    Returns:
        The measurements.
    """
    timeout_ms = timeout_s * 1000
    with chromium_browser() as browser:
        tabs = []
        for _ in range(sessions):
            tab = browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
            open_page(tab, f"{base_url}/{STREAM_PAGE}")
            tab.locator(f".st-key-{LENGTH_KEY}").get_by_test_id("stRadioOption").filter(
                has_text=EN["stream"][f"length_{length}"]
            ).click()
            wait_for_idle(tab)
            if shape != REPLY_SHAPES[0]:
                tab.locator(f".st-key-{SHAPE_KEY}").get_by_test_id("stRadioOption").filter(has_text=EN["shapes"][f"shape_{shape}"]).click()
                wait_for_idle(tab)
            tabs.append(tab)
        print(f"{sessions} sessions open on the Stream page (browser client)", file=sys.stderr)

        run_together(tabs[:1], timeout_ms)  # warm-up, as in the websocket client: first-run imports
        alone_cpu = ServerCpu(server_pid)
        alone = run_together(tabs[:1], timeout_ms)
        alone_cpu.stop()
        rss_before = rss_mb(server_pid)
        server_cpu = ServerCpu(server_pid)
        cpu_before = (browser_cpu_seconds(), time.perf_counter())
        with PeakMemory(server_pid) as memory:
            crowd = run_together(tabs, timeout_ms)
        server_cpu.stop()
        browser_cpu = browser_cpu_seconds() - cpu_before[0]
        wall = time.perf_counter() - cpu_before[1]
        rss_after = rss_mb(server_pid)
    return CrowdReport(
        client="browser",
        page=SCENARIOS["stream"].title,
        alone=tab_marks(alone[0]),
        alone_server_cpu_s=alone_cpu.total_s,
        crowd=[tab_marks(marks) for marks in crowd],
        rows=(("first result visible", "first"), ("run finished (metrics visible)", "done")),
        rss_before=rss_before,
        rss_peak=memory.peak,
        rss_after=rss_after,
        wall_s=wall,
        server_cpu_s=server_cpu.total_s,
        server_main_thread_cpu_s=server_cpu.main_thread_s,
        client_cpu=("Chromium", browser_cpu),
    )


# --- report ----------------------------------------------------------------------------------------


def print_report(report: CrowdReport, sessions: int, length: str, timeout_s: float, shape: str = REPLY_SHAPES[0]) -> None:
    """Print the markdown table and the error, memory and CPU lines."""
    streams = report.page in (SCENARIOS["stream"].title, BARE.title)
    what = f"{length} answers, shape {shape}" if streams else "its example topics, loop and batch"
    pooled_note = f"; {report.rounds} crowds pooled, each with its own baseline runs" if report.rounds > 1 else ""
    print(
        f"\n### Load: {sessions} sessions press Run on the {report.page} together "
        f"({what}, simulator, {report.client} client{pooled_note})\n"
    )
    print("| | 1 session alone (median) | p50 | p95 | max | p50 ÷ alone | p95 ÷ alone |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, field in report.rows:
        single = getattr(report.alone, field)
        values = [value for marks in report.crowd if (value := getattr(marks, field)) is not None]
        if single is None or not values:
            print(f"| {label} | {'—' if single is None else f'{single:.2f} s'} | — | — | — | — | — |")
            continue
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(
            f"| {label} | {single:.2f} s | {p50:.2f} s | {p95:.2f} s | {max(values):.2f} s "
            f"| {p50 / single:.2f}× | {p95 / single:.2f}× |"
        )
    errors = [marks for marks in report.crowd if marks.failed]
    print(f"\nErrors: **{len(errors)} of {sessions}** sessions (exception, error box, or not finished in {timeout_s:.0f} s).")
    for reason in sorted({marks.error or "not finished" for marks in errors}):
        print(f"- {reason}")
    if report.alone.failed:
        print(f"The baseline run failed: {report.alone.error or 'not finished'}.")
    print(f"Server RSS: {report.rss_before:.0f} MB before, {report.rss_peak:.0f} MB at peak, {report.rss_after:.0f} MB after.")
    client_name, client_cpu = report.client_cpu
    script_threads_s = report.server_cpu_s - report.server_main_thread_cpu_s
    print(
        f"CPU during the crowd's run ({report.wall_s:.1f} s wall, {os.cpu_count()} cores): the app server "
        f"{report.server_cpu_s:.1f} s ({report.server_cpu_s / report.wall_s:.0%} of one core; its event-loop thread "
        f"{report.server_main_thread_cpu_s:.1f} s, script threads {script_threads_s:.1f} s), "
        f"{client_name} {client_cpu:.1f} s ({client_cpu / report.wall_s:.0%})."
    )
    print(
        f"Server CPU per run: {report.alone_server_cpu_s:.3f} s alone (median), "
        f"{report.server_cpu_s / len(report.crowd):.2f} s in the crowd (its total ÷ {len(report.crowd)})."
    )
    messages = sum(marks.messages for marks in report.crowd)
    if messages:
        megabytes = sum(marks.received_bytes for marks in report.crowd) / 1e6
        print(
            f"Traffic: {messages} ForwardMsgs, {megabytes:.1f} MB of protobuf, to {sessions} sessions "
            f"({messages / report.wall_s:.0f} messages/s; {report.server_cpu_s / messages * 1e6:.0f} µs of server CPU per message); "
            f"the run alone got {report.alone.messages} messages ({report.alone.received_bytes / 1e6:.2f} MB), "
            f"{report.alone.messages_before_first} of them up to its first text."
        )
    per_crowd = len(report.crowd) // report.rounds
    for start in range(0, len(report.crowd), per_crowd):
        clicks = sorted(marks.clicked for marks in report.crowd[start : start + per_crowd])
        print(
            f"Clicks: the last Run was pressed {(clicks[-1] - clicks[0]) * 1000:.0f} ms after the first "
            f"(median {(statistics.median(clicks) - clicks[0]) * 1000:.0f} ms)."
        )


def main() -> None:
    """Start the server, run the baseline and the crowd with the chosen client, and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help=f"concurrent sessions, 1–{MAX_SESSIONS} (default 20)")
    parser.add_argument("--length", choices=["short", "medium", "long"], default="medium", help="Stream's answer length")
    parser.add_argument(
        "--shape",
        choices=REPLY_SHAPES,
        default=REPLY_SHAPES[0],
        help=f"Stream's answer shape (the simulator's layout: {', '.join(REPLY_SHAPES)}; default {REPLY_SHAPES[0]})",
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        choices=list(SCENARIOS),
        default=list(SCENARIOS),
        help="the pages the crowd runs, in order (default: stream batch; the browser client runs stream only)",
    )
    parser.add_argument(
        "--alone-runs",
        type=int,
        default=3,
        help="baseline runs of one session alone, ws client (default 3; the baseline is their median: one run is noisy)",
    )
    parser.add_argument(
        "--bare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"on Stream (ws client), also measure the bare page {BARE_SCRIPT} on its own server, in alternating turns (default: on)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="with --bare: app-and-bare pairs of turns, ABBA... (default 2); each turn has its own baseline and crowd",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        help="with --bare: profile each crowd's run with py-spy (--gil, chrometrace) into DIR; the times are then not figures",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for one run")
    parser.add_argument(
        "--client",
        choices=["ws", "browser"],
        default="ws",
        help="ws: Streamlit's websocket protocol from Python, no browser (default); browser: one headless Chromium tab per session",
    )
    args = parser.parse_args()
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MAX_SESSIONS}")
    if not 1 <= args.alone_runs <= 20:
        parser.error("--alone-runs must be between 1 and 20")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")

    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be between 1 and 10")
    if args.py_spy is not None:
        args.py_spy.mkdir(parents=True, exist_ok=True)

    bench_started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    against_bare: dict[str, list[CrowdReport]] = {}
    with_bare = args.bare and args.client == "ws" and "stream" in args.pages
    with served_app() as app, served_app(BARE_SCRIPT) if with_bare else nullcontext() as bare:
        print(f"The app's server: pid {app.process.pid}" + (f"; the bare page's: pid {bare.process.pid}" if bare else ""), file=sys.stderr)
        if args.client == "ws":
            names = [name for name in args.pages if not (with_bare and name == "stream")]
            if with_bare:
                against_bare = asyncio.run(
                    app_against_bare(
                        app, bare, args.sessions, args.length, args.timeout, args.shape, args.alone_runs, args.rounds, args.py_spy
                    )
                )
            reports = [pooled(against_bare["app"]), pooled(against_bare["bare"])] if with_bare else []
            if names:
                reports += asyncio.run(
                    crowd_over_websockets(
                        app.url, app.process.pid, args.sessions, args.length, args.timeout,
                        [SCENARIOS[name] for name in names], args.shape, args.alone_runs,
                    )
                )
        else:
            reports = [crowd_in_browser(app.url, app.process.pid, args.sessions, args.length, args.timeout, args.shape)]
    for report in reports:
        print_report(report, args.sessions, args.length, args.timeout, args.shape)
    if against_bare:
        print_baseline_report(against_bare, args.sessions, args.length, args.shape, (load_at_start, os.getloadavg()[0]))
    errors = sum(marks.failed for report in reports for marks in report.crowd)
    print(f"\n**Errors in all: {errors}** (goal: 0).")
    print(f"The bench took {time.perf_counter() - bench_started:.0f} s.")


if __name__ == "__main__":
    main()
