"""The History page's table, totals, labels and exports, built from run records."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import streamlit as st

from chains.experiments.shapes import DEFAULT_SHAPE, shape_of
from chains.models import provider_of_record
from chains.modes import run_title
from chains.records.exchange import MAX_FILE_BYTES, MAX_RUNS_PER_IMPORT, ExchangeError, fresh_copies, new_runs, parse_runs, runs_to_json
from chains.records.pricing import run_cost_usd
from chains.records.store import EvictedEntry, entry_id
from chains.timing import LAB_SWEEP_ORIGIN, RunRecord, records_to_frame
from ui.format import provider_name, seconds
from ui.i18n import t

#: What a table cell shows for a value that was never set (``max_concurrency`` unset, no usage reported).
UNSET = "—"
#: CSV times are rounded to the millisecond: the clocks are not finer than that, and long floats hide the numbers.
CSV_DECIMALS = 3


def is_sweep_run(record: RunRecord) -> bool:
    """True for a run made by the Lab's N-sweep (by its origin, never by parsing its label)."""
    return record.origin == LAB_SWEEP_ORIGIN


@dataclass(frozen=True)
class HistoryEntry:
    """One line of History: a run, or every run of one Lab sweep.

    Attributes:
        key: The run's id, or the sweep's group id.
        runs: The entry's runs, oldest first.
    """

    key: str
    runs: tuple[RunRecord, ...]

    @property
    def first(self) -> RunRecord:
        """The entry's first run (its time and settings)."""
        return self.runs[0]

    @property
    def is_sweep(self) -> bool:
        """True for a Lab sweep."""
        return is_sweep_run(self.first)


def history_entries(records: list[RunRecord]) -> list[HistoryEntry]:
    """Group runs into History entries (a sweep's runs into one), ordered by their first run."""
    grouped: dict[str, list[RunRecord]] = {}
    for record in records:
        grouped.setdefault(entry_id(record), []).append(record)
    return [HistoryEntry(key, tuple(runs)) for key, runs in grouped.items()]


def run_name(record: RunRecord) -> str:
    """The mode's name, as on every other page, with ``max_concurrency`` when it was set: ``abatch (max_concurrency=2)``.

    A run of another chain shape than the seed's chain says which (``stream · A blocking step after the parser``),
    so that the overlays tell the shapes apart.
    """
    name = run_title(record, t(f"modes.{record.mode}"))
    return name if record.shape == DEFAULT_SHAPE else f"{name} · {t(shape_of(record.shape).label_key)}"


#: The most characters of a model's name in a run's label (an imported file may hold a long one);
#: the simulator's longest own name, ``simulated-seed-blog-gpt-3.5-turbo``, fits whole.
LABEL_MODEL_CHARS = 36


def short_model(model: str) -> str:
    """The model's name for a label: whole, or cut with ``…`` so that a cut never passes for a name."""
    return model if len(model) <= LABEL_MODEL_CHARS else model[: LABEL_MODEL_CHARS - 1] + "…"


def run_label(position: int, record: RunRecord) -> str:
    """A short, unique label for a run: ``#3 batch`` (its 1-based place in the history).

    A run made with a nickname says whose it is, and on which model, so a group
    sees its members side by side: ``#3 Min · gpt-4o-mini · stream``.
    """
    if record.owner:
        return f"#{position} {record.owner} · {short_model(record.model)} · {run_name(record)}"
    return f"#{position} {run_name(record)}"


def chart_label(position: int, record: RunRecord) -> str:
    """``run_label`` made safe for a Plotly chart (a nickname or a model name may hold markup)."""
    from chains.security.safe_text import plotly_text

    return plotly_text(run_label(position, record))


def note_text(record: RunRecord) -> str:
    """The run's note: its label (a sweep step) and whether it was stopped before it finished."""
    parts = [record.label] if record.label else []
    if record.stopped:
        parts.append(t("store.stopped_tag"))
    return " · ".join(parts)


def run_choice_label(position: int, record: RunRecord) -> str:
    """The longer label shown in the run picker: place, mode, size, time, any sweep step, and stopped."""
    text = f"{run_label(position, record)} · n={record.n} · {seconds(record.wall_s)}"
    note = note_text(record)
    return text + (f" · {note}" if note else "")


def cost_text(record: RunRecord) -> str:
    """The cost cell: ``free`` (the simulator, a replay), ``$0.00012``, or ``—`` when it cannot be estimated."""
    if provider_of_record(record.provider).is_free:
        return t("polish.free")
    cost = run_cost_usd(record)
    return f"${cost:.5f}" if cost is not None else "—"


