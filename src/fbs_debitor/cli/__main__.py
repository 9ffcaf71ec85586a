"""``python -m fbs_debitor.cli``: the same as the ``fbs-debitor`` command."""

from fbs_debitor.cli.main import app

app()
