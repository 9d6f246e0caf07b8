"""The History page's table, totals, labels and exports, built from run records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chains.pricing import estimate_cost_usd
from chains.timing import RunRecord, records_to_csv, records_to_json
from ui.i18n import t

SWEEP_LABEL_PREFIX = "sweep"
"""Runs made by the Lab's N-sweep carry a label that starts with this."""


def is_sweep_run(record: RunRecord) -> bool:
    """True for a run made by the Lab's N-sweep."""
    return record.label.startswith(SWEEP_LABEL_PREFIX)


def run_name(record: RunRecord) -> str:
    """The mode as code, with ``max_concurrency`` when it was set: ``abatch (max_concurrency=2)``."""
    return record.mode + (f" (max_concurrency={record.max_concurrency})" if record.max_concurrency else "")


def run_label(position: int, record: RunRecord) -> str:
    """A short, unique label for a run: ``#3 batch`` (its 1-based place in the history)."""
    return f"#{position} {run_name(record)}"


def run_choice_label(position: int, record: RunRecord) -> str:
    """The longer label shown in the run picker: place, mode, size, time and any sweep step."""
    text = f"{run_label(position, record)} · n={record.n} · {record.wall_s:.2f} s"
    return text + (f" · {record.label}" if record.label else "")


def run_cost_usd(record: RunRecord) -> float | None:
    """The run's estimated cost at OpenAI list prices, or ``None`` (unknown model, no usage, simulator)."""
    if record.provider == "simulator" or (record.input_tokens is None and record.output_tokens is None):
        return None
    return estimate_cost_usd(record.model, record.input_tokens or 0, record.output_tokens or 0)


def cost_text(record: RunRecord) -> str:
    """The cost cell: ``simulated: free``, ``$0.00012``, or ``—`` when it cannot be estimated."""
    if record.provider == "simulator":
        return t("usage.simulated")
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
                "mode": record.mode,
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
                "label": record.label,
            }
        )
    return rows


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
        simulated_runs=sum(1 for record in records if record.provider == "simulator"),
    )


def export_csv(records: list[RunRecord]) -> str:
    """CSV text, one row per call, with exactly ``chains.timing.CSV_COLUMNS``."""
    return records_to_csv(list(records))


def export_json(records: list[RunRecord]) -> str:
    """JSON text: the full records, calls and chunks included."""
    return records_to_json(list(records))
