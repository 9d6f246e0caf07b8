"""The History page's table, totals, labels and exports, built from run records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from chains.modes import run_title
from chains.pricing import run_cost_usd
from chains.providers import provider_of_record
from chains.store import entry_id
from chains.timing import LAB_SWEEP_ORIGIN, RunRecord, records_to_frame, records_to_json
from ui.format import seconds
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
    """The mode's name, as on every other page, with ``max_concurrency`` when it was set: ``abatch (max_concurrency=2)``."""
    return run_title(record, t(f"modes.{record.mode}"))


def run_label(position: int, record: RunRecord) -> str:
    """A short, unique label for a run: ``#3 batch`` (its 1-based place in the history)."""
    return f"#{position} {run_name(record)}"


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
        Dicts with the keys ``run``, ``mode``, ``n``, ``wall_s``,
        ``max_concurrency``, ``pool_size``, ``errors``, ``input_tokens``,
        ``output_tokens``, ``cost``, ``provider``, ``model``, ``started_at`` and
        ``label``, in the table's column order.
    """
    rows = []
    for position, record in enumerate(records, start=1):
        rows.append(
            {
                "run": f"#{position}",
                "mode": t(f"modes.{record.mode}"),
                "n": record.n,
                "wall_s": record.wall_s,
                "max_concurrency": record.max_concurrency,
                "pool_size": record.pool_size,
                "errors": record.error_count,
                "input_tokens": record.input_tokens,
                "output_tokens": record.output_tokens,
                "cost": cost_text(record),
                "provider": record.provider,
                "model": record.model,
                "started_at": record.started_at.replace("T", " ").split("+")[0],
                "label": note_text(record),
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


def show_eviction_notes() -> None:
    """Say how many History entries a bound removed, and which, until the user dismisses it."""
    from ui.run import local_time
    from ui.store import dismiss_eviction_notes, eviction_notes, store_limits

    notes = eviction_notes()
    if not notes:
        return
    runs = sum(note.runs for note in notes)
    lines = [
        "- " + t(
            "store.evicted_sweep" if note.origin == LAB_SWEEP_ORIGIN else "store.evicted_run",
            mode=note.mode,
            time=local_time(note.started_at),
            runs=note.runs,
        )
        for note in notes
    ]
    with st.container(key="history_evicted"):
        st.warning(t("store.evicted", entries=len(notes), runs=runs, limit=store_limits().max_entries_per_set) + "\n\n" + "\n".join(lines), icon="🧹")
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
    in ``chains.timing.records_to_csv`` (``chains.safe_text.csv_cell``): no cell
    runs as a formula.
    """
    from chains.safe_text import csv_cell

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
    """JSON text: the full records, calls and chunks included."""
    return records_to_json(list(records))
