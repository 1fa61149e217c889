"""What the public API reads of the agencies: the list's rows as plain rows (written out as the JSON
`AgencyRowOut` documents), and a store's objects loaded at once.

The list loaded each listed agency with its categories, service areas and every offer as ORM objects (and the
discount offers' items) to show a count of live offers — five queries and ~250 objects a page — then dumped
them through marshmallow. A row needs its columns, its category ids (named from the catalogue's outline, a
per-process copy), its service-area codes and how many live offers it has (counted by the database): one
query, nothing mapped, written out by hand. The figures (stats/figures.py `stats_for`) are read as before.
tests/api/test_agencies_listed.py compares the JSON with the schema's dump of the agencies.

A store (/api/v1/agencies/<id>) is dumped from the objects as before, but loaded in three queries with
everything its JSON reads, instead of one lazy load per relationship and per offer's item (17 statements for six
offers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from marketplace.agencies.cards import CATEGORY_IDS, catalogue_places, categories_named
from marketplace.agencies.models import Agency, AgencyServiceArea, Offer, Qualification
from marketplace.catalogue.outline import OutlineCategory
from marketplace.extensions import db
from marketplace.regions import services as regions


@dataclass(frozen=True, slots=True)
class ListedAgency:
    id: int
    name: str
    status: str
    region_code: str | None
    intro: str | None
    service_area_codes: tuple[str, ...]  # by code, as `Agency.service_areas`
    categories: tuple[OutlineCategory, ...]  # in the catalogue's order, as `Agency.categories`
    offer_count: int  # live offers


def _per_agency(what, *where):
    """A correlated subquery over the listed agency's own rows."""
    return select(what).where(*where).correlate(Agency).scalar_subquery()


# Everything a row shows in one statement: its live offers counted, its categories' ids and its service areas'
# codes as comma-joined text (string_agg / group_concat: in no set order, so ordered here).
_ROW = select(
    Agency.id,
    Agency.name,
    Agency.status,
    Agency.region_code,
    Agency.intro,
    _per_agency(func.count(), Offer.agency_id == Agency.id, Offer.active.is_(True)).label("offers"),
    CATEGORY_IDS.label("category_ids"),
    _per_agency(
        func.aggregate_strings(AgencyServiceArea.region_code, ","), AgencyServiceArea.agency_id == Agency.id
    ).label("area_codes"),
)


def rows(ids: list[int]) -> dict[int, ListedAgency]:
    """{agency id: its row} for the agencies of `ids` that exist (`listing_page`'s `load`)."""
    if not ids:
        return {}
    places = catalogue_places()
    out = {}
    for r in db.session.execute(_ROW.where(Agency.id.in_(ids))):
        out[r.id] = ListedAgency(
            r.id,
            r.name,
            r.status.value,
            r.region_code,
            r.intro,
            tuple(sorted(c for c in (r.area_codes or "").split(",") if c)),
            categories_named(r.category_ids, places),
            r.offers,
        )
    return out


def as_json(row: ListedAgency, stats: dict) -> dict[str, Any]:
    """What `AgencyRowOut` dumps of the agency, with its figures (`stats_for`)."""
    region = regions.name(row.region_code)
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "region_code": row.region_code,
        "region_name": region,
        "region": region,
        "service_area_codes": list(row.service_area_codes),
        "intro": row.intro,
        "categories": [{"id": c.id, "name": c.name} for c in row.categories],
        "offer_count": row.offer_count,
        "stats": stats,
    }


def load_store(agency_id: int) -> Agency | None:
    """The agency with what `AgencyStoreOut` reads — service areas, categories, offers with their items,
    qualifications with their kinds — so that dumping it runs no query of its own. While the caller holds it,
    the services' `get_store` finds it in the identity map (which holds objects only weakly). The collections
    with an order are joined (one row per combination, the rows sorted by each one's order: every collection
    meets its members in its own order), but for the categories (read in their order alongside, see below);
    the offers are read on their own, as their lazy load did:
    `Agency.offers` has no order, and a join would change the one the database gives (the JSON's)."""
    return (
        db.session.scalars(
            select(Agency)
            .where(Agency.id == agency_id)
            .options(
                joinedload(Agency.service_areas),  # (each collection in its own order: the joins' ORDER BY)
                # not joined: SQLite materialises the (agency_category JOIN category) of a joined many-to-many
                # whole before the outer join (a scan of every membership: 175 ms at 100k agencies)
                selectinload(Agency.categories),
                joinedload(Agency.qualifications).joinedload(Qualification.kind),
                selectinload(Agency.offers).selectinload(Offer.service_item),
            )
        )
        .unique()
        .first()
    )
