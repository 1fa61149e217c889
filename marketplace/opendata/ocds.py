"""OCDS 1.1.5 releases of the market's requests: one release per event in a request's life, each the state of the
contracting process as of that event.

tender (publication) → award (selection, 公示) → awardUpdate (publicity over) → contract (order made) →
contractUpdate (service started) → implementation (each payment received, delivery, acceptance); a failed or
cancelled request gets a tenderCancellation. Bids (the bid extension's `bids.details`) appear only in releases
dated after the bid deadline: a tender release is published while bidding is open and never holds a bid.
Amounts are yuan (CNY); times are Beijing time with their offset.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from marketplace.common.clock import LOCAL_TZ, as_utc, now
from marketplace.extensions import db
from marketplace.orders.models import VOID, Contract, ContractStatus, Order
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.labels import METHOD_HELP, METHOD_LABELS
from marketplace.requests.models import RequestStatus, SelectionMethod, ServiceRequest

BID_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
)
ORG_SCHEME = "CN-USCC"  # 统一社会信用代码, the identifier every enterprise and agency registers with
AWARD_CRITERIA = {
    SelectionMethod.LOWEST_PRICE: "priceOnly",
    SelectionMethod.AVERAGE_PRICE: "priceOnly",
    SelectionMethod.COMPOSITE: "ratedCriteria",
    SelectionMethod.CREDIT_SHORTLIST: "ratedCriteria",
    SelectionMethod.RANDOM: "random",  # an open codelist: the draw is explained in awardCriteriaDetails
    SelectionMethod.DIRECT: "direct",
}
RELEASED_PAYMENTS = (PaymentStatus.PAID, PaymentStatus.REFUNDED)  # the payments a release shows
BID_STATUS = {BidStatus.ACTIVE: "valid", BidStatus.INVALID: "disqualified", BidStatus.WITHDRAWN: "withdrawn"}


def yuan(fen: int) -> dict:
    return {"amount": round(fen / 100, 2), "currency": "CNY"}


@functools.lru_cache(maxsize=1 << 16)  # a request's dates recur in each of its releases
def stamp(value: datetime) -> str:
    return as_utc(value).astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()


@functools.lru_cache(maxsize=32)
def _method_words(method: SelectionMethod) -> tuple[str, str]:
    """The method's name and explanation in Chinese (once per process: a month has thousands of releases)."""
    with force_locale("zh_Hans"):
        return str(METHOD_LABELS[method]), str(METHOD_HELP[method])


def ocid(req: ServiceRequest) -> str:
    return f"{current_app.config['OCDS_OCID_PREFIX']}-{req.id}"


def happened(value: datetime | None, at: datetime) -> bool:
    return value is not None and as_utc(value) <= as_utc(at)


@dataclass
class Event:
    at: datetime
    tag: str
    key: str  # makes the release id unique within its ocid


def _org(org, *roles: str) -> dict:
    return {
        "id": f"{ORG_SCHEME}-{org.uscc}",
        "name": org.name,
        "identifier": {"scheme": ORG_SCHEME, "id": org.uscc, "legalName": org.name},
        "roles": list(roles),
    }


def _ref(org) -> dict:
    return {"id": f"{ORG_SCHEME}-{org.uscc}", "name": org.name}