def history_rows(records: list[RunRecord]) -> list[dict[str, Any]]:
    """One row per run for the history table, oldest first.

    Args:
        records: The session's runs.

    Returns:
        Dicts with the keys ``run``, ``mode``, ``shape``, ``n``, ``wall_s``,
        ``max_concurrency``, ``pool_size``, ``errors``, ``input_tokens``,
        ``output_tokens``, ``cost``, ``provider``, ``model``, ``started_at``,
        ``label`` and ``owner``, in the table's column order.
    """
    rows = []
    for position, record in enumerate(records, start=1):
        rows.append(
            {
                "run": f"#{position}",
                "mode": t(f"modes.{record.mode}"),
                "shape": t(shape_of(record.shape).label_key),
                "n": record.n,
                "wall_s": record.wall_s,
                "max_concurrency": record.max_concurrency,
                "pool_size": record.pool_size,
                "errors": record.error_count,
                "input_tokens": record.input_tokens,
                "output_tokens": record.output_tokens,
                "cost": cost_text(record),
                "provider": provider_name(record.provider),
                "model": record.model,
                "started_at": record.started_at.replace("T", " ").split("+")[0],
                "label": note_text(record),
                "owner": record.owner,
            }
        )
    return rows


def entry_rows(entries: list[HistoryEntry], *, expand_sweeps: bool = False) -> list[dict[str, Any]]:
    """One row per History entry: a run as in ``history_rows``, a sweep summed into one line.

    Args:
        entries: The entries, oldest first.
        expand_sweeps: List a sweep's runs one by one instead.

    Returns:
        Rows with ``history_rows``' keys; a run keeps its place number ``#n`` among all runs.
    """
    records = [record for entry in entries for record in entry.runs]
    rows = history_rows(records)
    position = {id(record): index for index, record in enumerate(records)}
    table = []
    for entry in entries:
        if not entry.is_sweep or expand_sweeps:
            table.extend(rows[position[id(record)]] for record in entry.runs)
            continue
        first, last = rows[position[id(entry.runs[0])]], rows[position[id(entry.runs[-1])]]
        summed = dict(first)
        summed.update(
            run=f"{first['run']}–{last['run']}",
            mode=t("store.sweep_mode"),
            n=sum(record.n for record in entry.runs),
            wall_s=sum(record.wall_s for record in entry.runs),
            errors=sum(record.error_count for record in entry.runs),
            input_tokens=_total(record.input_tokens for record in entry.runs),
            output_tokens=_total(record.output_tokens for record in entry.runs),
            label=t("store.sweep_label", runs=len(entry.runs), stopped=sum(record.stopped for record in entry.runs)),
        )
        table.append(summed)
    return table


def _total(values: Any) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


#: The most runs overlaid on History's charts at once.
MAX_PICKED = 8
_REPICK_KEY = "_repick_{}"


def repick_overlay(key: str = "history") -> None:
    """The overlay ``key``'s picks are made again from the runs (after an import or a copy added some)."""
    st.session_state[_REPICK_KEY.format(key)] = True


def default_overlay(pickable: list[tuple[int, RunRecord]]) -> list[str]:
    """The runs overlaid before the user picks: whole runs only, never a sweep's points.

    The last three runs; when the runs come from several people (imported or
    copied), the last two of each, newest owners first, so that the group's
    members are side by side at once (at most ``MAX_PICKED``).
    """
    whole = [record for _, record in pickable if not is_sweep_run(record)]
    owners = list(dict.fromkeys(record.owner for record in reversed(whole)))
    if len(owners) < 2:
        return [record.run_id for record in whole[-3:]]
    per_owner = {owner: [record for record in whole if record.owner == owner][-2:] for owner in owners}
    chosen = {record.run_id for owner in owners for record in per_owner[owner]}
    return [record.run_id for record in whole if record.run_id in chosen][-MAX_PICKED:]


