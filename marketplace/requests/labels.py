"""The requests feature's vocabularies: the labels every page and message uses for a request's statuses, the
selection methods, funding, bids and their versions, objections and the composite weights."""

from flask_babel import lazy_gettext as _l

from marketplace.requests.bids import BidStatus
from marketplace.requests.draw import COEFFICIENTS
from marketplace.requests.models import (
    Funding,
    ObjectionGround,
    ObjectionStatus,
    RequestStatus,
    ReviewAction,
    SelectionMethod,
)

STATUS_LABELS = {
    RequestStatus.DRAFT: _l("Draft"),
    RequestStatus.REVIEW: _l("Under review"),
    RequestStatus.RETURNED: _l("Returned for changes"),
    RequestStatus.BIDDING: _l("Taking bids"),
    RequestStatus.EVALUATING: _l("Bids opened"),
    RequestStatus.PUBLICITY: _l("Result under publicity"),
    RequestStatus.AWARDED: _l("Awarded"),
    RequestStatus.FAILED: _l("Failed (no award)"),
    RequestStatus.CANCELLED: _l("Cancelled"),
}
METHOD_LABELS = {
    SelectionMethod.DIRECT: _l("Direct selection"),
    SelectionMethod.LOWEST_PRICE: _l("Lowest-price bidding"),
    SelectionMethod.RANDOM: _l("Random draw"),
    SelectionMethod.COMPOSITE: _l("Composite evaluation"),
    SelectionMethod.AVERAGE_PRICE: _l("Average-price method"),
    SelectionMethod.CREDIT_SHORTLIST: _l("Credit-first shortlist"),
}
METHOD_HELP = {
    SelectionMethod.DIRECT: _l(
        "After the deadline the enterprise picks one of the valid bids itself and records why; "
        "the reason is published with the result."
    ),
    SelectionMethod.LOWEST_PRICE: _l(
        "The lowest valid price wins. Equal prices are separated by the verifiable draw."
    ),
    SelectionMethod.RANDOM: _l(
        "The winner is drawn at random among the valid bids. The draw is verifiable: the SHA-256 of a secret "
        "seed is published with the announcement and the seed is revealed at the draw."
    ),
    SelectionMethod.COMPOSITE: _l(
        "Every bid is scored on price, rating, on-time rate and credit with weights published in advance; "
        "the highest score wins."
    ),
    SelectionMethod.AVERAGE_PRICE: _l(
        "The highest and the lowest bid are dropped and the rest averaged; the average times a coefficient "
        "drawn verifiably from %(low)d%% to %(high)d%% is the reference price, and the bid closest to it wins.",
        low=COEFFICIENTS[0],
        high=COEFFICIENTS[-1],
    ),
    SelectionMethod.CREDIT_SHORTLIST: _l(
        "The bidders with the best credit scores form a shortlist; a verifiable draw picks the winner from it."
    ),
}
FUNDING_LABELS = {Funding.FISCAL: _l("Fiscal funds"), Funding.SOCIAL: _l("Social (private) funds")}
BID_LABELS = {
    BidStatus.ACTIVE: _l("Valid"),
    BidStatus.WITHDRAWN: _l("Withdrawn"),
    BidStatus.INVALID: _l("Invalid"),
}
OBJECTION_LABELS = {
    ObjectionStatus.OPEN: _l("Being handled"),
    ObjectionStatus.UPHELD: _l("Upheld"),
    ObjectionStatus.DISMISSED: _l("Dismissed"),
}
GROUND_LABELS = {
    ObjectionGround.RULES: _l("The result does not follow the selection rules"),
    ObjectionGround.QUALIFICATION: _l("The selected agency does not meet the qualification conditions"),
    ObjectionGround.CALCULATION: _l("A price or a score was calculated wrongly"),
    ObjectionGround.PROCEDURE: _l("The selection procedure broke the rules"),
    ObjectionGround.OTHER: _l("Other ground"),
}
REVISION_LABELS = {
    "submit": _l("First submission"),
    "revise": _l("Revision"),
    "withdraw": _l("Withdrawal"),
    "resubmit": _l("Resubmission"),
}
WEIGHT_LABELS = {
    "price": _l("Price"),
    "rating": _l("Rating"),
    "on_time": _l("On-time rate"),
    "credit": _l("Credit score"),
}
REVIEW_LABELS = {
    ReviewAction.SUBMIT: _l("Submitted for review"),
    ReviewAction.APPROVE: _l("Approved and published"),
    ReviewAction.RETURN: _l("Returned"),
}
