"""The demo's literal data — names, places, licences, prices, texts and the mix of stories — read once from
the JSON and CSV files in marketplace/demo/data/ (described in its README.md).

Lists keep the files' order and weights are spelled out, so the same seed always gives the same result.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("data")


def _json(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _weighted(counts: dict[str, int]) -> list[str]:
    """{"a": 2, "b": 1} -> ["a", "a", "b"]."""
    return [value for value, n in counts.items() for _ in range(n)]


# --- the fixed accounts --------------------------------------------------------------------------------------

ACCOUNTS: dict = _json("accounts.json")

# --- people and places -----------------------------------------------------------------------------------------

_people = _json("people.json")
SURNAMES: list[str] = list("".join(_people["surnames"]))  # the most frequent ones repeated
GIVEN_MALE: list[str] = list(_people["given_male"])
GIVEN_FEMALE: list[str] = list(_people["given_female"])
PHONE_PREFIXES: list[str] = _people["phone_prefixes"]

_cities = _csv("cities.csv")
CITY_CODES: dict[str, str] = {row["city"]: row["division"] for row in _cities}
CITY_WEIGHTS: dict[str, int] = {row["city"]: int(row["weight"]) for row in _cities}
DISTRICTS: dict[str, list[tuple[str, str]]] = {}
for _row in _csv("districts.csv"):
    DISTRICTS.setdefault(_row["city"], []).append((_row["division"], _row["district"]))

_places = _json("places.json")
PROVINCE: str = _places["province"]
PROVINCE_FULL: str = _places["province_full"]
WHOLE_PROVINCE: str = _places["whole_province"]
ADDRESS: str = _places["address"]
ROADS: list[str] = _places["roads"]
BUILDINGS: list[str] = _places["buildings"]

# --- agencies --------------------------------------------------------------------------------------------------

AGENCY_STATUSES: list[tuple[str, int]] = [
    (row["status"], int(row["count"])) for row in _csv("agency_statuses.csv")
]

_names = _json("agency_names.json")
BRANDS: list[str] = _names["brands"]
LOCAL_BRANDS: dict[str, list[str]] = _names["local_brands"]
TRADES: dict[str, list[str]] = _names["trades"]
DEFAULT_TRADES: list[str] = _names["default_trades"]
FORMS: list[str] = _weighted(_names["forms"])
FORMS_BY_CATEGORY: dict[str, list[str]] = _names["forms_by_category"]

_categories = _json("categories.json")
RELATED: dict[str, list[str]] = _categories["related"]
CATEGORY_WEIGHTS: dict[str, int] = _categories["weights"]

_texts = _json("agency_texts.json")
INTROS: dict[str, list[str]] = _texts["intros"]
DEFAULT_INTROS: list[str] = _texts["default_intros"]
STAFF: dict[str, str] = _texts["staff"]
INTRO_SECOND: list[str] = _texts["intro_second"]
PROJECTS_DONE: list[int] = _texts["projects_done"]
PROJECT_WORDS: list[str] = _texts["project_words"]
STATUS_REASONS: dict[str, list[str]] = _texts["reasons"]  # by membership status

_qualifications = _json("qualifications.json")
BUSINESS_LICENCE: dict = _qualifications["business_licence"]
QUALIFICATIONS: dict[str, list[dict]] = _qualifications["by_category"]

# --- stores and prices -----------------------------------------------------------------------------------------

# Fee bands in yuan: by service item code, by category code, and "*" for the rest.
PRICE_BANDS: dict[str, tuple[int, int]] = {
    row["code"]: (int(row["low_yuan"]), int(row["high_yuan"])) for row in _csv("price_bands.csv")
}


def price_band(item_code: str, category_code: str) -> tuple[int, int]:
    """A plausible fee band (yuan) for a market-priced service item: its own, else its category's."""
    return PRICE_BANDS.get(item_code) or PRICE_BANDS.get(category_code) or PRICE_BANDS["*"]


_stores = _json("stores.json")
DISCOUNTS: list[int] = _stores["discounts"]
OFFER_DESCRIPTION: str = _stores["description"]
OFFER_INCLUDES: dict[str, list[str]] = _stores["includes"]
DEFAULT_INCLUDES: list[str] = _stores["default_includes"]
OFFER_PROMISES: list[str] = _stores["promises"]

# --- enterprises -----------------------------------------------------------------------------------------------

_enterprises = _json("enterprises.json")
ENTERPRISE_AREAS: dict[str, list[str]] = _enterprises["areas"]
ENTERPRISE_BUSINESS: list[str] = _enterprises["business"]
ENTERPRISE_BRANDS: list[str] = _enterprises["brands"]
ENTERPRISE_INDUSTRIES: list[str] = _enterprises["industries"]
ENTERPRISE_FORM: str = _enterprises["form"]
ENTERPRISE_GROUP_FORM: str = _enterprises["group_form"]

# --- the year of history ---------------------------------------------------------------------------------------

PROJECTS: dict = _json("projects.json")
BIDS: dict = _json("bids.json")
OBJECTIONS: dict = _json("objections.json")
DELIVERIES: dict = _json("deliveries.json")


def _none(text: str) -> str | None:
    return text or None


# A generic story is (request outcome, order kind) with its weight; see marketplace.demo.planning.
STORY_MIX: list[tuple[tuple[str, str | None], int]] = [
    ((row["outcome"], _none(row["kind"])), int(row["weight"])) for row in _csv("story_mix.csv")
]
FIXED_STORIES: list[dict] = [
    {
        "who": row["who"],
        "item": row["item"],
        "outcome": row["outcome"],
        "kind": _none(row["kind"]),
        "method": row["method"],
        "funding": row["funding"],
        "n": int(row["n"]),
        "z": _none(row["z"]),
        "then": (row["then_outcome"], _none(row["then_kind"])) if row["then_outcome"] else None,
    }
    for row in _csv("fixed_stories.csv")
]
_stories = _json("stories.json")
REPUBLISHED: list[tuple[str, str | None]] = [(outcome, kind) for outcome, kind in _stories["republished"]]
DECLINED_STORIES: int = _stories["declined"]
OBJECTION_STORIES: dict[str, int] = _stories["objections"]

# --- ratings, payments, fee cases, documents -------------------------------------------------------------------

RATINGS: dict[str, list[str]] = _json("ratings.json")
PAYMENTS: dict = _json("payments.json")
FEES: dict = _json("fees.json")
DOCUMENTS: dict = _json("documents.json")
