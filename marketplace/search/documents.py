"""The documents the index holds, built from the database: public text only."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Offer
from marketplace.catalogue.models import ServiceItem
from marketplace.regions import services as regions
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.search.analysis import pinyin_keys, tokens
from marketplace.search.vocabulary import Table
from marketplace.stats.figures import NO_DATA_COMPOSITE
from marketplace.stats.models import AgencyStats

DOC_TYPES = ("agency", "service", "request")
TEXT_FIELDS = ("title", "names", "body", "place")

# The static rank: precomputed per document when it is indexed, so a search keeps the top N by it (after the
# title tier, see query.py) instead of scoring every hit. Service items first (the catalogue item a word stands
# for), then agencies, then open announcements; within a kind a value in [0, 1).
TYPE_BASE = {"service": 2.0, "agency": 1.0, "request": 0.0}


def static_rank(doc_type: str, value: float) -> float:
    return TYPE_BASE[doc_type] + min(max(value, 0.0), 0.999)


def _item_words(item: ServiceItem) -> list[str]:
    return [item.name, *(item.aliases or [])]


def chunks(ids: list[int] | None, size: int = 500) -> Iterator[list[int] | None]:
    if ids is None:
        yield None
        return
    ids = sorted(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _agency_docs(session: Session, ids: list[int] | None) -> Iterator[dict]:
    """Active members only; never contacts, addresses, files or anything about bids."""
    if ids is None:  # a full build, in chunks too: a national market's ids exceed a statement's parameters
        ids = list(session.scalars(select(Agency.id).where(Agency.status == AgencyStatus.ACTIVE)))
    for chunk in chunks(ids):
        stmt = (
            select(Agency)
            .where(Agency.status == AgencyStatus.ACTIVE)
            .options(
                selectinload(Agency.categories),
                selectinload(Agency.qualifications),
                selectinload(Agency.offers).selectinload(Offer.service_item),
            )
            .order_by(Agency.id)
        )
        if chunk is not None:
            stmt = stmt.where(Agency.id.in_(chunk))
        agencies = session.scalars(stmt).all()
        # the list's composite score (ratings, punctuality, sales, savings), kept by the stats feature; its
        # changes queue the agency (hooks.py). A newcomer ranks as the list ranks it (NO_DATA_COMPOSITE).
        composite = dict(
            session.execute(
                select(AgencyStats.agency_id, AgencyStats.composite).where(
                    AgencyStats.agency_id.in_([a.id for a in agencies])
                )
            ).all()
        )
        for agency in agencies:
            live = [o for o in agency.offers if o.active]
            category_names = [c.name for c in agency.categories]
            item_words = [w for o in live for w in _item_words(o.service_item)]
            names = [
                *category_names,
                *item_words,
                *(f"{q.name} {q.level.value}" for q in agency.qualifications),
            ]
            yield {
                "key": f"agency:{agency.id}",
                "type": "agency",
                "doc_id": agency.id,
                "title": agency.name,
                "names": " ".join(names),
                "body": agency.intro or "",
                "place": regions.full_name(agency.region_code) or "",  # 江苏省南京市建邺区: 南京 finds it
                "pinyin": pinyin_keys(agency.name, *category_names, *item_words),
                "subtitle": "、".join(category_names),
                "region": agency.region or "",
                "extra": {"offers": len(live)},
                "rank": static_rank("agency", composite.get(agency.id, NO_DATA_COMPOSITE) / 100),
            }


def _service_docs(session: Session, ids: list[int] | None) -> Iterator[dict]:
    for chunk in chunks(ids):
        stmt = select(ServiceItem).options(selectinload(ServiceItem.category)).order_by(ServiceItem.id)
        if chunk is not None:
            stmt = stmt.where(ServiceItem.id.in_(chunk))
        items = session.scalars(stmt).all()
        offered = dict(  # how many agencies offer it: the items people look for first
            session.execute(
                select(Offer.service_item_id, func.count(Offer.id))
                .where(Offer.active, Offer.service_item_id.in_([i.id for i in items]))
                .group_by(Offer.service_item_id)
            ).all()
        )
        for item in items:
            body = "；".join(
                p for p in (item.approval, item.department, item.legal_basis, item.qualification) if p
            )
            yield {
                "key": f"service:{item.id}",
                "type": "service",
                "doc_id": item.id,
                "title": item.name,
                "names": " ".join([*(item.aliases or []), item.category.name]),
                "body": body,
                "place": "",
                "pinyin": pinyin_keys(*_item_words(item), item.category.name),
                "subtitle": item.category.name,
                "region": "",
                "extra": {"standard_days": item.standard_days},
                "rank": static_rank("service", offered.get(item.id, 0) / (offered.get(item.id, 0) + 20)),
            }


def _request_docs(session: Session, ids: list[int] | None) -> Iterator[dict]:
    """Open announcements (status bidding) only; never bids, prices offered or the draw seed."""
    for chunk in chunks(ids):
        stmt = (
            select(ServiceRequest)
            .where(ServiceRequest.status == RequestStatus.BIDDING)
            .options(selectinload(ServiceRequest.service_item))
            .order_by(ServiceRequest.id)
        )
        if chunk is not None:
            stmt = stmt.where(ServiceRequest.id.in_(chunk))
        for req in session.scalars(stmt):
            item = req.service_item
            yield {
                "key": f"request:{req.id}",
                "type": "request",
                "doc_id": req.id,
                "title": req.title,
                "names": " ".join([req.project_code, *_item_words(item)]),
                "body": req.scope or "",
                "place": regions.full_name(req.region_code) or "",
                "pinyin": pinyin_keys(req.title, *_item_words(item)),
                "subtitle": item.name,
                "region": req.region or "",
                "extra": {"bid_deadline": req.bid_deadline.isoformat() if req.bid_deadline else None},
                # the most recently published first
                "rank": static_rank(
                    "request", req.published_at.timestamp() / 1e10 if req.published_at else 0.0
                ),
            }


BUILDERS = {"agency": _agency_docs, "service": _service_docs, "request": _request_docs}


def build(doc_type: str, session: Session, ids: list[int] | None, vocabulary: list[str]) -> Iterator[dict]:
    """The documents of one type (all of them, or those of `ids` that are public), each with the terms of
    the index's vocabulary that its text contains."""
    for doc in BUILDERS[doc_type](session, ids):
        text = "\n".join(doc[f] for f in TEXT_FIELDS).lower()
        doc["terms"] = " ".join(term for term in vocabulary if term in text)
        yield doc


def vocabulary_of(table: Table) -> list[str]:
    """What the index lists per document: the full terms an expansion may put in that are more than one
    index term (a one-term expansion is a single posting list already)."""
    terms = {v.lower() for values in table.values() for v in values}
    return sorted(t for t in terms if len(tokens(t)) > 1 and not any(c.isspace() for c in t))