class Process:
    """One request with everything its releases need, loaded once (or handed in, loaded for many requests at
    once: opendata/kept.py)."""

    def __init__(
        self,
        req: ServiceRequest,
        bids: list[Bid] | None = None,
        orders: list[Order] | None = None,
        payments: list[Payment] | None = None,
        contracts: list[Contract] | None = None,
    ):
        self.req = req
        self._bid_block: dict | None = None
        if bids is not None and orders is not None and payments is not None and contracts is not None:
            self.bids, self.orders, self.payments, self.contracts = bids, orders, payments, contracts
            return
        self.bids = list(db.session.scalars(select(Bid).where(Bid.request_id == req.id).order_by(Bid.id)))
        self.orders = list(
            db.session.scalars(select(Order).where(Order.request_id == req.id).order_by(Order.id))
        )
        ids = [o.id for o in self.orders] or [0]
        self.payments = list(
            db.session.scalars(
                select(Payment)
                .where(Payment.order_id.in_(ids), Payment.status.in_(RELEASED_PAYMENTS))
                .order_by(Payment.paid_at, Payment.id)
            )
        )
        self.contracts = list(
            db.session.scalars(
                select(Contract)
                .where(Contract.order_id.in_(ids), Contract.status == ContractStatus.CONFIRMED)
                .order_by(Contract.id)
            )
        )

    @property
    def ended_at(self) -> datetime | None:
        """When a failed or cancelled request ended (its own stamp; `updated_at` only for a row written before
        requests kept it and not back-filled)."""
        req = self.req
        if req.status not in (RequestStatus.FAILED, RequestStatus.CANCELLED):
            return None
        return req.ended_at or req.updated_at

    # --- the events -----------------------------------------------------------------------------------
    def events(self) -> list[Event]:
        req, out = self.req, []
        out.append(Event(req.published_at, "tender", "tender"))
        if req.selected_at is not None:
            out.append(Event(req.selected_at, "award", "award"))
            if req.status == RequestStatus.AWARDED and happened(req.publicity_ends_at, now()):
                out.append(Event(req.publicity_ends_at, "awardUpdate", "award-final"))
        if self.ended_at is not None:
            out.append(Event(self.ended_at, "tenderCancellation", "cancellation"))
        for order in self.orders:
            out.append(Event(order.created_at, "contract", f"contract-{order.id}"))
            if order.started_at is not None:
                out.append(Event(order.started_at, "contractUpdate", f"contract-{order.id}-active"))
            if order.delivered_at is not None:
                out.append(Event(order.delivered_at, "implementation", f"contract-{order.id}-delivery"))
            if order.accepted_at is not None:
                out.append(Event(order.accepted_at, "implementation", f"contract-{order.id}-acceptance"))
        for payment in self.payments:
            if payment.paid_at is not None:
                out.append(Event(payment.paid_at, "implementation", f"payment-{payment.id}"))
        return sorted(out, key=lambda e: as_utc(e.at))

    # --- the state as of an event ---------------------------------------------------------------------
    def release(self, event: Event) -> dict:
        req, at = self.req, event.at
        opened = as_utc(at) >= as_utc(req.bid_deadline)  # sealed before: no bid, no bidder, no count
        winner = next((b for b in self.bids if b.id == req.winner_bid_id), None)
        selected = happened(req.selected_at, at) and winner is not None
        opened = opened or selected
        parties = {req.enterprise.uscc: _org(req.enterprise, "buyer", "procuringEntity")}
        if opened:
            for bid in self.bids:
                parties.setdefault(bid.agency.uscc, _org(bid.agency, "tenderer"))
        if selected:
            parties[winner.agency.uscc]["roles"].append("supplier")
            parties[winner.agency.uscc]["roles"].append("payee")
            parties[req.enterprise.uscc]["roles"].append("payer")
        release: dict[str, Any] = {
            "ocid": ocid(req),
            "id": f"{ocid(req)}-{event.key}",
            "date": stamp(at),
            "tag": [event.tag],
            "initiationType": "tender",
            "language": "zh",
            "parties": list(parties.values()),
            "buyer": _ref(req.enterprise),
            "tender": self._tender(at, opened, selected),
        }
        if req.previous_id:
            release["relatedProcesses"] = [
                {
                    "id": "prior",
                    "relationship": ["prior"],
                    "scheme": "ocid",
                    "identifier": f"{current_app.config['OCDS_OCID_PREFIX']}-{req.previous_id}",
                }
            ]
        if opened:
            if self._bid_block is None:  # the same in every release after the opening: made once
                self._bid_block = self._bids()
            release["bids"] = self._bid_block
        if selected:
            release["awards"] = [self._award(at, winner)]
            contracts = [self._contract(o, at) for o in self.orders if happened(o.created_at, at)]
            if contracts:
                release["contracts"] = contracts
        return release

    def _tender(self, at: datetime, opened: bool, selected: bool) -> dict:
        req = self.req
        if happened(self.ended_at, at):
            status = "unsuccessful" if req.status == RequestStatus.FAILED else "cancelled"
        elif selected:
            status = "complete"
        else:
            status = "active"
        method, details = _method_words(req.selection_method)
        if req.selection_method in (
            SelectionMethod.RANDOM,
            SelectionMethod.CREDIT_SHORTLIST,
            SelectionMethod.AVERAGE_PRICE,
        ):
            if req.draw_commitment:
                details += f" 抽取承诺（种子的 SHA-256）：{req.draw_commitment}。"
            if req.draw_seed and happened(req.seed_revealed_at, at):
                details += f" 公开的种子：{req.draw_seed}。"
        item = req.service_item
        tender: dict[str, Any] = {
            "id": f"{req.id}",
            "title": req.title,
            "description": req.scope,
            "status": status,
            "value": yuan(req.ceiling_fen),
            "procurementMethod": "open",
            "procurementMethodDetails": method,
            "mainProcurementCategory": "services",
            "awardCriteria": AWARD_CRITERIA[req.selection_method],
            "awardCriteriaDetails": details,
            "submissionMethod": ["electronicSubmission"],
            "tenderPeriod": {"startDate": stamp(req.published_at), "endDate": stamp(req.bid_deadline)},
            "items": [
                {
                    "id": "1",
                    "description": item.name,
                    "classification": {
                        "scheme": "中介服务事项清单",
                        "id": item.code,
                        "description": item.name,
                    },
                    "quantity": 1,
                }
            ],
        }
        if req.floor_fen:
            tender["minValue"] = yuan(req.floor_fen)
        if req.region_code:
            tender["deliveryAddresses"] = [{"region": req.region_code, "countryName": "中国"}]
        if opened:
            tenderers = {b.agency.uscc: _ref(b.agency) for b in self.bids}
            tender["numberOfTenderers"] = len(tenderers)
            tender["tenderers"] = list(tenderers.values())
            tender["awardPeriod"] = {"startDate": stamp(req.bid_deadline)}
            if selected:
                tender["awardPeriod"]["endDate"] = stamp(req.selected_at)
        return tender

    def _bids(self) -> dict:
        details = []
        for bid in self.bids:
            detail = {
                "id": f"{bid.id}",
                "date": stamp(bid.updated_at),
                "status": BID_STATUS[bid.status],
                "tenderers": [_ref(bid.agency)],
            }
            if bid.status != BidStatus.WITHDRAWN:
                detail["value"] = yuan(bid.price_fen)
            details.append(detail)
        valid = sum(1 for b in self.bids if b.status == BidStatus.ACTIVE)
        return {
            "statistics": [
                {"id": "bids", "measure": "bids", "value": len(self.bids)},
                {"id": "validBids", "measure": "validBids", "value": valid},
            ],
            "details": details,
        }

    def _award(self, at: datetime, winner: Bid) -> dict:
        req = self.req
        if req.status == RequestStatus.FAILED and happened(self.ended_at, at):
            status = "cancelled"
        elif req.status == RequestStatus.AWARDED and happened(req.publicity_ends_at, at):
            status = "active"
        else:
            status = "pending"  # under publicity (公示): objections may still overturn it
        award = {
            "id": f"{req.id}-{req.round}",
            "title": req.title,
            "description": req.selection_reason or "",
            "status": status,
            "date": stamp(req.selected_at),
            "value": yuan(winner.price_fen),
            "suppliers": [_ref(winner.agency)],
        }
        if req.publicity_ends_at:
            award["contractPeriod"] = {"durationInDays": winner.promised_days}
        return award

    def _contract(self, order: Order, at: datetime) -> dict:
        if order.status in VOID and happened(order.updated_at, at):
            status = "cancelled"
        elif happened(order.accepted_at, at):
            status = "terminated"  # the work was accepted: the contract is fulfilled
        elif happened(order.started_at, at):
            status = "active"
        else:
            status = "pending"
        signed = next(
            (c for c in self.contracts if c.order_id == order.id and happened(c.decided_at, at)), None
        )
        contract: dict[str, Any] = {
            "id": f"{order.id}",
            "awardID": f"{self.req.id}-{self.req.round}",
            "title": self.req.title,
            "status": status,
            "value": yuan(signed.amount_fen if signed else order.amount_fen),
        }
        if signed:
            contract["dateSigned"] = stamp(signed.decided_at)
            contract["period"] = {
                "startDate": stamp(datetime.combine(signed.start_date, time(), LOCAL_TZ)),
                "endDate": stamp(datetime.combine(signed.end_date, time(23, 59, 59), LOCAL_TZ)),
            }
        elif happened(order.started_at, at):
            contract["dateSigned"] = stamp(order.started_at)
        if happened(order.started_at, at):
            contract.setdefault("period", {"startDate": stamp(order.started_at)})
            if order.due_at:
                contract["period"]["endDate"] = stamp(order.due_at)
            contract["implementation"] = self._implementation(order, at)
        return contract

    def _implementation(self, order: Order, at: datetime) -> dict:
        req = self.req
        winner = order.agency
        transactions = [
            {
                "id": f"{p.id}",
                "source": "",
                "date": stamp(p.paid_at),
                "value": yuan(p.amount_fen),
                "payer": _ref(req.enterprise),
                "payee": _ref(winner),
            }
            for p in self.payments
            if p.order_id == order.id and happened(p.paid_at, at)
        ]
        for t in transactions:
            t.pop("source")
        delivered = happened(order.delivered_at, at)
        accepted = happened(order.accepted_at, at)
        milestones = [
            {
                "id": "delivery",
                "title": "成果交付",
                "type": "delivery",
                "status": "met" if delivered else "scheduled",
                **({"dueDate": stamp(order.due_at)} if order.due_at else {}),
                **({"dateMet": stamp(order.delivered_at)} if delivered else {}),
            },
            {
                "id": "acceptance",
                "title": "业主验收",
                "type": "assessment",
                "code": "acceptance",
                "status": "met" if accepted else "scheduled",
                **({"dateMet": stamp(order.accepted_at)} if accepted else {}),
            },
        ]
        return {"transactions": transactions, "milestones": milestones}
