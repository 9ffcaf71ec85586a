"""CPR numbers never reach the log output."""

from __future__ import annotations

import logging

import pytest

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
