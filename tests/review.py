"""Announcement review in tests: the suite runs with review and the fiscal threshold off (tests/conftest.py);
the tests about them turn them on with the `review_on` fixture and use these helpers."""

from __future__ import annotations

import io

from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from tests import factories as f

THRESHOLD = 100_000_000  # 100万元, the default


def plain_item() -> ServiceItem:
    """An item that serves no project approval (特种设备检验: a registration of equipment)."""
    return db.session.scalar(select(ServiceItem).where(ServiceItem.needs_project_approval.is_(False)))


def submitted_request(enterprise=None, **over):
    """A request submitted for review with its approval document (review must be on)."""
    from marketplace.requests import review
    from marketplace.requests import services as requests

    enterprise = enterprise or f.user("enterprise")
    req = requests.create_request(enterprise, f.request_data(**over), publish=False)
    review.attach_approval_document(enterprise, req.id, io.BytesIO(f.PDF), "立项批复.pdf")
    requests.publish_request(enterprise, req.id)
    db.session.commit()
    return req


def assert_demo_reviews() -> None:
    """The demo passed every announcement through review: each published one was submitted and approved (with
    its approval document where its item needs one), one waits, one was returned with an opinion."""
    from sqlalchemy import func

    from marketplace.requests.models import RequestReview, RequestStatus, ReviewAction, ServiceRequest

    published = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.published_at.is_not(None))
    ).all()
    assert len(published) > 100
    for req in published:
        actions = [r.action for r in req.reviews]
        assert actions[-2:] == [ReviewAction.SUBMIT, ReviewAction.APPROVE], (req.id, actions)
        assert req.reviews[-1].at == req.published_at and req.reviews[-2].at <= req.published_at
        assert req.approval_document or not req.service_item.needs_project_approval, req.id
    assert db.session.scalar(select(func.count()).where(ServiceRequest.status == RequestStatus.REVIEW)) == 1
    returned = db.session.scalar(
        select(ServiceRequest).where(ServiceRequest.status == RequestStatus.RETURNED)
    )
    assert returned.last_return.opinion and "指定品牌" in returned.last_return.opinion
    assert db.session.scalar(select(func.count()).select_from(RequestReview)) > 2 * len(published)
