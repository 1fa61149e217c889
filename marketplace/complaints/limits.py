"""The rate limit of the public report form and `POST /api/v1/reports` (anyone may report, even anonymously):
shared by the page and the API, per client address, like registration's (auth/limits.py)."""

from __future__ import annotations

from marketplace.extensions import limiter

report_per_ip = limiter.shared_limit("10 per hour", scope="report-ip", methods=["POST"])
