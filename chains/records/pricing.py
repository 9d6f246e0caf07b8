"""Rough cost estimates for runs against OpenAI models.

The prices are OpenAI's public list prices in US dollars per million tokens, as
known when this file was written. They change, discounts (cached input, the Batch
API) are ignored, and an OpenAI-compatible server bills however it likes, so treat
every figure as an estimate for teaching, not as a bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chains.models import provider_of_record

if TYPE_CHECKING:
    from chains.timing import RunRecord


@dataclass(frozen=True)
class ModelPrice:
    """List price of one model family.

    Attributes:
        input_per_million: US dollars per million input (prompt) tokens.
        output_per_million: US dollars per million output (completion) tokens.
    """

    input_per_million: float
    output_per_million: float


PRICES_USD_PER_MILLION: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "gpt-4o": ModelPrice(2.50, 10.00),
    "gpt-4.1": ModelPrice(2.00, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40),
    "gpt-3.5-turbo": ModelPrice(0.50, 1.50),
    "o4-mini": ModelPrice(1.10, 4.40),
}
"""List prices by model name; dated variants are matched by prefix (see ``price_for``)."""


def price_for(model: str) -> ModelPrice | None:
    """Find the list price of a model, matching dated variants by prefix.

    ``"gpt-4o-mini-2024-07-18"`` matches ``"gpt-4o-mini"``: the longest known name
    that equals the model or is followed by ``-`` in it wins, so ``gpt-4o-mini`` is
    never priced as ``gpt-4o``.

    Args:
        model: The model name, as sent to the API (case and surrounding spaces ignored).

    Returns:
        The price, or ``None`` for an unknown model (the simulator, a local model...).

    Example:
        >>> price_for("gpt-4.1-mini-2025-04-14")
        ModelPrice(input_per_million=0.4, output_per_million=1.6)
    """
    name = model.strip().lower()
    best: str | None = None
    for known in PRICES_USD_PER_MILLION:
        if (name == known or name.startswith(known + "-")) and (best is None or len(known) > len(best)):
            best = known
    return PRICES_USD_PER_MILLION[best] if best is not None else None


def estimate_cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """Estimate what a call (or a run) costs at OpenAI's list prices.

    Prices are list prices and may change; see the module docstring.

    Args:
        model: The model name; dated variants such as ``gpt-4o-mini-2024-07-18`` are
            priced as their family.
        input_tokens: Prompt tokens.
        output_tokens: Completion tokens.

    Returns:
        The estimated cost in US dollars, or ``None`` for an unknown or simulated model.

    Raises:
        ValueError: When a token count is negative.

    Example:
        >>> estimate_cost_usd("gpt-4o-mini", 1_000_000, 1_000_000)
        0.75
    """
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError("token counts cannot be negative")
    price = price_for(model)
    if price is None:
        return None
    return (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / 1_000_000


def run_cost_usd(record: RunRecord) -> float | None:
    """A run's estimated cost at OpenAI list prices, or ``None`` (unknown model, no usage, a free provider)."""
    if provider_of_record(record.provider).is_free or (record.input_tokens is None and record.output_tokens is None):
        return None
    return estimate_cost_usd(record.model, record.input_tokens or 0, record.output_tokens or 0)