def show_overlay(pickable: list[tuple[int, RunRecord]], *, key: str = "history") -> list[RunRecord]:
    """The run picker and the overlaid charts (wall time, timeline, token arrival), labelled with who made each run.

    Args:
        pickable: ``(place in the history, run)`` of the runs that may be picked.
        key: The prefix of the widgets' and charts' keys.

    Returns:
        The picked runs.
    """
    from ui.elements.charts import runs_timeline, runs_token_arrival, runs_wall_bars, show_chart

    st.subheader(t("history.overlay_title"))
    by_id = {record.run_id: (position, record) for position, record in pickable}
    pick_key = f"{key}_pick"
    # The picks live in the widget's state only (no ``default``): what the chips show is what the charts draw,
    # also right after an import or a copy changes the runs (a changed default was drawn, the old chips kept).
    if pick_key not in st.session_state or st.session_state.pop(_REPICK_KEY.format(key), False):
        st.session_state[pick_key] = default_overlay(pickable)
    else:
        st.session_state[pick_key] = [run_id for run_id in st.session_state[pick_key] if run_id in by_id]
    picked = st.multiselect(
        t("history.pick"),
        list(by_id),
        format_func=lambda run_id: run_choice_label(*by_id[run_id]),
        key=pick_key,
        max_selections=MAX_PICKED,
        help=t("history.pick_help", limit=MAX_PICKED),
    )
    chosen = [by_id[run_id] for run_id in picked if run_id in by_id]
    if not chosen:
        st.caption(t("history.pick_none"))
        return []
    labels = [chart_label(position, record) for position, record in chosen]
    picked_records = [record for _, record in chosen]
    left, right = st.columns([2, 3])
    show_chart(runs_wall_bars(picked_records, labels), key=f"{key}_wall", container=left)
    show_chart(runs_timeline(picked_records, labels), key=f"{key}_timeline", container=right)
    streamed = [(record, label) for record, label in zip(picked_records, labels) if any(call.chunks for call in record.calls)]
    if streamed:
        show_chart(runs_token_arrival([r for r, _ in streamed], [label for _, label in streamed]), key=f"{key}_arrival")
    else:
        st.caption(t("history.no_stream"))
    return picked_records


def show_eviction_notes() -> None:
    """Say how many History entries a bound removed, and which, until the user dismisses it."""
    from ui.deployment.store import dismiss_eviction_notes, eviction_notes, store_limits
    from ui.format import local_time

    notes = eviction_notes()
    if not notes:
        return
    limits = store_limits()
    bounds = {
        "entries": limits.max_entries_per_set,
        "set_bytes": round(limits.max_bytes_per_set / 1e6, 1),
        "visitor_bytes": round(limits.max_bytes_per_visitor / 1e6, 1),
        "total_bytes": round(limits.max_total_bytes / 1e6, 1),
    }
    by_limit: dict[str, list[EvictedEntry]] = {}
    for note in notes:
        by_limit.setdefault(note.limit if note.limit in bounds else "entries", []).append(note)
    with st.container(key="history_evicted"):
        for limit, group in by_limit.items():
            lines = [
                "- " + t(
                    "store.evicted_sweep" if note.origin == LAB_SWEEP_ORIGIN else "store.evicted_run",
                    mode=note.mode,
                    time=local_time(note.started_at),
                    runs=note.runs,
                )
                for note in group
            ]
            head = t(f"store.evicted_by_{limit}", limit=bounds[limit], entries=len(group), runs=sum(note.runs for note in group))
            st.warning(head + "\n\n" + "\n".join(lines), icon="🧹")
        st.button(t("store.evicted_ok"), key="history_evicted_ok", on_click=dismiss_eviction_notes)


@dataclass(frozen=True)
class HistoryTotals:
    """Totals over several runs.

    Attributes:
        runs: Number of runs.
        calls: Number of model calls.
        errors: Calls that failed or were interrupted.
        input_tokens: Input tokens reported (runs without usage count as 0).
        output_tokens: Output tokens reported.
        cost_usd: Estimated cost of the runs whose model has a known price.
        priced_runs: Runs included in ``cost_usd``.
        simulated_runs: Runs on the simulator (free).
    """

    runs: int
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    priced_runs: int
    simulated_runs: int


def history_totals(records: list[RunRecord]) -> HistoryTotals:
    """Add up calls, errors, tokens and the estimated cost of ``records``."""
    costs = [cost for cost in (run_cost_usd(record) for record in records) if cost is not None]
    return HistoryTotals(
        runs=len(records),
        calls=sum(record.n for record in records),
        errors=sum(record.error_count for record in records),
        input_tokens=sum(record.input_tokens or 0 for record in records),
        output_tokens=sum(record.output_tokens or 0 for record in records),
        cost_usd=sum(costs),
        priced_runs=len(costs),
        simulated_runs=sum(1 for record in records if provider_of_record(record.provider).is_free),
    )


def export_csv(records: list[RunRecord]) -> str:
    """CSV text for spreadsheets, one row per call, with exactly ``chains.timing.CSV_COLUMNS``.

    Seconds are rounded to the millisecond, and the text starts with a UTF-8 BOM
    so that Excel reads Korean topics and answers as UTF-8. Cells are escaped as
    in ``chains.timing.records_to_csv`` (``chains.security.safe_text.csv_cell``): no cell
    runs as a formula.
    """
    from chains.security.safe_text import csv_cell

    frame = records_to_frame(list(records))
    timed = [column for column in frame.columns if column.endswith("_s")]
    frame[timed] = frame[timed].astype(float).round(CSV_DECIMALS)
    return "\ufeff" + frame.map(csv_cell).to_csv(index=False)


