"""A list request is checked against the resource's spec before it reaches SQL."""

import pytest

from gridgis.gis.errors import InvalidInput
from gridgis.gis.resources import RESOURCES, ListQuery


def build(name: str, **kwargs) -> ListQuery:
    return ListQuery.build(RESOURCES[name], **kwargs)


def test_codes_are_split_sorted_and_checked_against_the_vocabulary():
    q = build("incidents", filters={"category": ["violent_crime,dispute", "dispute"]})
    assert q.filters["category"] == ("dispute", "violent_crime")
    with pytest.raises(InvalidInput, match="'fire'") as error:
        build("places", filters={"category": ["fire"]})
    assert error.value.details["field"] == "category"


def test_a_filter_the_resource_does_not_offer_is_refused():
    with pytest.raises(InvalidInput, match="cannot be filtered by 'level'"):
        build("incidents", filters={"level": ["district"]})
    with pytest.raises(InvalidInput, match="no time"):
        build("people", start=__import__("datetime").datetime(2026, 1, 1))


def test_special_groups_and_any():
    assert build("people", filters={"special": ["any"]}).filters["special"] == ("any",)
    with pytest.raises(InvalidInput, match="'aliens'"):
        build("people", filters={"special": ["aliens"]})


def test_ids_must_be_whole_numbers_and_sort_keys_must_be_sortable():
    assert build("grids", filters={"plan_id": ["3,4", "4"]}).filters["plan_id"] == (3, 4)
    with pytest.raises(InvalidInput, match="not an id"):
        build("grids", filters={"plan_id": "3x"})
    with pytest.raises(InvalidInput, match="cannot sort"):
        build("incidents", sort=["-description"])
    assert build("incidents", sort=["-occurred_at,category"]).sort == ["-occurred_at",
                                                                        "category"]


def test_free_text_filters_are_split_but_not_checked():
    assert build("buildings", filters={"use": ["apartments,school"]}).filters["use"] == \
        ("apartments", "school")
