"""Staff accounts: `users create-staff` scopes each to a region (and a department to its trade)."""

from marketplace.auth.models import Role, User
from marketplace.auth.policy import IsOperator, acts_in
from marketplace.extensions import db
from tests import factories


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["users", "create-staff", *args])


def test_create_staff_scopes_the_account(app):
    out = _run(
        app, "op@example.cn", "--password", factories.PASSWORD, "--role", "operator", "--region", "320500"
    )
    assert out.exit_code == 0, out.output
    user = db.session.scalar(db.select(User).where(User.email == "op@example.cn"))
    assert user.role == Role.OPERATOR and user.region_code == "320500"
    assert acts_in(user, Role.OPERATOR, "320506")  # Wuzhong is in Suzhou
    assert not acts_in(user, Role.OPERATOR, "320100")  # Nanjing is not
    assert not acts_in(user, Role.SUPERVISOR, "320506")  # an operator is not a supervisor
    assert IsOperator(user, "320500") and not IsOperator(user, "320200")


def test_department_is_scoped_to_its_trade(app):
    out = _run(
        app,
        "dep@example.cn",
        "--password",
        factories.PASSWORD,
        "--role",
        "department",
        "--department",
        "生态环境局",
    )
    assert out.exit_code == 0, out.output
    user = db.session.scalar(db.select(User).where(User.email == "dep@example.cn"))
    assert user.region_code is None  # the whole market area
    assert acts_in(user, Role.DEPARTMENT, "320506", "生态环境局")
    assert not acts_in(user, Role.DEPARTMENT, "320506", "自然资源和规划局")


def test_bad_scope_is_refused_and_creates_nothing(app):
    before = db.session.scalar(db.select(db.func.count()).select_from(User))
    outside = _run(
        app, "x@example.cn", "--password", factories.PASSWORD, "--role", "operator", "--region", "330482"
    )
    assert outside.exit_code != 0, outside.output
    nodept = _run(app, "y@example.cn", "--password", factories.PASSWORD, "--role", "department")
    assert nodept.exit_code != 0
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == before


def test_the_administrator_holds_every_role(app):
    admin = factories.admin()
    for role in (Role.OPERATOR, Role.DEPARTMENT, Role.SUPERVISOR):
        assert acts_in(admin, role, "320506", "任何部门")


def test_staff_reach_the_staff_area_but_no_one_else(client, app):
    _run(app, "sup@example.cn", "--password", factories.PASSWORD, "--role", "supervisor")
    enterprise = factories.user("enterprise")
    factories.login(client, enterprise)
    assert client.get("/api/v1/admin/deadlines").status_code in (401, 403)
    client.get("/auth/logout")
    sup = db.session.scalar(db.select(User).where(User.email == "sup@example.cn"))
    assert factories.token(client, sup)  # staff log in like anyone else
