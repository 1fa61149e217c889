"""Who may take a service item: the one qualification rule, used by bidding, the re-check when bidding closes
and at selection, the comparison of bids and the stores.

An item either requires kinds of the register, each at a minimum grade (`ServiceItem.requirements`), or says the
rules require none (`requires_no_qualification`: every member of its category may take it). An item that is
neither (added since and not yet classified by its department) keeps the old rule: some valid qualification that
covers its category. A request may raise the grade (`required_level`) for the item's graded kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from marketplace.agencies.models import LEVEL_RANK, Agency, Qualification, QualificationLevel
from marketplace.catalogue.models import QualificationKind, ServiceItem


@dataclass(frozen=True)
class Need:
    """One kind the item requires, at a grade, and the agency's best matching qualification if any."""

    kind: QualificationKind
    min_level: QualificationLevel
    found: Qualification | None = None  # the agency's best qualification of this kind (may fall short)

    @property
    def met(self) -> bool:
        return self.found is not None and LEVEL_RANK[self.found.level] >= LEVEL_RANK[self.min_level]


@dataclass(frozen=True)
class Eligibility:
    """The outcome: `ok`, the needs met (`held`) and not met (`missing`); `open_to_category` when the rules
    require no qualification; `legacy` when the item is not classified yet (the category rule was applied)."""

    ok: bool
    held: list[Need] = field(default_factory=list)
    missing: list[Need] = field(default_factory=list)
    open_to_category: bool = False
    legacy: bool = False


def counts(q: Qualification, day: date) -> bool:
    """A qualification counts once its certificate scan is on file and while it is in force on `day`."""
    return q.file_key is not None and q.valid_until >= day


def needs_of(item: ServiceItem, required_level: QualificationLevel | None = None) -> list[tuple]:
    """(kind, minimum grade) for each kind the item requires; a request's grade raises it for graded kinds."""
    out = []
    for req in item.requirements:
        level = req.min_level
        if (
            required_level is not None
            and required_level.value in req.kind.levels
            and LEVEL_RANK[required_level] > LEVEL_RANK[level]
        ):
            level = required_level
        out.append((req.kind, level))
    return out


def eligible_for(
    agency: Agency, item: ServiceItem, day: date, required_level: QualificationLevel | None = None
) -> Eligibility:
    """Whether the agency's qualifications let it take `item` on `day` (its category membership and status are
    the caller's concern)."""
    valid = [q for q in agency.qualifications if counts(q, day)]
    if item.requirements:
        held, missing = [], []
        for kind, level in needs_of(item, required_level):
            mine = [q for q in valid if q.kind_id == kind.id]
            best = max(mine, key=lambda q: LEVEL_RANK[q.level], default=None)
            need = Need(kind, level, best)
            (held if need.met else missing).append(need)
        return Eligibility(not missing, held, missing)
    if item.requires_no_qualification:
        return Eligibility(True, open_to_category=True)
    # Not classified yet: the category rule of the first release.
    covering = [q for q in valid if q.category_id in (item.category_id, None)]
    if required_level is not None:
        need = LEVEL_RANK[required_level]
        covering = [q for q in covering if q.category_id == item.category_id and LEVEL_RANK[q.level] >= need]
    return Eligibility(bool(covering), legacy=True)


def level_allowed(kind: QualificationKind, level: QualificationLevel) -> bool:
    return level.value in kind.levels
