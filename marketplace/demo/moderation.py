"""Demo cases for the operators' ratings moderation list: two poor ratings whose agencies reported the comment
(one waits for a decision, one the operator hid with a reason) — played through the services, so each step is
in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.extensions import db
from marketplace.ratings import moderation
from marketplace.ratings import services as ratings
from marketplace.ratings.models import Rating

OPERATOR_EMAIL = "yunying@demo.cn"
REPORTS = (
    "评价与事实不符：成果已在合同约定期限内提交并通过验收，延期系业主补充资料所致，相关往来函件可供核查。",
    "评价内容含人身攻击，点名辱骂我司项目负责人，请予以处理。",
)
# The second case's comment as its author wrote it (the demo's own ratings are all civil).
ABUSIVE = "这家公司就是骗子，项目负责人王某满嘴跑火车，一群垃圾，谁用谁倒霉！"
HIDE_REASON = "评价内容含人身攻击和侮辱性言辞，依据评价管理规则隐藏文字内容，评分保留。"


def load_moderation_cases() -> dict[str, int]:
    operator = db.session.scalar(select(User).where(User.email == OPERATOR_EMAIL))
    poor = db.session.scalars(
        select(Rating)
        .where(
            Rating.overall <= 2,
            Rating.comment.is_not(None),
            Rating.reply.is_(None),
            Rating.hidden_reason.is_(None),
        )
        .order_by(Rating.overall, Rating.id)
        .limit(len(REPORTS))
    ).all()
    for n, (rating, reason) in enumerate(zip(poor, REPORTS, strict=False)):
        if n == 1:
            rating.comment = ABUSIVE
        moderation.report_comment(rating.order.agency.user, rating.id, reason)
        if n == 1 and operator is not None:
            ratings.hide_comment(operator, rating.id, HIDE_REASON)
    return {"ratings_reported": len(poor)}
