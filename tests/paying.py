"""Helpers for the payment tests: a local fake Stripe API that records what it is sent, and webhook deliveries
signed the way Stripe signs them."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import stripe

WEBHOOK_SECRET = "whsec_test_payments"


class FakeStripe:
    """A tiny stand-in for api.stripe.com on 127.0.0.1: answers POST /v1/checkout/sessions and keeps every
    request (path, headers, form fields). `fail_with` makes it answer that HTTP status instead."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        self.sessions = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = dict(parse_qsl(body, keep_blank_values=True))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
                if fake.fail_with:
                    self._answer(fake.fail_with, {"error": {"type": "api_error", "message": "down"}})
                    return
                fake.sessions += 1
                sid = f"cs_test_fake{fake.sessions:04d}"
                self._answer(
                    200,
                    {
                        "id": sid,
                        "object": "checkout.session",
                        "url": f"https://checkout.stripe.com/c/pay/{sid}",
                        "expires_at": int(form["expires_at"]),
                        "payment_status": "unpaid",
                        "status": "open",
                    },
                )

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[str, dict]:
    """The body and headers of a webhook delivery, signed like Stripe does."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


_events = iter(range(1, 1_000_000))


def event(kind: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{int(time.time())}_{next(_events)}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def session_completed(payment, *, paid: bool = True, amount: int | None = None, currency: str = "cny"):
    return {
        "id": payment.stripe_session_id,
        "object": "checkout.session",
        "payment_status": "paid" if paid else "unpaid",
        "amount_total": payment.amount_fen if amount is None else amount,
        "currency": currency,
        "payment_intent": f"pi_test_{payment.id}",
        "client_reference_id": str(payment.id),
        "metadata": {"payment_id": str(payment.id), "order_id": str(payment.order_id)},
    }


def charge_refunded(payment, amount_refunded: int) -> dict:
    return {
        "id": f"ch_test_{payment.id}",
        "object": "charge",
        "payment_intent": f"pi_test_{payment.id}",
        "amount": payment.amount_fen,
        "amount_refunded": amount_refunded,
        "currency": "cny",
        "refunded": amount_refunded >= payment.amount_fen,
    }


def assert_paid_once(app, payment_id: int, agency_id: int, paid_sum_fen: int) -> None:
    """After racing deliveries of one Stripe completion: paid, counted once in the agency's money received,
    one event row and one audit entry."""
    from sqlalchemy import func, select

    from marketplace.audit.models import AuditEntry
    from marketplace.extensions import db
    from marketplace.payments.models import Payment, StripeEvent
    from marketplace.stats.models import AgencyStats

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "paid"
        assert db.session.get(AgencyStats, agency_id).paid_sum_fen == paid_sum_fen
        assert count(StripeEvent, StripeEvent.payment_id == payment_id) == 1
        assert (
            count(AuditEntry, AuditEntry.action == "payment.complete", AuditEntry.object_id == payment_id)
            == 1
        )
