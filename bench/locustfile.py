"""The market's load: a realistic mix of visitors, enterprises and agencies (run by bench/load.py).

    LOAD_ACTORS=actors.json locust -f bench/locustfile.py --headless -u 50 -r 10 -t 60s \
        --host http://127.0.0.1:5070 Visitor Enterprise Agency Watcher

- Visitor (most users): the front page, the list in every sort with filters and deep pages, stores, fee pages,
  announcements, search with broad and narrow queries (HTML and API).
- Enterprise: logs in through the form (CSRF) and the API token, posts a request whose bidding closes within
  seconds, compares the bids once the deadline passed and selects, looks at its desk.
- Agency: logs in the same two ways, bids on the open announcement closing soonest, reads its inbox and bids.
- Watcher: one user on /healthz twice a second — the trivial page's latency under the same load.
- HealthzProbe / ListProbe: no think time; run alone (a short second run each) to compare the throughput of the
  list page with /healthz's.

A refusal the market rightly gives (a bid that arrived after the deadline: 409) is not an error: it is counted on
its own line ("… refused 409"). Anything else that is not 2xx/3xx is an error.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from locust import HttpUser, between, constant, constant_throughput, task

ACTORS = json.loads(Path(os.environ["LOAD_ACTORS"]).read_text("utf-8")) if "LOAD_ACTORS" in os.environ else {}
SORTS = ("composite", "sales", "rating", "price", "speed")
BROAD = ("测绘", "环境 咨询", "环评", "造价", "安全评价", "检测")
NARROW = ("水土保持方案", "地质灾害危险性评估", "节能评估报告", "华信", "正元测绘", "建设项目环境影响报告书")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

_enterprises = itertools.count()
_agencies = itertools.count()


def _any(key: str, default=None):
    values = ACTORS.get(key) or [default]
    return random.choice(values)


class Visitor(HttpUser):
    """Anyone, not logged in."""

    weight = 34
    wait_time = between(1, 3)

    @task(3)
    def home(self):
        self.client.get("/", name="/ (home)")

    @task(6)
    def agency_list(self):
        params = {"category": _any("category_ids", 1), "sort": random.choice(SORTS)}
        if random.random() < 0.3:
            params["region"] = _any("region_codes", "320100")
        self.client.get("/agencies/", params=params, name="/agencies/ (list, filters, sorts)")

    @task(2)
    def deep_page(self):
        params = {"category": _any("category_ids", 1), "page": random.randint(10, 200)}
        self.client.get("/agencies/", params=params, name="/agencies/?page=N (deep page)")

    @task(2)
    def list_api(self):
        params = {"category_id": _any("category_ids", 1), "sort": random.choice(SORTS)}
        self.client.get("/api/v1/agencies", params=params, name="/api/v1/agencies (list API)")

    @task(4)
    def store(self):
        agency_id = _any("store_ids", 1)
        self.client.get(f"/agencies/{agency_id}", name="/agencies/[id] (store)")

    @task(2)
    def fees(self):
        if random.random() < 0.3:
            self.client.get("/fees/", name="/fees/ (fee pages)")
        else:
            self.client.get(f"/fees/items/{_any('item_ids', 1)}", name="/fees/items/[id] (fee pages)")

    @task(3)
    def announcements(self):
        if random.random() < 0.5:
            params = {"status": random.choice(("bidding", "publicity", "awarded"))}
            self.client.get("/requests/", params=params, name="/requests/ (announcements)")
        else:
            request_id = _any("request_ids", 1)
            self.client.get(f"/requests/{request_id}", name="/requests/[id] (announcement)")

    @task(3)
    def search(self):
        q = random.choice(BROAD) if random.random() < 0.5 else random.choice(NARROW)
        kind = "broad" if q in BROAD else "narrow"
        if random.random() < 0.6:
            self.client.get("/search", params={"q": q}, name=f"/search ({kind})")
        else:
            self.client.get("/api/v1/search", params={"q": q}, name=f"/api/v1/search ({kind})")


class _Member(HttpUser):
    """A logged-in account: the session cookie (form log-in, CSRF) for pages, a bearer token for the API."""

    abstract = True
    email = ""

    def log_in(self) -> None:
        page = self.client.get("/auth/login", name="/auth/login (form)")
        token = CSRF.search(page.text)
        form = {
            "email": self.email,
            "password": ACTORS["password"],
            "csrf_token": token.group(1) if token else "",
        }
        self.client.post("/auth/login", data=form, name="POST /auth/login (form)")
        r = self.client.post(
            "/api/v1/auth/token",
            json={"email": self.email, "password": ACTORS["password"]},
            name="POST /api/v1/auth/token",
        )
        self.bearer = {"Authorization": f"Bearer {r.json()['token']}"} if r.ok else {}

    def api(self, method: str, path: str, name: str, **kw):
        return self.client.request(method, path, headers=self.bearer, name=name, **kw)


class Enterprise(_Member):
    """Posts requests that close within seconds, compares the opened bids and selects."""

    fixed_count = 5
    wait_time = between(2, 5)

    def on_start(self):
        mine = ACTORS["enterprises"]
        self.email = mine[next(_enterprises) % len(mine)]
        self.log_in()

    @task(1)
    def post_request(self):
        deadline = datetime.now(UTC) + timedelta(
            seconds=ACTORS.get("bidding_seconds", 20) + random.randint(0, 10)
        )
        body = {
            "title": f"压力测试项目{random.randint(1, 10**6)}环境影响评价",
            "project_code": f"2026-320100-{random.randint(10, 99)}-01-{random.randint(1, 999999):06d}",
            "service_item_id": ACTORS["item_id"],
            "scope": "编制环境影响报告表并配合完成审批。",
            "ceiling_fen": random.randint(20, 60) * 1_000_000,
            "required_days": 40,
            "region_code": ACTORS.get("project_region", "320102"),
            "funding": "social",
            "selection_method": random.choice(("lowest_price", "lowest_price", "random", "average_price")),
            "bid_deadline": deadline.isoformat(),
        }
        self.api("POST", "/api/v1/requests", "POST /api/v1/requests (post a request)", json=body)

    @task(3)
    def compare_and_select(self):
        r = self.api("GET", "/api/v1/requests?mine=true&page_size=50", "/api/v1/requests?mine=true")
        if not r.ok:
            return
        due = [x for x in r.json() if x.get("status") == "evaluating"]
        if not due:
            return
        chosen = random.choice(due)
        self.api("GET", f"/api/v1/requests/{chosen['id']}/bids", "/api/v1/requests/[id]/bids (compare)")
        self.client.get(f"/requests/{chosen['id']}/compare", name="/requests/[id]/compare (page)")
        with self.api(
            "POST",
            f"/api/v1/requests/{chosen['id']}/selection",
            "POST /api/v1/requests/[id]/selection",
            json={},
            catch_response=True,
        ) as resp:
            if resp.status_code == 409:  # the clock failed it first (too few bids) or a second tab selected
                resp.success()
                _refused(self, "POST selection refused 409 (already decided)")

    @task(2)
    def desk(self):
        self.client.get("/enterprise/", name="/enterprise/ (desk)")


class Agency(_Member):
    """Bids on the open announcement that closes soonest (near its deadline), reads its inbox and bids."""

    fixed_count = 10
    wait_time = between(1, 3)

    def on_start(self):
        mine = ACTORS["agencies"]
        self.email = mine[next(_agencies) % len(mine)]
        self.bid_on: set[int] = set()
        self.log_in()

    @task(4)
    def bid(self):
        r = self.client.get(
            "/api/v1/requests",
            params={"status": "bidding", "service_item_id": ACTORS["item_id"], "page_size": 50},
            name="/api/v1/requests?status=bidding",
        )
        if not r.ok:
            return
        open_ = sorted((x for x in r.json() if x["id"] not in self.bid_on), key=lambda x: x["bid_deadline"])
        if not open_:
            return
        target = open_[0]
        self.bid_on.add(target["id"])
        body = {
            "price_fen": int(target["ceiling_fen"] * random.uniform(0.75, 0.98)),
            "promised_days": random.randint(20, 38),
            "plan": "组建项目组，现场踏勘后编制报告表。",
        }
        with self.api(
            "POST",
            f"/api/v1/requests/{target['id']}/bids",
            "POST /api/v1/requests/[id]/bids (bid)",
            json=body,
            catch_response=True,
        ) as resp:
            if resp.status_code == 409:  # arrived after the deadline, or already bid: the market's rule
                resp.success()
                _refused(self, "POST bid refused 409 (closed or already bid)")

    @task(1)
    def inbox(self):
        self.client.get("/agency/inbox", name="/agency/inbox (page)")

    @task(1)
    def my_bids(self):
        self.api("GET", "/api/v1/agencies/me/bids", "/api/v1/agencies/me/bids")


def _refused(user: HttpUser, name: str) -> None:
    """Count a rightful refusal on its own line (zero time, no failure)."""
    user.environment.events.request.fire(
        request_type="INFO", name=name, response_time=0, response_length=0, exception=None, context={}
    )


class Watcher(HttpUser):
    """/healthz under the same load."""

    fixed_count = 1
    wait_time = constant_throughput(2)

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz")


class HealthzProbe(HttpUser):
    """Throughput probe (run alone): /healthz as fast as it answers."""

    wait_time = constant(0)

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz (probe)")


class ListProbe(HttpUser):
    """Throughput probe (run alone): the list page, one category, composite sort, as fast as it answers."""

    wait_time = constant(0)

    @task
    def agency_list(self):
        self.client.get(f"/agencies/?category={ACTORS.get('probe_category', 1)}", name="/agencies/ (probe)")
