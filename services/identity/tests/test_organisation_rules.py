from services.identity.domain.organisations import parent_problem


def test_the_tree_is_province_commune_school():
    assert parent_problem("province", None) is None
    assert parent_problem("commune", "province") is None
    assert parent_problem("school", "commune") is None
    assert parent_problem("school", "province") is None  # upper secondary, run by the Department
    assert parent_problem("daycare_group", "commune") is None
    assert (
        parent_problem("province", "province")
        == "a province is the root of the tree and has no parent"
    )
    assert parent_problem("commune", None) == "a commune needs a parent (province)"
    assert parent_problem("school", "school") == "a school cannot sit under a school"
    assert (
        parent_problem("daycare_group", "province") == "a daycare_group cannot sit under a province"
    )
