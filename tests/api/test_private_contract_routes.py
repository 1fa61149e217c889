"""On every GET route, as each of the five viewers: the signed contract's file and the payee's bank account stay
with the people they belong to. The contract file opens only for its parties (the owner and the rival) and staff;
the account number shows only to the rival itself, the owner it may be paid by, and the administrator."""

from __future__ import annotations

from tests import market, routes

ACCOUNT_VIEWERS = {"owner", "rival", "admin"}
FILE_ROUTES = {"order_contracts.contract_file", "contracts-api.contract_file"}


def test_contract_files_and_bank_accounts_stay_private_on_every_route(route_walk):
    m = route_walk.m
    leaks, files, accounts = [], {}, set()
    for viewer, url, page in route_walk.items():
        if market.BANK_ACCOUNT in page.text:
            accounts.add(viewer)
            if viewer not in ACCOUNT_VIEWERS:
                leaks.append(f"{viewer} GET {url.path}: the bank account")
        if url.endpoint in FILE_ROUTES:
            if url.args["order_id"] == m.running_order_id:
                files[(viewer, url.endpoint)] = page.status
            else:  # another order's path with this contract's id
                assert page.status in (302, 401, 404), (viewer, url.path, page.status)
        elif url.endpoint.startswith("contracts") and "签署合同.pdf" in page.text:
            leaks.append(f"{viewer} GET {url.path}: the contract file's name")
    assert not leaks, "\n".join(leaks)
    assert accounts == ACCOUNT_VIEWERS  # the needle is found where it belongs
    for endpoint in FILE_ROUTES:
        assert {v for v in routes.VIEWERS if files[(v, endpoint)] == 200} == {"owner", "rival", "admin"}, (
            files
        )
    # The public 合同公告 lists the signed contract (parties, amount, dates).
    public = next(u for u in route_walk.urls if u.endpoint == "contracts.index")
    assert market.CONTRACT_CODE in route_walk.pages[("anonymous", public)].text
