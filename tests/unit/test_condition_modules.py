"""The condition language after its split into AST, parser and values: same public names, new placeholder."""

from __future__ import annotations

import pytest

import pulsewatch.domain.conditions as conditions
from pulsewatch.domain.conditions import ConditionSyntaxError, ProbeFacts, parse_condition


def test_the_public_names_stay_where_callers_import_them() -> None:
    for name in (
        "AnyOf",
        "Condition",
        "ConditionSyntaxError",
        "Has",
        "JsonPath",
        "Length",
        "Literal",
        "Pattern",
        "Placeholder",
        "ProbeFacts",
        "check_conditions",
        "parse_condition",
    ):
        assert hasattr(conditions, name), name


@pytest.mark.parametrize(
    ("text", "loss", "passed", "description"),
    [
        ("[PACKET_LOSS] < 50", 33.3, True, "[PACKET_LOSS] < 50"),
        ("[PACKET_LOSS] == 0", 66.7, False, "expected [PACKET_LOSS] == 0, got 66.7"),
        (
            "[packet_loss] <= 0",
            None,
            False,
            "expected [packet_loss] <= 0, but there was no packet loss figure",
        ),
    ],
)
def test_packet_loss_is_a_number(text: str, loss: float | None, passed: bool, description: str) -> None:
    outcome = parse_condition(text).evaluate(ProbeFacts(packet_loss=loss))
    assert (outcome.passed, outcome.description) == (passed, description)
    assert parse_condition(text).placeholders == {"[PACKET_LOSS]"}


def test_packet_loss_is_compared_with_numbers_only() -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition("[PACKET_LOSS] < lots")
    assert str(caught.value) == "'lots' is not a number at column 16: [PACKET_LOSS] is a number"
