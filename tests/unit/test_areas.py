"""GB/T 2260 codes: levels and containment, the rule behind every regional scope."""

from marketplace.common.areas import CITY, COUNTY, PROVINCE, ancestors, is_code, level, overlaps, within


def test_levels_and_ancestors():
    assert level("330000") == PROVINCE
    assert level("330400") == CITY
    assert level("330482") == COUNTY
    assert ancestors("330482") == ["330000", "330400"]
    assert ancestors("330400") == ["330000"]
    assert ancestors("330000") == []


def test_within_follows_the_tree():
    assert within("330482", "330000")  # Pinghu is in Zhejiang
    assert within("330482", "330400")  # and in Jiaxing
    assert within("330482", "330482")
    assert not within("330481", "330482")  # Haining is not Pinghu
    assert not within("310101", "330000")  # Shanghai is not Zhejiang
    assert not within("330000", "330482")  # a province is not inside its county
    assert within("310101", None)  # no area: everywhere
    assert not within(None, "330000")
    assert not within("33048", "330000") and not within("abcdef", "330000")


def test_overlaps_is_symmetric():
    assert overlaps("330000", "330482") and overlaps("330482", "330000")
    assert not overlaps("320000", "330482")


def test_is_code():
    assert is_code("210213")
    assert not is_code("000000") and not is_code("21021") and not is_code(210213)
