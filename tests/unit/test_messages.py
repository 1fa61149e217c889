"""Recorded messages (marketplace/common/messages.py): what is stored, and how it reads in each language."""

import json

import pytest
from flask_babel import force_locale

from marketplace.common.errors import Invalid
from marketplace.common.messages import N_, Message, Money, decode, encode, message, said

DECLINED = N_("The selected agency declined: %(reason)s")
NOBODY_LEFT = N_("%(why)s No valid bid is left to take its place; the request failed.")
AMENDED = N_("%(before)s → %(after)s: %(reason)s")


def test_a_message_is_stored_as_its_key_and_parameters_and_comes_back_whole():
    why = message(DECLINED, reason="人员调不开")
    stored = message(NOBODY_LEFT, why=why).encode()
    assert json.loads(stored) == {
        "$msg": NOBODY_LEFT,
        "args": {"why": {"$msg": DECLINED, "args": {"reason": "人员调不开"}}},
    }
    assert decode(stored) == message(NOBODY_LEFT, why=why)
    amended = message(AMENDED, before=Money(100), after=Money(250), reason="加测")
    assert decode(amended.encode()) == amended
    assert json.loads(amended.encode())["args"]["before"] == {"$fen": 100}


def test_it_reads_in_the_current_language_with_nested_messages_and_money(app):
    line = message(NOBODY_LEFT, why=message(DECLINED, reason="人员调不开")).encode()
    with force_locale("zh_Hans"):
        assert said(line) == "中选机构放弃：人员调不开 无可递补的有效报价，流标。"
    with force_locale("en"):
        assert said(line) == (
            "The selected agency declined: 人员调不开 No valid bid is left to take its place; the request failed."
        )
    amended = message(AMENDED, before=Money(10_000_000), after=Money(12_000_050), reason="加测").encode()
    with force_locale("zh_Hans"):
        assert said(amended) == "¥100,000.00 → ¥120,000.50：加测"


def test_words_and_older_rows_are_shown_as_they_are(app):
    for stored in (None, "", "流标", "{not json", '{"$msg": 3}', '{"$msg": "x", "args": [1]}', '{"$msg"'):
        assert said(stored) == stored
    assert encode("人员调不开") == "人员调不开" and encode(None) is None


def test_a_row_that_no_longer_matches_its_message_still_renders(app):
    with force_locale("en"):
        assert said('{"$msg":"The selected agency declined: %(reason)s"}') == (
            "The selected agency declined: %(reason)s"
        )  # no parameters: the text as it is
        assert said('{"$msg":"The selected agency declined: %(reason)s","args":{"other":1}}') == (
            "The selected agency declined: —"
        )
        too_few = "Valid bids: %(valid)d, fewer than the required minimum of %(min)d; the request failed."
        wrong_kind = json.dumps({"$msg": too_few, "args": {"valid": "two", "min": 3}})
        assert said(wrong_kind) == too_few  # a parameter of the wrong kind: the text without it, never a 500


def test_a_message_fits_a_short_column_by_shortening_the_words_people_typed():
    why = message(DECLINED, reason="项目组成员无法到位" * 60)
    stored = why.encode(limit=200)
    assert len(stored) <= 200
    reason = decode(stored).params["reason"]
    assert reason.startswith("项目组成员无法到位") and reason.endswith("…")
    assert message(DECLINED, reason="短").encode(limit=200) == message(DECLINED, reason="短").encode()
    with pytest.raises(ValueError):
        message("A key far too long for its column " * 10).encode(limit=200)


def test_a_message_can_stand_where_a_translated_error_stood(app):
    problem = message(N_("Only active members may bid."))
    with force_locale("en"):
        assert str(Invalid(problem)) == "Only active members may bid."
    with force_locale("zh_Hans"):
        assert str(problem) == "只有正常入驻的机构才能报价。"
    assert isinstance(problem, Message) and problem
