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


# Two announcements the public must not see on any route (tests/routes.py `walk`, test_sealed_routes.py).
REVIEW_TITLE = "审核中：连云港港徐圩港区液体散货码头工程环境影响评价"
REVIEW_CODE = "2026-320700-55-02-777001"
RETURNED_TITLE = "已退回：灌河口航道疏浚工程海域使用论证"
RETURNED_CODE = "2026-320700-48-01-777002"
OPINION = "资质要求与事项不符，请删除指定品牌的表述"


def unpublished_requests(m) -> list[int]:
    """The ids of two requests of tests/market.py's owner: one submitted and under review, one returned with an
    opinion (review must be on)."""
    from marketplace.auth.models import User
    from marketplace.requests import review
    from marketplace.requests import services as requests

    owner = db.session.scalar(select(User).where(User.email == m.owner_email))
    ids = []
    for title, code in ((REVIEW_TITLE, REVIEW_CODE), (RETURNED_TITLE, RETURNED_CODE)):
        req = requests.create_request(owner, f.request_data(title=title, project_code=code), publish=False)
        review.attach_approval_document(owner, req.id, io.BytesIO(f.PDF), "立项批复.pdf")
        requests.publish_request(owner, req.id)
        ids.append(req.id)
    db.session.commit()
    review.return_request(f.admin(), ids[1], OPINION)
    db.session.commit()
    return ids


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
