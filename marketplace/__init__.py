"""中介超市, an intermediary-service marketplace.

The features stand in layers, lowest first; each imports only from those before it (import-linter checks this,
with the contracts in pyproject.toml):

    common, events, extensions, config → audit → regions → auth → catalogue → stats (figures, read only) → agencies
    → credit → orders → requests (bidding included) → payments | ratings | complaints | inspections → fees
    → tally (stats' running totals) → search | notifications → home | supervision | reports | opendata
    → chronograph → demo → cli → app, models

A lower feature reaches a higher one only through a domain event (events.py) — e.g. auth announces
`account_registered` and agencies opens the membership; orders announces `order_declined` and the request passes
the award on — or through the one small registry orders/schemas.py ORDER_FACTS (payments adds its ledger to an
order's JSON). Pages that compose several features live high up, in home/ and supervision/.
"""
