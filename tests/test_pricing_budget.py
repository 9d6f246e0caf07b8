"""Cost estimates at list prices, and the cost guard on the host's key."""

from __future__ import annotations

from typing import Any

import pytest

from chains.budget import (
    DEFAULT_MAX_CALLS,
    DEFAULT_MAX_TOPICS,
    BudgetExceededError,
    SessionBudget,
    budget_from_mapping,
)
from chains.errors import classify_error
from chains.pricing import PRICES_USD_PER_MILLION, estimate_cost_usd, price_for

# ------------------------------------------------------------------- pricing
LIST_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o4-mini": (1.10, 4.40),
}


@pytest.mark.parametrize(("model", "prices"), LIST_PRICES.items())
def test_known_models_cost_their_list_price(model: str, prices: tuple[float, float]) -> None:
    input_price, output_price = prices
    assert estimate_cost_usd(model, 1_000_000, 0) == pytest.approx(input_price)
    assert estimate_cost_usd(model, 0, 1_000_000) == pytest.approx(output_price)
    assert estimate_cost_usd(model, 2_000, 500) == pytest.approx((2_000 * input_price + 500 * output_price) / 1e6)


def test_table_covers_exactly_the_listed_models() -> None:
    assert set(PRICES_USD_PER_MILLION) == set(LIST_PRICES)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("  GPT-4o-Mini ", "gpt-4o-mini"),
    ],
)
def test_dated_variants_match_the_longest_prefix(model: str, family: str) -> None:
    assert price_for(model) == PRICES_USD_PER_MILLION[family]


@pytest.mark.parametrize(
    "model",
    ["simulated-gpt-4o-mini", "simulated", "llama3.1:8b", "", "gpt-4", "gpt-4o2", "o4", "gpt-4.10", "my-gpt-4o"],
)
def test_unknown_and_simulated_models_have_no_price(model: str) -> None:
    assert estimate_cost_usd(model, 1000, 1000) is None


def test_zero_tokens_cost_nothing_and_negative_is_refused() -> None:
    assert estimate_cost_usd("gpt-4o-mini", 0, 0) == 0.0
    with pytest.raises(ValueError):
        estimate_cost_usd("gpt-4o-mini", -1, 0)


def test_a_typical_joke_run_costs_fractions_of_a_cent() -> None:
    cost = estimate_cost_usd("gpt-4o-mini-2024-07-18", 8 * 15, 8 * 30)
    assert cost is not None and 0 < cost < 0.001


# -------------------------------------------------------------------- budget
def test_budget_counts_remaining_calls() -> None:
    budget = SessionBudget(max_calls=10, max_topics_per_run=4)
    assert budget.remaining_calls == 10
    budget.check(4)
    budget.consume(4)
    assert budget.used_calls == 4 and budget.remaining_calls == 6
    budget.consume(6)
    assert budget.remaining_calls == 0
    budget.consume(2)  # calls already made always count
    assert budget.used_calls == 12 and budget.remaining_calls == 0


def test_check_refuses_too_many_topics_in_one_run() -> None:
    budget = SessionBudget(max_calls=100, max_topics_per_run=8)
    budget.check(8)
    with pytest.raises(BudgetExceededError) as caught:
        budget.check(9)
    assert caught.value.reason == "run"
    assert caught.value.requested == 9 and caught.value.limit == 8
    assert budget.used_calls == 0


def test_check_refuses_going_over_the_session_limit() -> None:
    budget = SessionBudget(max_calls=10, max_topics_per_run=8, used_calls=7)
    budget.check(3)
    with pytest.raises(BudgetExceededError) as caught:
        budget.check(4)
    assert caught.value.reason == "session"
    assert caught.value.limit == 3
    assert "3" in str(caught.value)


def test_check_with_a_separate_topic_count_for_a_sweep() -> None:
    budget = SessionBudget(max_calls=30, max_topics_per_run=8)
    budget.check(24, topics=3)  # a sweep of k=3 with 2 repeats: 24 calls, at most 3 topics per run
    with pytest.raises(BudgetExceededError):
        budget.check(24, topics=9)
    with pytest.raises(BudgetExceededError):
        budget.check(31, topics=3)


def test_negative_counts_are_refused() -> None:
    budget = SessionBudget(max_calls=5, max_topics_per_run=5)
    with pytest.raises(ValueError):
        budget.check(-1)
    with pytest.raises(ValueError):
        budget.consume(-1)


def test_budget_error_is_classified_as_budget() -> None:
    budget = SessionBudget(max_calls=1, max_topics_per_run=1)
    with pytest.raises(BudgetExceededError) as caught:
        budget.check(2)
    info = classify_error(caught.value)
    assert info.kind == "budget"
    assert info.detail == str(caught.value)


def test_budget_from_mapping_defaults() -> None:
    budget = budget_from_mapping({})
    assert (budget.max_calls, budget.max_topics_per_run, budget.used_calls) == (30, 8, 0)
    assert (DEFAULT_MAX_CALLS, DEFAULT_MAX_TOPICS) == (30, 8)


def test_budget_from_mapping_reads_ints_and_strings() -> None:
    assert budget_from_mapping({"HOST_KEY_MAX_CALLS": 12, "HOST_KEY_MAX_TOPICS": 3}) == SessionBudget(12, 3)
    assert budget_from_mapping({"HOST_KEY_MAX_CALLS": " 50 ", "HOST_KEY_MAX_TOPICS": "4"}) == SessionBudget(50, 4)
    assert budget_from_mapping({"HOST_KEY_MAX_CALLS": "0"}).max_calls == 0


@pytest.mark.parametrize("bad", ["lots", "", "12.5", -3, "-3", 2.5, True, None, [], {"a": 1}])
def test_budget_from_mapping_ignores_bad_values(bad: Any) -> None:
    budget = budget_from_mapping({"HOST_KEY_MAX_CALLS": bad, "HOST_KEY_MAX_TOPICS": bad})
    assert (budget.max_calls, budget.max_topics_per_run) == (30, 8)


def test_budget_from_mapping_survives_a_mapping_that_raises() -> None:
    class NoSecretsFile:
        """Behaves like ``st.secrets`` without a secrets file: every access raises."""

        def get(self, key: str, default: Any = None) -> Any:
            raise FileNotFoundError("No secrets found")

    assert budget_from_mapping(NoSecretsFile()) == SessionBudget(30, 8)


def test_budget_from_environ_like_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("HOST_KEY_MAX_CALLS", "7")
    monkeypatch.delenv("HOST_KEY_MAX_TOPICS", raising=False)
    assert budget_from_mapping(os.environ) == SessionBudget(7, 8)
