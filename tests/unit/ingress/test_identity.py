"""The identity decisions: which key, which links to add, which to replace, what moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.events import Recipient, SystemChange
from services.ingress.identity import Id, ids_of, plan_change, plan_customer
from wapipe.store import IdentityLink

T = "100000000000001"
A, B, U1, U2 = "573001234567", "573009876543", "CO.111", "CO.222"
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def held(*links: IdentityLink) -> dict[Id, IdentityLink | None]:
    return {(link.kind, link.value): link for link in links}


def lk(kind: str, value: str, user: str, minutes: int = 0, retired: int | None = None) -> IdentityLink:
    return IdentityLink(T, kind, value, user, AT + timedelta(minutes=minutes),  # type: ignore[arg-type]
                        AT + timedelta(minutes=retired) if retired is not None else None)


def test_the_bsuid_is_the_preferred_first_key() -> None:
    assert ids_of(Recipient(wa_id=A, user_id=U1)) == [("user_id", U1), ("wa_id", A)]
    plan = plan_customer(T, ids_of(Recipient(wa_id=A, user_id=U1)), {}, AT, merge=True)
    assert plan.user == U1 and plan.outcome == "new"
    assert [(x.kind, x.value, x.user) for x in plan.link] == [("user_id", U1, U1), ("wa_id", A, U1)]


def test_a_known_id_gives_its_key_and_links_the_other() -> None:
    plan = plan_customer(T, ids_of(Recipient(wa_id=A, user_id=U1)), held(lk("wa_id", A, A)), AT, merge=True)
    assert plan.user == A and [(x.kind, x.value, x.user) for x in plan.link] == [("user_id", U1, A)]
    known = plan_customer(T, [("wa_id", A)], held(lk("wa_id", A, A)), AT, merge=True)
    assert (known.user, known.link, known.outcome) == (A, (), "known")


def test_two_keys_for_one_customer_merge_into_the_older_link() -> None:
    links = held(lk("wa_id", A, A, minutes=5), lk("user_id", U1, U1, minutes=1))
    plan = plan_customer(T, ids_of(Recipient(wa_id=A, user_id=U1)), links, AT, merge=True)
    assert (plan.user, plan.move_from, plan.reason, plan.relink_users) == (U1, A, "merge", (A,))
    status = plan_customer(T, ids_of(Recipient(wa_id=A, user_id=U1)), links, AT, merge=False)
    assert (status.user, status.move_from, status.outcome) == (U1, None, "conflict")


def test_a_retired_id_belongs_to_its_old_owner_up_to_the_change_and_to_nobody_after() -> None:
    links = held(lk("wa_id", A, U2, retired=10))
    assert plan_customer(T, [("wa_id", A)], links, AT + timedelta(minutes=10), merge=True).user == U2
    newcomer = plan_customer(T, [("wa_id", A)], links, AT + timedelta(days=60), merge=True)
    assert newcomer.user == A and newcomer.outcome == "new"
    late_status = plan_customer(T, [("wa_id", A)], links, AT + timedelta(days=60), merge=False)
    assert late_status.user == U2 and late_status.link == ()


def test_a_number_change_with_a_new_bsuid_moves_the_key_to_the_new_bsuid() -> None:
    links = held(lk("user_id", U1, U1), lk("wa_id", A, U1))
    change = SystemChange(type="user_changed_number", previous=Recipient(wa_id=A, user_id=U1),
                          current=Recipient(wa_id=B, user_id=U2))
    before = plan_customer(T, ids_of(Recipient(wa_id=A, user_id=U1)), links, AT, merge=True)
    plan = plan_change(T, before, change, list(links.values()), links, AT)  # type: ignore[arg-type]
    assert (plan.user, plan.move_from, plan.reason) == (U2, U1, "user_changed_number")
    by_id = {(x.kind, x.value): x for x in plan.set}
    assert by_id[("wa_id", A)].retired_at == AT and by_id[("user_id", U1)].retired_at == AT
    assert by_id[("wa_id", A)].user == by_id[("wa_id", B)].user == by_id[("user_id", U2)].user == U2
    assert by_id[("wa_id", B)].retired_at is None


def test_a_number_change_keeps_a_bsuid_key_that_did_not_change() -> None:
    """The older payload: only the phone number changes, the business-scoped id stays the key."""
    links = held(lk("user_id", U1, U1), lk("wa_id", A, U1))
    change = SystemChange(type="user_changed_number", previous=Recipient(wa_id=A), current=Recipient(wa_id=B))
    before = plan_customer(T, ids_of(Recipient(wa_id=A, user_id=U1)), links, AT, merge=True)
    plan = plan_change(T, before, change, list(links.values()), links, AT)  # type: ignore[arg-type]
    assert (plan.user, plan.move_from) == (U1, None)
    assert {(x.kind, x.value, x.user, x.retired_at) for x in plan.set} == {("wa_id", A, U1, AT),
                                                                           ("wa_id", B, U1, None)}


def test_a_new_bsuid_of_a_phone_keyed_customer_relinks_the_unchanged_phone() -> None:
    links = held(lk("wa_id", A, U1), lk("user_id", U1, U1))  # keyed by the BSUID; the phone stays
    change = SystemChange(type="user_changed_user_id", previous=Recipient(user_id=U1),
                          current=Recipient(user_id=U2))
    before = plan_customer(T, [("user_id", U1)], links, AT, merge=True)
    plan = plan_change(T, before, change, list(links.values()), links, AT)  # type: ignore[arg-type]
    assert (plan.user, plan.move_from) == (U2, U1)
    assert {(x.kind, x.value, x.user) for x in plan.set} == {("user_id", U1, U2), ("user_id", U2, U2),
                                                             ("wa_id", A, U2)}


def test_a_security_code_change_changes_nothing() -> None:
    links = held(lk("wa_id", A, A))
    before = plan_customer(T, [("wa_id", A)], links, AT, merge=True)
    plan = plan_change(T, before, SystemChange(type="customer_identity_changed"), [], links, AT)
    assert plan == before