def display_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's rows as shown: ``—`` for an unset value (never ``None``), in any column that has one.

    A column with an unset value is shown as text, so that ``—`` and the numbers sit together.
    """
    unset_columns = {key for row in rows for key, value in row.items() if value is None}
    return [
        {key: (UNSET if value is None else str(value)) if key in unset_columns else value for key, value in row.items()}
        for row in rows
    ]


def export_json(records: list[RunRecord]) -> str:
    """JSON text: the format's name and version, and the full records (calls and chunks included).

    This is what ``import_uploads`` (and so a group member's History) reads back.
    """
    return runs_to_json(list(records))


# ------------------------------------------------------------------ import
IMPORT_KEY = "import_runs"
_SEEN_FILES_KEY = "_import_seen_files"
_IMPORTED_DIGESTS_KEY = "_import_digests"
_OUTCOME_KEY = "_import_outcome"
#: The most characters of a file's name shown in a message.
MAX_FILE_NAME_CHARS = 80


class Upload(Protocol):
    """What the import reads of an uploaded file (``st.runtime.uploaded_file_manager.UploadedFile``)."""

    name: str
    size: int
    file_id: str

    def getvalue(self) -> bytes:
        """The file's bytes."""


@dataclass
class ImportOutcome:
    """What one upload did: all of its files were imported, or none (one refused file refuses the batch).

    Attributes:
        runs: Runs added to this browser's set.
        files: Names of the files imported.
        refused: ``(file name, reason)`` of each refused file (``chains.records.exchange.ExchangeError.reason``,
            or ``batch_too_many`` when the files together hold too many runs).
        repeated: Names of files skipped because this session already imported the same content.
        skipped: Runs left out because this run set already holds the same content
            (``chains.records.exchange.content_fingerprint``: one's own export, or a member's imported before).
    """

    runs: int = 0
    skipped: int = 0
    files: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)


def _file_name(name: object) -> str:
    """A file's name as a message shows it (inside backticks): no control characters, no backticks, capped."""
    text = "".join(char for char in str(name) if char != "`" and not unicodedata.category(char).startswith("C"))
    return text[:MAX_FILE_NAME_CHARS]


def read_uploads(files: Sequence[Upload], already: set[str]) -> tuple[ImportOutcome, list[RunRecord], set[str]]:
    """Validate every uploaded file (nothing is kept yet).

    Args:
        files: The new uploads.
        already: Digests of the contents this session imported before.

    Returns:
        The outcome (``runs`` still 0), the runs to add (none when a file was
        refused), and the digests of the files to remember once they are added.
    """
    outcome = ImportOutcome()
    records: list[RunRecord] = []
    digests: set[str] = set()
    for upload in files:
        name = _file_name(upload.name)
        if upload.size > MAX_FILE_BYTES:  # not even read
            outcome.refused.append((name, "too_large"))
            continue
        data = upload.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if digest in already or digest in digests:
            outcome.repeated.append(name)
            continue
        try:
            records.extend(parse_runs(data))
        except ExchangeError as exc:
            outcome.refused.append((name, exc.reason))
            continue
        digests.add(digest)
        outcome.files.append(name)
    if not outcome.refused and len(records) > MAX_RUNS_PER_IMPORT:
        outcome.refused.append((", ".join(outcome.files), "batch_too_many"))
    if outcome.refused:
        return ImportOutcome(refused=outcome.refused, repeated=outcome.repeated), [], set()
    return outcome, records, digests


def import_uploads(files: Sequence[Upload]) -> ImportOutcome:
    """Add the runs of uploaded exports to this browser's set: every file of the upload, or none.

    Each run gets a new id (a file imported by two members, or a run copied
    twice, never collides); its owner and origin are kept. A file whose content
    this session imported before is skipped, and so is any run whose content
    this run set already holds (one's own export read back, a file imported in
    an earlier session).
    """
    from ui.deployment.store import take_import_allowance
    from ui.runs.keeping import start_keeping

    already = st.session_state.setdefault(_IMPORTED_DIGESTS_KEY, set())
    outcome, records, digests = read_uploads(files, already)
    if records and not take_import_allowance():
        return ImportOutcome(refused=[(", ".join(outcome.files), "rate_limited")], repeated=outcome.repeated)
    if records:
        keeper = start_keeping(owner="")  # imported runs keep their owners; none is added
        records, outcome.skipped = new_runs(records, keeper.history)  # idempotent across sessions and reloads
        for record in fresh_copies(records):
            keeper.keep(record)
        if keeper.refused:
            return ImportOutcome(refused=[(", ".join(outcome.files), "sets_rate_limited")], repeated=outcome.repeated)
        outcome.runs = len(records)
        already.update(digests)
        repick_overlay()  # the overlay's default picks again, the new runs included
    return outcome


