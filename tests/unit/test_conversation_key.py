"""The conversation key: one format, one parse, and parse refuses what format would never make."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.envelope import Conversation, MalformedConversationKey, conversation_key, parse_conversation_key

PHONE_NUMBER_IDS = st.text(st.sampled_from("0123456789"), min_size=1, max_size=20)
USERS = st.text(min_size=1, max_size=128)  # a BSUID, a wa_id, an /api/chat id (which may hold ':')


@given(PHONE_NUMBER_IDS, USERS)
def test_parse_inverts_format(phone_number_id: str, user: str) -> None:
    key = conversation_key(phone_number_id, user)
    assert parse_conversation_key(key) == Conversation(phone_number_id, user)
    assert conversation_key(*parse_conversation_key(key)) == key


def test_the_user_keeps_its_own_colons() -> None:
    assert parse_conversation_key("100000000000001:support:ana@shop") == ("100000000000001", "support:ana@shop")
    assert parse_conversation_key("100000000000001:US.13491208655302741918").user == "US.13491208655302741918"


@pytest.mark.parametrize(("key", "reason"), [
    ("100000000000001", "expected '<phone_number_id>:<user>'"),
    ("", "expected '<phone_number_id>:<user>'"),
    ("100000000000001:", "the user is empty"),
    (":573001112233", "the phone_number_id must be digits"),
    ("demo:573001112233", "the phone_number_id must be digits"),
    ("wapipe:shadow:100000000000001:5730", "the phone_number_id must be digits"),
    ("１２３:573001112233", "the phone_number_id must be digits"),  # non-ASCII digits
])
def test_malformed_keys_are_refused_with_the_reason(key: str, reason: str) -> None:
    with pytest.raises(MalformedConversationKey, match=reason) as refused:
        parse_conversation_key(key)
    assert isinstance(refused.value, ValueError)
    assert not re.search(r"\d{5}", str(refused.value))  # errors reach logs: at most the last 4 digits show
    assert str(refused.value).count("*") == max(0, sum(c.isdigit() for c in key) - 4)


@given(st.text(max_size=40))
def test_any_string_parses_back_to_itself_or_is_refused_as_malformed(key: str) -> None:
    try:
        parsed = parse_conversation_key(key)
    except MalformedConversationKey:
        return
    assert conversation_key(*parsed) == key


@pytest.mark.parametrize(("phone_number_id", "user"), [("", "5730"), ("10:0", "5730"), ("demo", "5730"),
                                                       ("100000000000001", "")])
def test_format_refuses_parts_that_would_not_parse_back(phone_number_id: str, user: str) -> None:
    with pytest.raises(MalformedConversationKey):
        conversation_key(phone_number_id, user)
