"""The life of a random inspection (双随机、一公开), top to bottom.

    create_task      a supervisor (for the market) or a department (for its trade) plans it: scope, checklist;
                     a secret seed is stored and only its SHA-256 commitment published
    draw_task        reveals the seed and draws the agencies, then each agency's inspectors (inspections/rules.py)
    record_findings  the task's staff record each drawn agency's checklist results; add_evidence keeps files
    close_task       once every agency has findings: the results are public, and each failed item is announced
                     (events.inspection_item_failed) for credit to record

Who runs a task: a "market" task the supervisors acting over its region, a "department" task that department
(its trade must be one of the category's) acting over its region. A task without a region covers the whole market
area, so only accounts over the whole area run it.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from marketplace import events
from marketplace.agencies.models import Agency, AgencyStatus, agency_category
from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.policy import acts_in, located, scope_condition
from marketplace.auth.services import require_user
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common import uploads
from marketplace.common.areas import overlaps
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.extensions import db
from marketplace.inspections import rules
from marketplace.inspections.models import (
    InspectionFinding,
    InspectionTarget,
    InspectionTask,
    Inspector,
    TaskStatus,
)
from marketplace.regions import services as regions
from marketplace.requests import draw as commit_reveal

UPLOAD_KIND = "inspections"
SOURCE_MARKET, SOURCE_DEPARTMENT = "market", "department"
MAX_AGENCIES = 500
MAX_ITEMS = 30


def result_path(task_id: int, agency_id: int) -> str:
    """The public result of one agency in one task (the evidence link credit events carry)."""
    return f"/inspections/{task_id}#agency-{agency_id}"


def category_departments(category_id: int) -> set[str]:
    """The departments whose trade a category is (those of its service items)."""
    rows = db.session.scalars(
        select(ServiceItem.department).where(
            ServiceItem.category_id == category_id, ServiceItem.department.is_not(None)
        )
    )
    return set(rows)


def may_run(actor, task: InspectionTask) -> bool:
    """May `actor` draw, record findings and close this task?"""
    if task.source == SOURCE_DEPARTMENT:
        return acts_in(actor, Role.DEPARTMENT, located(task.region_code), task.department or "")
    return acts_in(actor, Role.SUPERVISOR, located(task.region_code))


def may_plan(actor) -> bool:
    return acts_in(actor, Role.SUPERVISOR) or acts_in(actor, Role.DEPARTMENT)


# --- planning --------------------------------------------------------------------------------------------


def _int_in(data: dict, name: str, low: int, high: int, errors: dict) -> int | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        errors[name] = [_l("A whole number is expected.")]
        return None
    value = int(value)
    if not low <= value <= high:
        errors[name] = [_l("Between %(low)d and %(high)d.", low=low, high=high)]
        return None
    return value


def _checked_plan(actor: User, data: dict) -> dict:
    errors: dict[str, list] = {}
    title = data.get("title")
    title = title.strip() if isinstance(title, str) else ""
    if not 4 <= len(title) <= 200:
        errors["title"] = [_l("Between %(low)d and %(high)d characters.", low=4, high=200)]
    category = None
    category_id = _int_in(data, "category_id", 1, 2**31 - 1, errors)
    if category_id is not None:
        category = db.session.get(Category, category_id)
    if category is None and "category_id" not in errors:
        errors["category_id"] = [_l("Choose a service category.")]
    region_code = data.get("region_code") or None
    if region_code is not None:
        problem = regions.region_problem(region_code)
        if problem is None and not regions.in_market(region_code):
            problem = _l("Choose a region inside this market's area.")
        if problem is not None:
            errors["region_code"] = [problem]
    agency_count = _int_in(data, "agency_count", 1, MAX_AGENCIES, errors)
    share_pct = _int_in(data, "share_pct", 1, 100, errors)
    if (
        "agency_count" not in errors
        and "share_pct" not in errors
        and (agency_count is None) == (share_pct is None)
    ):
        errors["agency_count"] = [_l("Give either a number of agencies or a share in %, not both.")]
    most = current_app.config["INSPECTION_MAX_INSPECTORS_PER_AGENCY"]
    per_agency = _int_in(data, "inspectors_per_agency", 1, most, errors)
    if per_agency is None and "inspectors_per_agency" not in errors:
        errors["inspectors_per_agency"] = [_l("Between %(low)d and %(high)d.", low=1, high=most)]
    checklist = data.get("checklist")
    if checklist in (None, "", []):
        checklist = rules.default_checklist(category.code if category else None)
    else:
        checklist = rules.parse_checklist(checklist)
        if not checklist or len(checklist) > MAX_ITEMS or any(not 2 <= len(i) <= 200 for i in checklist):
            errors["checklist"] = [
                _l("One to %(n)d items, each of 2 to 200 characters (one per line).", n=MAX_ITEMS)
            ]
        elif len(set(checklist)) != len(checklist):
            errors["checklist"] = [_l("Each item only once.")]
    if errors:
        raise invalid_fields(errors)
    return {
        "title": title,
        "category": category,
        "region_code": region_code,
        "agency_count": agency_count,
        "share_pct": share_pct,
        "inspectors_per_agency": per_agency,
        "checklist": checklist,
    }


def create_task(actor, data: dict) -> InspectionTask:
    """Plan a task and publish its commitment; a supervisor plans for the market, a department for its trade."""
    actor = require_user(actor)
    if not may_plan(actor):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    plan = _checked_plan(actor, data)
    category = plan.pop("category")
    if plan["region_code"] is None and actor.region_code:  # no region given: the account's own area
        plan["region_code"] = actor.region_code
    where = located(plan["region_code"])
    if actor.role == Role.DEPARTMENT:
        if actor.department not in category_departments(category.id):
            raise invalid_fields({"category_id": [_l("Choose a category of your own trade.")]})
        source, department = SOURCE_DEPARTMENT, actor.department
        allowed = acts_in(actor, Role.DEPARTMENT, where, department)
    else:
        source, department = SOURCE_MARKET, None
        allowed = acts_in(actor, Role.SUPERVISOR, where)
    if not allowed:
        raise invalid_fields({"region_code": [_l("Choose a region inside your own area.")]})
    seed = commit_reveal.new_seed()
    task = InspectionTask(
        **plan,
        category_id=category.id,
        source=source,
        department=department,
        owner_id=actor.id,
        status=TaskStatus.PLANNED,
        draw_seed=seed,
        draw_commitment=commit_reveal.commitment(seed),
    )
    db.session.add(task)
    db.session.flush()
    record(actor, "inspection.create", task, after={**plan, "commitment": task.draw_commitment})
    return task


# --- reading -------------------------------------------------------------------------------------------------


def get_task(task_id: int) -> InspectionTask:
    """Any task: the plan and its commitment are public from the start."""
    task = db.session.get(InspectionTask, task_id)
    if task is None:
        raise NotFound(_l("No such inspection."))
    return task


def public_query(status: str | None = None, agency_id: int | None = None) -> Select:
    stmt = select(InspectionTask).order_by(InspectionTask.created_at.desc(), InspectionTask.id.desc())
    if status in {s.value for s in TaskStatus}:
        stmt = stmt.where(InspectionTask.status == TaskStatus(status))
    if agency_id is not None:
        stmt = stmt.where(
            InspectionTask.id.in_(
                select(InspectionTarget.task_id).where(InspectionTarget.agency_id == agency_id)
            )
        )
    return stmt


def staff_query(actor) -> Select:
    """The tasks on the account's desk: its area's; a department's, its own trade's."""
    return (
        select(InspectionTask)
        .where(
            scope_condition(
                actor, Role.DEPARTMENT, InspectionTask.region_code, InspectionTask.department, read=True
            )
        )
        .order_by(InspectionTask.created_at.desc(), InspectionTask.id.desc())
    )


def staff_task(actor, task_id: int) -> InspectionTask:
    task = get_task(task_id)
    if not may_run(actor, task) and not acts_in(actor, Role.SUPERVISOR, located(task.region_code)):
        raise NotFound(_l("No such inspection."))
    return task


def inspectors_by_id(ids) -> dict[int, Inspector]:
    ids = list({i for i in ids})
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(select(Inspector).where(Inspector.id.in_(ids)))}


def draw_record(task: InspectionTask) -> dict:
    """Everything the standalone verifier needs; the seed and the draw only once revealed."""
    details = (task.draw_details or {}) if task.seed_revealed_at else {}
    return {
        "kind": rules.KIND,
        "inspection_id": task.id,
        "title": task.title,
        "status": task.status.value,
        "commitment": task.draw_commitment,
        "seed": task.draw_seed if task.seed_revealed_at else None,
        "seed_revealed_at": task.seed_revealed_at,
        "algorithm": details.get("algorithm", commit_reveal.ALGORITHM),
        "agency_count": task.agency_count,
        "share_pct": task.share_pct,
        "inspectors_per_agency": task.inspectors_per_agency,
        "agency_candidates": details.get("agency_candidates", []),
        "inspector_candidates": details.get("inspector_candidates", []),
        "drawn_count": details.get("drawn_count"),
        "agencies": details.get("agencies", []),
        "assignments": details.get("assignments", []),
    }


# --- the draw ------------------------------------------------------------------------------------------------


def agency_candidates(task: InspectionTask) -> list[int]:
    """The active members of the category inside the task's region, ascending id (the canonical order)."""
    stmt = (
        select(Agency.id)
        .join(agency_category, agency_category.c.agency_id == Agency.id)
        .where(agency_category.c.category_id == task.category_id, Agency.status == AgencyStatus.ACTIVE)
        .order_by(Agency.id)
    )
    if task.region_code:
        stmt = stmt.where(regions.inside(Agency.region_code, task.region_code))
    return list(db.session.scalars(stmt))