def _on_upload() -> None:
    """The uploader's callback: import the files it has not seen yet, once (it keeps its files across reruns)."""
    seen = st.session_state.setdefault(_SEEN_FILES_KEY, set())
    new = [upload for upload in st.session_state.get(IMPORT_KEY) or [] if upload.file_id not in seen]
    seen.update(upload.file_id for upload in new)
    st.session_state[_OUTCOME_KEY] = import_uploads(new) if new else None


def show_import() -> None:
    """The import of group members' JSON exports, and what the last upload did."""
    st.file_uploader(
        t("share.import_label"),
        type=["json"],
        accept_multiple_files=True,
        key=IMPORT_KEY,
        on_change=_on_upload,
        help=t("share.import_help", megabytes=MAX_FILE_BYTES // 1_000_000, runs=MAX_RUNS_PER_IMPORT),
        # The browser refuses a larger file at once and says the same limit; parse_runs checks it again.
        max_upload_size=MAX_FILE_BYTES // 1_000_000,
    )
    outcome: ImportOutcome | None = st.session_state.get(_OUTCOME_KEY)
    if outcome is None:
        return
    if outcome.refused:
        lines = [f"- `{name}`: {t(f'share.reason_{reason}')}" for name, reason in outcome.refused]
        st.error(t("share.import_refused", files=len(outcome.refused)) + "\n\n" + "\n".join(lines), icon="🚫")
    elif outcome.runs:
        st.success(t("share.imported", runs=outcome.runs, files=len(outcome.files)), icon="📥")
    if not outcome.refused and outcome.skipped:
        st.info(t("share.import_skipped", skipped=outcome.skipped, runs=outcome.runs), icon="🔁")
    if outcome.repeated:
        names = ", ".join(f"`{name}`" for name in outcome.repeated)
        st.info(t("share.import_repeated", files=names), icon="🔁")


#: History's text columns and the locale keys of their headers.
_TEXT_HEADERS = {
    "started_at": "history.col_started",
    "mode": "history.col_mode",
    "shape": "history.col_shape",
    "label": "history.col_label",
    "owner": "share.col_owner",
    "provider": "history.col_provider",
    "model": "history.col_model",
}
#: History's columns of numbers that may hold ``—`` (unset), and the locale keys of their headers.
_MIXED_HEADERS = {
    "n": "history.col_n",
    "errors": "history.col_errors",
    "input_tokens": "history.col_input",
    "output_tokens": "history.col_output",
}


def show_table(table: list[dict[str, Any]], records: list[RunRecord], *, key: str) -> None:
    """History's table (``display_rows`` of ``entry_rows``), with translated headers, for ``records``."""
    from ui.format import seconds_template

    st.dataframe(
        table,
        hide_index=True,
        key=key,
        # The note (a sweep, stopped) next to the mode, where it is seen without scrolling; whose run next to its number.
        column_order=table_columns(table, records),
        column_config={
            "run": st.column_config.TextColumn("#", width="small"),
            **{column: st.column_config.TextColumn(t(header)) for column, header in _TEXT_HEADERS.items()},
            # Column (not NumberColumn): a column with an unset value holds "—" next to its numbers.
            **{column: st.column_config.Column(t(header)) for column, header in _MIXED_HEADERS.items()},
            "wall_s": st.column_config.NumberColumn(t("history.col_wall"), format=seconds_template("%.2f")),
            "max_concurrency": st.column_config.Column("max_concurrency"),
            "pool_size": st.column_config.Column(t("history.col_pool"), help=t("batch.pool_help")),
            "cost": st.column_config.TextColumn(t("history.col_cost"), help=t("history.cost_col_help")),
        },
    )


def table_columns(table: list[dict[str, Any]], records: list[RunRecord]) -> list[str]:
    """History's column order: the owner next to the run's number when any run has one (else no owner column)."""
    with_owner = any(record.owner for record in records)
    first = ["run", *(["owner"] if with_owner else []), "started_at", "mode", "shape", "label"]
    return [column for column in dict.fromkeys([*first, *(table[0] if table else [])]) if with_owner or column != "owner"]
