"""The supervision features tell the people concerned, through the real flows (not stand-in senders): a complaint
filed, accepted, answered and upheld with a credit deduction; the credit event and the grade change it causes; a
random inspection drawn and closed."""

from __future__ import annotations

import io

from sqlalchemy import select

from marketplace.complaints import services as complaints
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests import factories as f

TEXT = "该机构在合同价款之外另行收取加急费两万元，未开具发票，请主管部门核查处理。"


def _told(user_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        )
    )


def _links(user_id: int) -> list[str]:
    """The links of what the user was told about complaints, credit and inspections (not, e.g., its admission)."""
    prefixes = ("/complaints/", "/agency/credit", "/inspections/")
    return [n.link for n in _told(user_id) if (n.link or "").startswith(prefixes)]


def test_a_complaint_and_its_credit_consequence_reach_both_parties():
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03")
    supervisor = f.staff("supervisor")
    db.session.commit()
    c = complaints.file_complaint(
        enterprise, {"target_type": "agency", "target_id": agency.agency.id, "category": "fee", "text": TEXT}
    )
    db.session.commit()
    link = f"/complaints/{c.number}"
    assert _links(enterprise.id) == []  # the complainant filed it: nobody is told of their own act
    assert _links(agency.id) == []  # the respondent hears nothing before acceptance (it may not read it yet)

    complaints.accept(supervisor, c.id)
    db.session.commit()
    assert _links(agency.id) == [link] and _links(enterprise.id) == [link]

    complaints.answer(
        agency, c.id, "加急费系业主书面同意，附确认单，请核查。", [(io.BytesIO(f.PDF), "确认单.pdf")]
    )
    db.session.commit()
    assert _links(enterprise.id) == [link, link]  # told of the answer

    before = len(_told(agency.id))
    complaints.uphold(supervisor, c.id, "经核查投诉属实，责令退还加急费并扣减信用分。", ["credit"], 10)
    db.session.commit()
    new = _told(agency.id)[before:]
    kinds = {n.link for n in new}
    assert link in kinds  # the outcome
    assert "/agency/credit" in kinds  # the credit event and the grade change (B → C)
    assert any("C" in n.text and "B" in n.text for n in new if n.link == "/agency/credit")
    assert _links(enterprise.id) == [link, link, link]
    assert not [n for n in _told(supervisor.id)]  # the person who acted is never told of their own act


def test_drawn_agencies_hear_of_the_inspection_and_of_its_published_results():
    from marketplace.inspections import register
    from marketplace.inspections import services as inspections

    a, b = f.active_agency("C03"), f.active_agency("C03")
    supervisor = f.staff("supervisor")
    db.session.commit()
    for n, name in enumerate(("钱卫东", "孙丽华")):
        register.add_inspector(
            supervisor, {"name": name, "department": "市生态环境局", "certificate_no": f"3207009{n:04d}"}
        )
    task = inspections.create_task(
        supervisor,
        {
            "title": "环评机构双随机抽查",
            "category_id": f.category("C03").id,
            "agency_count": 2,
            "inspectors_per_agency": 1,
            "checklist": ["资质有效", "收费合规"],
        },
    )
    db.session.commit()
    inspections.draw_task(supervisor, task.id)
    db.session.commit()
    link = f"/inspections/{task.id}"
    assert _links(a.id) == [link] and _links(b.id) == [link]
    for target in task.targets:
        results = [{"passed": True}, {"passed": target.agency_id != a.agency.id, "notes": "收费高于公示价"}]
        inspections.record_findings(supervisor, task.id, target.agency_id, {"results": results})
    inspections.close_task(supervisor, task.id)
    db.session.commit()
    assert _links(b.id) == [link, link]
    assert _links(a.id)[:2] == [link, link] and "/agency/credit" in _links(a.id)  # its failed item counts


def test_the_respondent_to_do_list_holds_an_accepted_complaint_until_answered(app):
    from marketplace.home.todo import todo_for

    def waiting(user) -> int:
        with app.test_request_context():
            return sum(t.count for t in todo_for(user) if t.kind == "complaints_to_answer")

    enterprise, agency, supervisor = f.user("enterprise"), f.active_agency("C03"), f.staff("supervisor")
    db.session.commit()
    c = complaints.file_complaint(
        enterprise, {"target_type": "agency", "target_id": agency.agency.id, "category": "fee", "text": TEXT}
    )
    db.session.commit()
    assert waiting(agency) == 0  # not accepted yet: the respondent may not read it
    complaints.accept(supervisor, c.id)
    db.session.commit()
    assert waiting(agency) == 1 and waiting(enterprise) == 0  # the complainant has nothing to answer
    assert [x.id for x in complaints.to_answer(agency)] == [c.id]
    complaints.answer(
        agency, c.id, "加急费系业主书面同意，附确认单，请核查。", [(io.BytesIO(f.PDF), "确认单.pdf")]
    )
    db.session.commit()
    assert waiting(agency) == 0 and complaints.to_answer(agency) == []