def inspector_candidates(task: InspectionTask) -> list[int]:
    """The active inspectors who may serve: a department's task, that department's; a market task, every body's
    (a joint inspection); working in an area that overlaps the task's. Ascending id."""
    stmt = select(Inspector).where(Inspector.active.is_(True)).order_by(Inspector.id)
    if task.source == SOURCE_DEPARTMENT:
        stmt = stmt.where(Inspector.department == task.department)
    area = task.region_code or regions.market_area()
    return [i.id for i in db.session.scalars(stmt) if i.region_code is None or overlaps(i.region_code, area)]


def _locked(task_id: int) -> InspectionTask:
    task = db.session.scalar(select(InspectionTask).where(InspectionTask.id == task_id).with_for_update())
    if task is None:
        raise NotFound(_l("No such inspection."))
    return task


def _running(actor, task_id: int) -> tuple[User, InspectionTask]:
    actor = require_user(actor)
    task = _locked(task_id)
    if not may_run(actor, task):
        raise NotAllowed(_l("Only the staff running this inspection may do this."))
    return actor, task


def draw_task(actor, task_id: int) -> InspectionTask:
    """Reveal the seed and draw: agencies first, then each drawn agency's inspectors."""
    actor, task = _running(actor, task_id)
    if task.status != TaskStatus.PLANNED:
        raise WrongState(_l("This inspection has been drawn already."))
    agencies = agency_candidates(task)
    if not agencies:
        raise WrongState(_l("No active member agency lies in this inspection's scope."))
    inspectors = inspector_candidates(task)
    if len(inspectors) < task.inspectors_per_agency:
        raise WrongState(
            _l(
                "The register has %(have)d active inspectors for this scope; %(need)d are needed per agency.",
                have=len(inspectors),
                need=task.inspectors_per_agency,
            )
        )
    details = rules.draw(
        task.draw_seed, agencies, inspectors, task.agency_count, task.share_pct, task.inspectors_per_agency
    )
    task.draw_details = details
    task.seed_revealed_at = now()
    task.drawn_by_id = actor.id
    task.status = TaskStatus.DRAWN
    for position, row in enumerate(details["assignments"]):
        task.targets.append(
            InspectionTarget(
                agency_id=row["agency_id"], position=position, inspector_ids=row["inspector_ids"]
            )
        )
    db.session.flush()
    record(actor, "inspection.draw", task, after={"seed": task.draw_seed, "agencies": details["agencies"]})
    events.inspection_drawn.send(task, actor=actor)
    return task


