"""What every Claude call here shares: one forced tool call per request, its usage and price, and the failures that
send a source back to the offline path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, Field, ValidationError

# USD per million tokens: input, output, cache write (5 min), cache read. Prices change; an unknown model records
# tokens and no cost rather than a wrong one.
PRICES_PER_MTOK: dict[str, tuple[float, float, float, float]] = {
    "claude-sonnet-4-5": (3.0, 15.0, 3.75, 0.30),
    "claude-sonnet-4": (3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 0.10),
    "claude-opus-4-5": (5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-1": (15.0, 75.0, 18.75, 1.50),
}
DEFAULT_MODEL = "claude-sonnet-4-5"

ModelT = TypeVar("ModelT", bound=BaseModel)


class ClaudeFailed(Exception):
    """A call that gave nothing usable (refusal, no tool call, an answer the guard rejected, an API error)."""


class MessagesApi(Protocol):
    """The part of ``anthropic.Anthropic().messages`` used here."""

    def create(self, **request: Any) -> Any: ...


class Usage(BaseModel):
    """Tokens and cost of the calls made for one source (cost ``None`` when the model's price is unknown)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float | None = 0.0
    notes: list[str] = Field(default_factory=list)

    def add(self, model: str, usage: Any) -> None:
        read = lambda name: int(getattr(usage, name, 0) or 0)  # noqa: E731 - fields are None when not used
        counts = [read(name) for name in ("input_tokens", "output_tokens")]
        cache = [read(name) for name in ("cache_creation_input_tokens", "cache_read_input_tokens")]
        self.calls += 1
        self.input_tokens += counts[0]
        self.output_tokens += counts[1]
        self.cache_creation_input_tokens += cache[0]
        self.cache_read_input_tokens += cache[1]
        price = price_of(model)
        if price is None or self.cost_usd is None:
            self.cost_usd = None
            return
        spent = sum(tokens * per_mtok for tokens, per_mtok in zip([*counts, *cache], price, strict=True)) / 1e6
        self.cost_usd = round(self.cost_usd + spent, 6)


def price_of(model: str) -> tuple[float, float, float, float] | None:
    """The price row of ``model`` or of the family it is a dated snapshot of ("claude-sonnet-4-5-20250929")."""
    for name in sorted(PRICES_PER_MTOK, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return PRICES_PER_MTOK[name]
    return None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: Mapping[str, Any]


def cached_system(prompt: str) -> list[dict[str, Any]]:
    """The stable system prompt as one block marked for prompt caching (tools and system form the cached prefix)."""
    return [{"type": "text", "text": prompt, "cache_control": {"type": "ephemeral"}}]


def call_tool(
    messages: MessagesApi,
    *,
    model: str,
    system: str,
    tool: ToolSpec,
    user_content: str,
    usage: Usage,
    max_tokens: int = 4096,
) -> dict[str, Any]:
    """One Messages call that must answer with ``tool``; returns the tool call's input (still to be validated).

    Raises :class:`ClaudeFailed` on an API error (after the SDK's bounded retries with backoff), a timeout, a
    refusal, a cut-off answer or an answer without the tool call.
    """
    # The SDK is imported here, not at module top: it costs seconds at every code-location load (each Dagster
    # process), and only the Claude ranker calls this.
    import anthropic

    try:
        response = messages.create(
            model=model,
            max_tokens=max_tokens,
            system=cached_system(system),
            tools=[{"name": tool.name, "description": tool.description, "input_schema": dict(tool.input_schema)}],
            tool_choice={"type": "tool", "name": tool.name},
            messages=[{"role": "user", "content": user_content}],
        )
    except anthropic.APITimeoutError:
        raise ClaudeFailed("timed out") from None
    except anthropic.APIStatusError as exc:
        raise ClaudeFailed(f"HTTP {exc.status_code} from the Messages API") from None
    except anthropic.APIError as exc:
        raise ClaudeFailed(f"{type(exc).__name__} from the Messages API") from None
    except ValueError:  # a body that is not JSON
        raise ClaudeFailed("the Messages API answered with malformed JSON") from None
    if getattr(response, "usage", None) is not None:
        usage.add(model, response.usage)
    stop_reason = getattr(response, "stop_reason", None)
    if stop_reason == "refusal":
        raise ClaudeFailed("Claude declined (stop_reason refusal)")
    if stop_reason == "max_tokens":
        raise ClaudeFailed("the answer was cut off (stop_reason max_tokens)")
    for block in getattr(response, "content", None) or []:
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == tool.name:
            if not isinstance(block.input, dict):
                raise ClaudeFailed(f"{tool.name} input is not a JSON object")
            return block.input
    raise ClaudeFailed(f"no {tool.name} tool call in the answer (stop_reason {stop_reason})")


def validated(model_class: type[ModelT], payload: dict[str, Any], what: str) -> ModelT:
    try:
        return model_class.model_validate(payload)
    except ValidationError as exc:
        raise ClaudeFailed(f"{what} does not match its schema ({exc.error_count()} errors)") from None


def as_data(text: str) -> str:
    """Transcript text made inert inside our delimiters: it cannot open or close a tag of the prompt."""
    return text.replace("<", "‹").replace(">", "›")
