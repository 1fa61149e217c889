"""On every GET route, as each of the five viewers: the signed contract's file and the payee's bank account stay
with the people they belong to. The contract file opens only for its parties (the owner and the rival) and staff;
the account number shows only to the rival itself, the owner it may be paid by, and the administrator."""

from __future__ import annotations

from tests import market, routes

ACCOUNT_VIEWERS = {"owner", "rival", "admin"}
FILE_ROUTES = {"order_contracts.contract_file", "contracts-api.contract_file"}


def test_contract_files_and_bank_accounts_stay_private_on_every_route(app):
    m = market.build()
    urls = routes.build_urls(app, m)
    browser = routes.Browser(app, m)
    leaks, files, accounts = [], {}, set()
    for url in urls:
        for viewer in routes.VIEWERS:
            r = browser.get(viewer, url)
            text = routes.readable(r)
            if market.BANK_ACCOUNT in text:
                accounts.add(viewer)
                if viewer not in ACCOUNT_VIEWERS:
                    leaks.append(f"{viewer} GET {url.path}: the bank account")
            if url.endpoint in FILE_ROUTES:
                if url.args["order_id"] == m.running_order_id:
                    files[(viewer, url.endpoint)] = r.status_code
                else:  # another order's path with this contract's id
                    assert r.status_code in (302, 401, 404), (viewer, url.path, r.status_code)
            elif url.endpoint.startswith("contracts") and "签署合同.pdf" in text:
                leaks.append(f"{viewer} GET {url.path}: the contract file's name")
    assert not leaks, "\n".join(leaks)
    assert accounts == ACCOUNT_VIEWERS  # the needle is found where it belongs
    for endpoint in FILE_ROUTES:
        assert {v for v in routes.VIEWERS if files[(v, endpoint)] == 200} == {"owner", "rival", "admin"}, (
            files
        )
    # The public 合同公告 lists the signed contract (parties, amount, dates).
    public = browser.get("anonymous", next(u for u in urls if u.endpoint == "contracts.index"))
    assert market.CONTRACT_CODE in routes.readable(public)
