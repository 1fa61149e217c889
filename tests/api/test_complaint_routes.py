"""On every GET route, as each of the five viewers: a complainant's contact details stay with staff and the
complainant; the complaint itself is seen by its two sides and staff only, and its files likewise."""

from __future__ import annotations

from tests import market, routes

CONTACT_VIEWERS = {"owner", "admin"}  # the complainant and staff; never the respondent (the rival)
SIDES = {"owner", "rival", "admin"}
COMPLAINT_ROUTES = {
    "complaints.detail",
    "complaints.complaint_file",
    "complaints-api.get_complaint",
    "complaints-api.complaint_file",
}


def test_complaints_and_their_contact_stay_private_on_every_route(route_walk):
    leaks, seen, contact = [], {}, set()
    for viewer, url, page in route_walk.items():
        if market.COMPLAINT_PHONE in page.text:
            contact.add(viewer)
            if viewer not in CONTACT_VIEWERS:
                leaks.append(f"{viewer} GET {url.path}: the complainant's telephone")
        if url.endpoint in COMPLAINT_ROUTES:
            seen.setdefault((url.endpoint, viewer), set()).add(page.status)
    assert not leaks, "\n".join(leaks)
    assert contact == CONTACT_VIEWERS  # the needle is found where it belongs
    for endpoint in COMPLAINT_ROUTES:
        allowed = {v for v in routes.VIEWERS if seen[(endpoint, v)] == {200}}
        assert allowed == SIDES, (endpoint, {k: v for k, v in seen.items() if k[0] == endpoint})
