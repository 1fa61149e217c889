"""The load test's figures from Locust's CSV files (bench/load.py): the timeline of the run and the number of
requests the workers' CPU is divided by, and the account of that CPU by route (marketplace/serving.py's log)."""

from __future__ import annotations

from bench.load import cpu_by_route, requests_made, timeline

HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
    "Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
    "Total Min Response Time,Total Max Response Time,Total Average Content Size"
)


def _row(at: int, users: int, name: str, count: int, p50: str = "40", p95: str = "300") -> str:
    kind = "" if name == "Aggregated" else "GET"
    return f"{at},{users},{kind},{name},1.0,0,{p50},0,0,0,0,{p95},0,0,0,0,0,{count},0,0,0,0,0,0"


def test_the_ramp_up_counts_in_the_requests_made_and_the_timeline_starts_with_it(tmp_path):
    history = tmp_path / "mix_stats_history.csv"
    rows = [
        _row(100, 0, "Aggregated", 0, p50="N/A"),
        _row(101, 10, "Aggregated", 12, p50="500", p95="1800"),
        _row(102, 50, "/healthz", 30),  # a single endpoint's row is not the total
        _row(102, 50, "Aggregated", 54, p50="400", p95="1500"),
        _row(103, 50, "Aggregated", 7),  # --reset-stats: the total starts again
        _row(113, 50, "Aggregated", 300),
        _row(123, 50, "Aggregated", 610, p50="60", p95="250"),
    ]
    history.write_text("\n".join([HEADER, *rows]) + "\n")
    assert requests_made(history) == 54 + 610
    shown = timeline(history)
    assert shown.startswith("p50/p95 ms over the last 10 s") and "0s 10u 500/1800" in shown
    assert "22s 50u 60/250" in shown and "N/A" not in shown


def test_the_cpu_account_groups_routes_by_their_shape_heaviest_first(tmp_path):
    log = tmp_path / "request_cpu.tsv"
    lines = [
        "GET\t/agencies/\t200\t10.00\t30.00",
        "GET\t/agencies/17\t200\t40.00\t90.00",
        "GET\t/agencies/4213\t200\t20.00\t50.00",
        "POST\t/api/v1/requests/9/bids\t201\t5.00\t8.00",
        "GET\t/agencies/\t200\t30.00\t40.00\t1796198172.873\t30530\t12.50\t5",  # with its statements
    ]
    log.write_text("\n".join(lines) + "\n", "utf-8")
    rows = [
        line
        for line in cpu_by_route(log, workers_cpu=0.2).splitlines()
        if line.startswith("| GET") or line.startswith("| POST")
    ]
    # the two stores are one route; the store (60 ms in all) before the list (40 ms) before the bid (5 ms)
    assert [row.split(" | ")[0] for row in rows] == [
        "| GET /agencies/[id]",
        "| GET /agencies/",
        "| POST /api/v1/requests/[id]/bids",
    ]
    store = rows[0].split(" | ")
    assert store[1:3] == ["2", "30.0"]  # requests, mean CPU ms
    assert store[5] == "57%"  # 60 of 105 ms
    listed = rows[1].split(" | ")
    assert listed[8:10] == [
        "2.5",
        "6.2 |",
    ]  # statements and their ms, a mean over both requests (one logged none)
