from datetime import date

import pytest

from services.identity.domain.reorganisation import (
    ChangeRequest,
    OrgState,
    ReorganisationError,
    apply_change,
    version_as_of,
)

COMMUNE = OrgState("C1", 1, "commune", "Phường Cũ", "HP", date(2020, 1, 1), None, None)
SCHOOL = OrgState("S1", 3, "school", "Trường A", "C1", date(2020, 1, 1), None, None)
OTHER = OrgState("C2", 1, "commune", "Phường Mới", "HP", date(2020, 1, 1), None, None)
PROVINCE = OrgState("HP", 1, "province", "Hải Phòng", None, date(2020, 1, 1), None, None)
JULY = date(2025, 7, 1)


def test_rename_keeps_the_id_and_bumps_the_revision():
    after = apply_change(COMMUNE, ChangeRequest("renamed", JULY, name=" Phường Hồng Bàng "))
    assert (after.org_id, after.revision, after.name) == ("C1", 2, "Phường Hồng Bàng")
    with pytest.raises(ReorganisationError, match="needs a new name") as caught:
        apply_change(COMMUNE, ChangeRequest("renamed", JULY, name="Phường Cũ"))
    assert caught.value.field == "name"


def test_move_follows_the_tree_rules():
    after = apply_change(SCHOOL, ChangeRequest("moved", JULY, parent_id="C2"), new_parent=OTHER)
    assert (after.parent_id, after.revision) == ("C2", 4)
    with pytest.raises(ReorganisationError, match="already there"):
        apply_change(SCHOOL, ChangeRequest("moved", JULY), new_parent=COMMUNE)
    with pytest.raises(ReorganisationError, match="cannot sit under a school"):
        apply_change(SCHOOL, ChangeRequest("moved", JULY), new_parent=SCHOOL)
    with pytest.raises(ReorganisationError, match="needs an existing new parent"):
        apply_change(SCHOOL, ChangeRequest("moved", JULY))


def test_merge_closes_the_day_before_and_points_at_the_target():
    after = apply_change(COMMUNE, ChangeRequest("merged", JULY), merge_target=OTHER)
    assert (after.valid_to, after.merged_into) == (date(2025, 6, 30), "C2")
    with pytest.raises(ReorganisationError, match="can only merge into a commune"):
        apply_change(COMMUNE, ChangeRequest("merged", JULY), merge_target=PROVINCE)
    with pytest.raises(ReorganisationError, match="already closed or merged"):
        apply_change(after, ChangeRequest("renamed", JULY, name="X"))


def test_close_and_dates():
    after = apply_change(SCHOOL, ChangeRequest("closed", JULY))
    assert after.valid_to == date(2025, 6, 30)
    with pytest.raises(ReorganisationError, match="before the unit existed"):
        apply_change(SCHOOL, ChangeRequest("closed", date(2019, 1, 1)))


def test_version_in_force_on_a_date():
    history = [(date(2020, 1, 1), 1), (date(2025, 7, 1), 2), (date(2026, 1, 1), 3)]
    assert version_as_of(history, date(2019, 12, 31)) is None
    assert version_as_of(history, date(2025, 6, 30)) == 1
    assert version_as_of(history, date(2025, 7, 1)) == 2
    assert version_as_of(history, date(2030, 1, 1)) == 3
