"""Registering creates the account's organisation: an enterprise by auth itself, an agency's draft membership by
the agencies feature when auth announces `account_registered` (auth sits below agencies). A credit code already
taken by an organisation of the same kind refuses the registration as a whole: no account is left behind."""

import pytest
from sqlalchemy import func, select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import Enterprise, User
from marketplace.extensions import db
from tests import factories as f

TAKEN = "使用该统一社会信用代码的单位已注册。"


def _register(client, role: str, email: str, uscc: str):
    return client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": "abc12345",
            "role": role,
            "org_name": "连云港某某咨询有限公司",
            "uscc": uscc,
        },
        headers={"Accept-Language": "zh"},
    )


def _users(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_an_agency_account_opens_a_draft_membership(client):
    uscc = f.new_uscc()
    r = _register(client, "agency", "jigou-new@example.cn", uscc)
    assert r.status_code == 201, r.get_json()
    agency = db.session.scalar(select(Agency).where(Agency.uscc == uscc))
    assert agency is not None and agency.status == AgencyStatus.DRAFT
    assert agency.user.email == "jigou-new@example.cn" and agency.name == "连云港某某咨询有限公司"


@pytest.mark.parametrize(("role", "model"), [("agency", Agency), ("enterprise", Enterprise)])
def test_a_taken_credit_code_refuses_the_whole_registration(client, role, model):
    uscc = f.new_uscc()
    assert _register(client, role, f"first-{role}@example.cn", uscc).status_code == 201
    r = _register(client, role, f"second-{role}@example.cn", uscc)
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"uscc": [TAKEN]}
    assert _users(f"second-{role}@example.cn") == 0
    assert db.session.scalar(select(func.count()).select_from(model).where(model.uscc == uscc)) == 1
