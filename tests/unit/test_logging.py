"""CPR numbers never reach the log output."""

from __future__ import annotations

import logging

import pytest
import structlog

from fbs_debitor.logging_setup import configure_logging


def test_log_lines_mask_cpr_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    logging.getLogger("test").info("debtor 211062-5629 and 1501729995 paid fee 000000000000109")
    err = capsys.readouterr().err
    assert "211062-5629" not in err
    assert "1501729995" not in err
    assert "211062-XXXX" in err
    assert "150172-XXXX" in err
    assert "000000000000109" in err


def test_every_accepted_form_is_masked_also_inside_structures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    structlog.get_logger("test").info(
        "lookup of 150875 4321",
        form="15 08 75 43 21",
        payload={"debtor": "1508-75-4321", "items": ["150875-4321", 7]},
    )
    err = capsys.readouterr().err
    assert "4321" not in err
    assert err.count("150875-XXXX") == 4
