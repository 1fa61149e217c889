"""The market's domain events: what happened, announced by the service that did it.

A service sends an event after it changed state (and flushed); listeners that write to the database — the fee
audit, statistics, the order desk — run inside the same transaction, so the boundary's single commit keeps
them together or rolls them back together. Effects outside the database run only once the transaction has
committed: the search index and uploaded files follow the session's own commit hooks (search/hooks.py,
common/uploads.py).

Every event is sent with the object it is about as the sender and keyword arguments named below; `actor` is the
user who caused it (None for the clock). docs/architecture.md lists who listens to what.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# --- accounts --------------------------------------------------------------------------------------------
# sender: User; org_name; uscc. A listener may refuse the registration by raising Invalid: for an agency
# account the agencies feature checks the credit code and creates the Agency (auth sits below agencies).
account_registered = _signals.signal("account-registered")

# --- requests, bidding, selection ------------------------------------------------------------------------
request_published = _signals.signal("request-published")  # sender: ServiceRequest; actor (public now)
# Announcement review (MARKET_REVIEW_ANNOUNCEMENTS): submitted to the operator, or returned with an opinion.
# Approval sends request_published. sender: ServiceRequest; actor; returned also opinion: str
request_submitted_for_review = _signals.signal("request-submitted-for-review")
request_returned = _signals.signal("request-returned")
bidding_closed = _signals.signal("bidding-closed")  # sender: ServiceRequest; actor  (bids are open now)
winner_selected = _signals.signal("winner-selected")  # sender: ServiceRequest; actor; reselected: bool
request_failed = _signals.signal("request-failed")  # sender: ServiceRequest; actor  (流标)
publicity_ended = _signals.signal("publicity-ended")  # sender: ServiceRequest; winner: Bid; actor
winner_withdrawn = _signals.signal("winner-withdrawn")  # sender: ServiceRequest; order; why; actor

# --- orders ----------------------------------------------------------------------------------------------
order_created = _signals.signal("order-created")  # sender: Order; actor
order_started = _signals.signal("order-started")  # sender: Order; actor
order_declined = _signals.signal("order-declined")  # sender: Order; reason: str; actor
order_light_changed = _signals.signal("order-light-changed")  # sender: Order; before: str; after: str
order_delivered = _signals.signal("order-delivered")  # sender: Order; actor
order_accepted = _signals.signal("order-accepted")  # sender: Order; actor; automatic: bool
contract_amended = _signals.signal("contract-amended")  # sender: Order; before_fen: int; after_fen: int
# The signed contract (orders/contracts.py): uploaded by one party, confirmed (the order starts: order_started
# follows) or rejected by the other; extensions (延期) asked by the agency and decided by the enterprise.
contract_uploaded = _signals.signal("contract-uploaded")  # sender: Contract; actor
contract_confirmed = _signals.signal("contract-confirmed")  # sender: Contract; actor
contract_rejected = _signals.signal("contract-rejected")  # sender: Contract; reason: str; actor
extension_requested = _signals.signal("extension-requested")  # sender: Extension; actor
extension_decided = _signals.signal("extension-decided")  # sender: Extension; approved: bool; actor

# --- money, ratings, members, stores, fees ---------------------------------------------------------------
money_received = _signals.signal("money-received")  # sender: Payment; delta_fen: int (negative: refund)
rating_given = _signals.signal("rating-given")  # sender: Rating; actor
member_status_changed = _signals.signal("member-status-changed")  # sender: Agency; before; after; actor
offer_changed = _signals.signal("offer-changed")  # sender: Offer; old_high_fen: int | None
violation_changed = _signals.signal("violation-changed")  # sender: FeeFlag; delta: +1 confirmed, -1 undone

# --- supervision: credit, complaints, inspections (issue 11) -----------------------------------------------------
# Credit (marketplace/credit/) records a dated, itemised CreditEvent for what it hears; these say what it decided.
credit_event_recorded = _signals.signal("credit-event-recorded")  # sender: CreditEvent; actor
credit_grade_changed = _signals.signal(
    "credit-grade-changed"
)  # sender: agency_id (int); before: str; after: str
# A red (守信) or black (失信) list entry comes into force / is lifted (expiry by the clock, repair, a decision).
# sender: the list entry; agency_id: int; kind: "red" | "black"; actor. A blacklisted agency's pending win falls to
# the next-ranked bid (requests and orders listen).
credit_listed = _signals.signal("credit-listed")
credit_unlisted = _signals.signal("credit-unlisted")  # sender: the entry; agency_id; kind; why: str; actor
credit_appeal_decided = _signals.signal("credit-appeal-decided")  # sender: appeal; upheld: bool; actor
credit_repair_decided = _signals.signal("credit-repair-decided")  # sender: repair; approved: bool; actor

# Complaints and reports (marketplace/complaints/). sender: Complaint; actor
complaint_filed = _signals.signal("complaint-filed")
complaint_status_changed = _signals.signal("complaint-status-changed")  # + before: str; after: str
complaint_answered = _signals.signal("complaint-answered")  # the respondent's one answer
# Decided (upheld or dismissed). An upheld complaint carries its consequences, each applied by the feature that
# owns it: "credit" (credit records an event against agency_id with `points`), "suspend" (agencies suspends
# agency_id), "reselect" (requests: the next-ranked bid of request_id takes over), "reannounce" (requests:
# request_id fails so that it is announced again). sender: Complaint; upheld: bool; consequences: list[str];
# agency_id: int | None; request_id: int | None; points: int | None; actor
complaint_decided = _signals.signal("complaint-decided")

# Random inspections (marketplace/inspections/). sender: InspectionTask; actor
inspection_drawn = _signals.signal("inspection-drawn")
inspection_closed = _signals.signal("inspection-closed")  # the results are public now
# One failed checklist item found when the task closes (credit records it). sender: the finding;
# agency_id: int; item: str (the checklist item's words); source: "department" | "market"; evidence: str (a URL
# path to the public result); actor
inspection_item_failed = _signals.signal("inspection-item-failed")

# --- added by the credit work --------------------------------------------------------------------------------------
# The approving department rated an accepted order (双评价; ratings). sender: DepartmentRating; actor
department_rating_given = _signals.signal("department-rating-given")
# --- added for notifications (issue 12) ---------------------------------------------------------------------------
# Objections (requests/objections.py). sender: Objection; actor. Decided: upheld: bool
objection_lodged = _signals.signal("objection-lodged")
objection_decided = _signals.signal("objection-decided")
# Offline transfers (payments): recorded by the enterprise, confirmed or rejected by the agency. sender: Payment;
# actor; rejected also reason: str
payment_registered = _signals.signal("payment-registered")
payment_confirmed = _signals.signal("payment-confirmed")
payment_rejected = _signals.signal("payment-rejected")
# --- added for invitations to quote (issue 14) ----------------------------------------------------------------------
# An agency invited to quote (邀请报价) on a request that has just gone public (requests/invitations.py).
# sender: RequestInvitation; request: ServiceRequest; agency_id: int; actor
request_invited = _signals.signal("request-invited")
# --- added for the kept fee figures at scale (issue 15) ------------------------------------------------------------
# A department edited a service item's rules (catalogue/services.py edit_item). sender: ServiceItem; before: dict
# (the versioned fields before the edit); actor
service_item_edited = _signals.signal("service-item-edited")
