"""A cost guard for a deployment that lends its own API key to visitors.

On Streamlit Community Cloud the host's secrets become environment variables, so
an app that falls back to the host's key spends the host's money for every
visitor. When the host opts in to lending the key, a ``SessionBudget`` (kept in
each visitor's session state by the UI) limits how many calls a session may make
and how many topics one run may have.

Plain Python: the UI passes ``st.secrets`` or ``os.environ`` to
``budget_from_mapping``; nothing here imports Streamlit.

Superseded in the app by ``chains.quota`` (one ledger for the whole deployment,
per visitor, counted per HTTP request at the transport, so that a reload cannot
reset it and retries are counted). Kept for code that imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chains.errors import AppGuardError
from chains.quota import read_limit

DEFAULT_MAX_CALLS = 30
"""Calls one session may make on the host's key, unless ``HOST_KEY_MAX_CALLS`` says otherwise."""

DEFAULT_MAX_TOPICS = 8
"""Topics one run may have on the host's key, unless ``HOST_KEY_MAX_TOPICS`` says otherwise."""

MAX_CALLS_KEY = "HOST_KEY_MAX_CALLS"
MAX_TOPICS_KEY = "HOST_KEY_MAX_TOPICS"


class BudgetExceededError(AppGuardError):
    """A run would exceed the session's budget on the host's key.

    ``chains.errors.classify_error`` reports it with the kind ``budget``.

    Attributes:
        requested: Calls the run would make.
        limit: The limit that would be exceeded.
        reason: ``session`` (calls left in the session) or ``run`` (topics per run).
    """

    kind = "budget"

    def __init__(self, message: str, *, requested: int, limit: int, reason: str) -> None:
        """Create the error.

        Args:
            message: A short, key-free explanation.
            requested: Calls (or topics) the run asked for.
            limit: The limit in force (calls remaining, or topics per run).
            reason: ``session`` or ``run``.
        """
        super().__init__(message)
        self.requested = requested
        self.limit = limit
        self.reason = reason


@dataclass
class SessionBudget:
    """How many calls a session may still make on the host's key.

    Attributes:
        max_calls: Calls allowed for the whole session.
        max_topics_per_run: Topics (calls) allowed in a single run.
        used_calls: Calls already made.

    Example:
        >>> budget = SessionBudget(max_calls=10, max_topics_per_run=4)
        >>> budget.check(3); budget.consume(3); budget.remaining_calls
        7
    """

    max_calls: int
    max_topics_per_run: int
    used_calls: int = 0

    @property
    def remaining_calls(self) -> int:
        """Calls the session may still make (never negative)."""
        return max(0, self.max_calls - self.used_calls)

    def check(self, n_calls: int, *, topics: int | None = None) -> None:
        """Raise if a run of ``n_calls`` calls would break either limit.

        Args:
            n_calls: Calls the run will make.
            topics: Topics in the largest single run, when it differs from
                ``n_calls`` (for example a sweep makes many calls, but each run
                has at most k topics). Defaults to ``n_calls``.

        Raises:
            ValueError: When a count is negative.
            BudgetExceededError: When the run has more topics than
                ``max_topics_per_run``, or more calls than ``remaining_calls``.
        """
        per_run = n_calls if topics is None else topics
        if n_calls < 0 or per_run < 0:
            raise ValueError("call and topic counts cannot be negative")
        if per_run > self.max_topics_per_run:
            raise BudgetExceededError(
                f"This run has {per_run} topics; the host's key allows at most "
                f"{self.max_topics_per_run} per run.",
                requested=per_run,
                limit=self.max_topics_per_run,
                reason="run",
            )
        if n_calls > self.remaining_calls:
            raise BudgetExceededError(
                f"This run needs {n_calls} calls; only {self.remaining_calls} of "
                f"{self.max_calls} are left in this session on the host's key.",
                requested=n_calls,
                limit=self.remaining_calls,
                reason="session",
            )

    def consume(self, n_calls: int) -> None:
        """Count ``n_calls`` calls as made.

        Calls that were made are always counted, even past the limit; ``check``
        is what refuses a run before it starts.

        Args:
            n_calls: Calls made (failed calls count too: the provider may bill them).

        Raises:
            ValueError: When ``n_calls`` is negative.
        """
        if n_calls < 0:
            raise ValueError("n_calls cannot be negative")
        self.used_calls += n_calls


def budget_from_mapping(mapping: Mapping[str, Any] | Any) -> SessionBudget:
    """Build a fresh session budget from the host's settings.

    Reads ``HOST_KEY_MAX_CALLS`` (default 30) and ``HOST_KEY_MAX_TOPICS``
    (default 8). Values may be ints (TOML secrets) or strings (environment
    variables). A missing, non-integer or negative value falls back to its
    default; 0 is allowed and blocks every run. Any error raised while reading
    (such as Streamlit's ``StreamlitSecretNotFoundError`` when there is no secrets
    file) also falls back to the defaults.

    Args:
        mapping: ``st.secrets``, ``os.environ`` or any object with ``get``.

    Returns:
        A budget with nothing used yet.
    """
    return SessionBudget(
        max_calls=read_limit(mapping, MAX_CALLS_KEY, DEFAULT_MAX_CALLS),
        max_topics_per_run=read_limit(mapping, MAX_TOPICS_KEY, DEFAULT_MAX_TOPICS),
    )