# --- findings ------------------------------------------------------------------------------------------------


def _target(task: InspectionTask, agency_id: int) -> InspectionTarget:
    target = next((t for t in task.targets if t.agency_id == agency_id), None)
    if target is None:
        raise NotFound(_l("This agency was not drawn for this inspection."))
    return target


def _open_target(actor, task_id: int, agency_id: int) -> tuple[User, InspectionTask, InspectionTarget]:
    actor, task = _running(actor, task_id)
    target = _target(task, agency_id)
    if task.status != TaskStatus.DRAWN:
        raise WrongState(
            _l("This inspection is closed: its results are published.")
            if task.is_closed
            else _l("Draw the inspection first.")
        )
    return actor, task, target


def record_findings(actor, task_id: int, agency_id: int, data: dict) -> InspectionTarget:
    """The checklist results of one drawn agency: `results` one `{passed, notes?}` per checklist item in order,
    `inspected_by` the drawn inspectors who did it (all of them when not given), `notes` the conclusion.
    Recording again before the task closes replaces the earlier results."""
    actor, task, target = _open_target(actor, task_id, agency_id)
    errors: dict[str, list] = {}
    results = data.get("results")
    if not isinstance(results, list) or len(results) != len(task.checklist):
        errors["results"] = [_l("One result per checklist item (%(n)d).", n=len(task.checklist))]
        results = []
    rows = []
    for i, (item, result) in enumerate(zip(task.checklist, results, strict=False)):
        passed = result.get("passed") if isinstance(result, dict) else None
        notes = result.get("notes") if isinstance(result, dict) else None
        notes = notes.strip() if isinstance(notes, str) else None
        if not isinstance(passed, bool):
            errors[f"results.{i}.passed"] = [_l("Choose pass or fail.")]
        elif not passed and not notes:
            errors[f"results.{i}.notes"] = [_l("Say what was found when an item fails.")]
        elif notes and len(notes) > 1000:
            errors[f"results.{i}.notes"] = [_l("At most %(n)d characters.", n=1000)]
        rows.append((item, passed, notes or None))
    inspected_by = data.get("inspected_by")
    if inspected_by in (None, []):
        inspected_by = list(target.inspector_ids)
    elif not isinstance(inspected_by, list) or not set(inspected_by) <= set(target.inspector_ids):
        errors["inspected_by"] = [_l("Only inspectors drawn for this agency.")]
    notes = data.get("notes")
    notes = notes.strip() if isinstance(notes, str) else None
    if notes and len(notes) > 2000:
        errors["notes"] = [_l("At most %(n)d characters.", n=2000)]
    if errors:
        raise invalid_fields(errors)
    before = _findings_summary(target)
    target.findings = [
        InspectionFinding(position=i, item=item, passed=passed, notes=item_notes)
        for i, (item, passed, item_notes) in enumerate(rows)
    ]
    target.inspected_by = [i for i in target.inspector_ids if i in set(inspected_by)]
    target.notes = notes or None
    target.recorded_at = now()
    target.recorded_by_id = actor.id
    db.session.flush()
    record(actor, "inspection.findings", target, before=before, after=_findings_summary(target))
    return target


