"""The FBS adapter spec (Swagger 2.0, from dpl-react) as a JSON Schema for our FBS API answers.

``assert_valid_feev2_list(body)`` checks a ``GET .../fees/v2`` body against ``FeeV2[]`` of the
spec, with the ``#/definitions/...`` references resolved by jsonschema. Stricter than the spec in
one way: the fee, material and material-group objects may carry no property the spec does not
define (a misspelt field fails instead of passing unnoticed); looser in one: ``dueDate`` and
``paidDate`` may be ``null``, as FBS itself answers. Swagger's ``format: double`` /
``int64`` are not checked by jsonschema; the helper checks the dates' ISO form itself.

The spec is a third-party oracle (``fbs/fbs-adapter.dpl-react.yaml``, see tests/oracles.py): a test
that needs it is skipped when it is absent (fails under CI). Tests of our own behaviour that only
check their answers against it on the way pass ``required=False``: on a bare clone they still run,
without that extra check.
"""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft4Validator

from tests.oracles import IN_CI, available, oracle_path

SPEC_FILE = "fbs/fbs-adapter.dpl-react.yaml"
FEES_PATH = "/external/agencyid/patron/patronid/fees/v2"


@cache
def spec() -> dict[str, Any]:
    """The parsed spec."""
    loaded: dict[str, Any] = yaml.safe_load(oracle_path(SPEC_FILE).read_text(encoding="utf-8"))
    return loaded


@cache
def feev2_list_validator() -> Draft4Validator:
    """A validator for the 200 answer of getFeesV2, taken from the spec's own path entry."""
    definitions = copy.deepcopy(spec()["definitions"])
    for name in ("FeeV2", "FeeMaterialV2", "MaterialGroup"):
        definitions[name]["additionalProperties"] = False
    # The spec types the dates as strings, yet FBS answers "paidDate": null for an unpaid fee
    # (ding2's FeesResponse.json, dpl-react's wiremock sample): null is what FBS sends.
    for key in ("dueDate", "paidDate"):
        definitions["FeeV2"]["properties"][key]["type"] = ["string", "null"]
    answer = spec()["paths"][FEES_PATH]["get"]["responses"][200]["schema"]
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", **answer}
    schema["definitions"] = definitions
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def assert_valid_feev2_list(body: Any, *, required: bool = True) -> None:
    """Fail with every violation if ``body`` is not a valid FeeV2[] of the spec. Without the spec:
    skip the test, or with ``required=False`` (outside CI) check nothing."""
    if not required and not IN_CI and not available(SPEC_FILE):
        return
    errors = sorted(feev2_list_validator().iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "not a valid FeeV2[]:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    )
    for fee in body:
        for key in ("creationDate", "dueDate", "paidDate"):
            if fee.get(key) is not None:
                assert date.fromisoformat(fee[key]).isoformat() == fee[key], (key, fee[key])
        assert not isinstance(fee["amount"], bool)
