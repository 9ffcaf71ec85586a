"""structlog JSON logs, with every CPR number masked before it is written."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from fbs_debitor.core.ids import mask_cprs_in_text


def mask_cpr_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace anything that looks like a CPR number, in any accepted form, in every string of the
    event, also inside lists and mappings (and in their keys)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _masked(value)
    return event_dict


def _masked(value: Any) -> Any:
    match value:
        case str():
            return mask_cprs_in_text(value)
        case dict():
            return {_masked(k): _masked(v) for k, v in value.items()}
        case list() | tuple() | set():
            return [_masked(v) for v in value]
        case _:
            return value


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Route stdlib logging and structlog through one renderer that masks CPR numbers."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            mask_cpr_processor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel("WARNING")