def _findings_summary(target: InspectionTarget) -> dict:
    return {
        "agency_id": target.agency_id,
        "failed": [f.item for f in target.findings if not f.passed],
        "inspected_by": target.inspected_by,
    }


def add_evidence(actor, task_id: int, agency_id: int, stream, filename: str | None) -> InspectionTarget:
    actor, task, target = _open_target(actor, task_id, agency_id)
    files = list(target.evidence or [])
    if len(files) >= current_app.config["INSPECTION_MAX_EVIDENCE_FILES"]:
        message = _l("At most %(n)d files per agency.", n=current_app.config["INSPECTION_MAX_EVIDENCE_FILES"])
        raise Invalid(message, {"file": [message]})
    stored = uploads.save_upload(stream, filename, UPLOAD_KIND)
    target.evidence = [*files, stored.__dict__]
    db.session.flush()
    record(actor, "inspection.evidence", target, after={"file": stored.name})
    return target


def evidence_file(actor, task_id: int, agency_id: int, key: str) -> dict:
    """A stored evidence file's metadata, for the task's staff (and supervisors reading it) only."""
    task = staff_task(require_user(actor), task_id)
    target = _target(task, agency_id)
    meta = next((f for f in target.evidence or [] if f.get("key") == key), None)
    if meta is None:
        raise NotFound(_l("No such file."))
    return meta


# --- closing: the results become public (一公开) --------------------------------------------------------------


def close_task(actor, task_id: int) -> InspectionTask:
    actor, task = _running(actor, task_id)
    if task.status == TaskStatus.CLOSED:
        raise WrongState(_l("This inspection is closed: its results are published."))
    if task.status != TaskStatus.DRAWN:
        raise WrongState(_l("Draw the inspection first."))
    missing = [t.agency.name for t in task.targets if not t.recorded]
    if missing:
        raise WrongState(
            _l(
                "Record the findings of every drawn agency first (missing: %(names)s).",
                names="、".join(missing),
            )
        )
    task.status = TaskStatus.CLOSED
    task.closed_at = now()
    task.closed_by_id = actor.id
    db.session.flush()
    failed = [(t, f) for t in task.targets for f in t.findings if not f.passed]
    record(actor, "inspection.close", task, after={"failed_items": len(failed)})
    events.inspection_closed.send(task, actor=actor)
    for target, finding in failed:
        events.inspection_item_failed.send(
            finding,
            agency_id=target.agency_id,
            item=finding.item,
            source=task.source,
            evidence=result_path(task.id, target.agency_id),
            actor=actor,
        )
    return task


def targets_view(task: InspectionTask, staff: bool = False) -> list[dict]:
    """The drawn agencies for pages and the API: inspectors from the draw on; conclusions and findings once the
    task is closed (the task's staff see them while recording); evidence files only for staff."""
    people = inspectors_by_id(i for t in task.targets for i in t.inspector_ids)
    show = task.is_closed or staff
    out = []
    for t in task.targets:
        out.append(
            {
                "agency_id": t.agency_id,
                "agency_name": t.agency.name,
                "agency": t.agency,
                "position": t.position,
                "inspectors": [people[i] for i in t.inspector_ids if i in people],
                "inspected_by": t.inspected_by if show else None,
                "recorded": t.recorded,
                "notes": t.notes if show else None,
                "findings": list(t.findings) if show and t.recorded else None,
                "failed_count": t.failed_count if show and t.recorded else None,
                "evidence": list(t.evidence or []) if staff else [],
                "result_url": result_path(task.id, t.agency_id),
            }
        )
    return out
