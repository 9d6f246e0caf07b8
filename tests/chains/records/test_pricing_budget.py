"""Cost estimates at list prices, and the cost guard on the host's key."""

from __future__ import annotations

from typing import Any

import pytest

from chains.records.pricing import PRICES_USD_PER_MILLION, estimate_cost_usd, price_for
from chains.security.quota import HostKeyLimits, limits_from_mapping, read_limit

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


# ------------------------------------------------- the host key's limit settings
def test_read_limit_reads_ints_and_strings() -> None:
    assert read_limit({"HOST_KEY_MAX_TOPICS": 12}, "HOST_KEY_MAX_TOPICS", 8) == 12
    assert read_limit({"HOST_KEY_MAX_TOPICS": " 50 "}, "HOST_KEY_MAX_TOPICS", 8) == 50
    assert read_limit({"HOST_KEY_MAX_TOPICS": "0"}, "HOST_KEY_MAX_TOPICS", 8) == 0
    assert read_limit({}, "HOST_KEY_MAX_TOPICS", 8) == 8


@pytest.mark.parametrize("bad", ["lots", "", "12.5", -3, "-3", 2.5, True, None, [], {"a": 1}])
def test_read_limit_ignores_bad_values(bad: Any) -> None:
    assert read_limit({"HOST_KEY_MAX_TOPICS": bad}, "HOST_KEY_MAX_TOPICS", 8) == 8
    assert limits_from_mapping({"HOST_KEY_MAX_TOPICS": bad, "HOST_KEY_REQUESTS_PER_HOUR": bad}) == HostKeyLimits()


def test_limits_survive_a_mapping_that_raises() -> None:
    class NoSecretsFile:
        """Behaves like ``st.secrets`` without a secrets file: every access raises."""

        def get(self, key: str, default: Any = None) -> Any:
            raise FileNotFoundError("No secrets found")

    assert limits_from_mapping(NoSecretsFile()) == HostKeyLimits()


def test_limits_from_an_environ_like_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("HOST_KEY_MAX_TOPICS", "3")
    monkeypatch.setenv("HOST_KEY_MAX_CALLS", "7")  # the old per-session limit: now the per-visitor hourly one
    monkeypatch.delenv("HOST_KEY_VISITOR_REQUESTS_PER_HOUR", raising=False)
    limits = limits_from_mapping(os.environ)
    assert limits.max_topics == 3
    assert limits.visitor_requests_per_hour == 7
