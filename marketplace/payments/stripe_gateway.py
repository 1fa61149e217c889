"""Talking to Stripe: Checkout Sessions out, signed webhook events in. Nothing here touches the database.

Online payment is on only when STRIPE_SECRET_KEY is set; STRIPE_API_BASE points the SDK elsewhere (tests run a
local fake Stripe). Calls are never retried by the SDK: a failed call is reported at once and nothing is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.common.errors import DomainError, UpstreamFailed

# Stripe accepts expires_at from 30 minutes to 24 hours after creation; one more minute so that the request's
# travel time never puts it under Stripe's minimum.
CHECKOUT_TTL = timedelta(minutes=31)
TIMEOUT_SECONDS = 20
CURRENCY = "cny"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime


def enabled() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def _client() -> stripe.StripeClient:
    base = current_app.config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        current_app.config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=0,
        http_client=stripe.RequestsClient(
            timeout=current_app.config.get("STRIPE_TIMEOUT_SECONDS", TIMEOUT_SECONDS)
        ),
    )


def create_checkout_session(
    *,
    payment_id: int,
    order_id: int,
    amount_fen: int,
    product_name: str,
    success_url: str,
    cancel_url: str,
    expires_at: datetime,
    idempotency_key: str,
) -> CheckoutSession:
    """One hosted Checkout page for one payment; UpstreamFailed when Stripe fails or cannot be reached."""
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": CURRENCY,
                    "unit_amount": amount_fen,
                    "product_data": {"name": product_name[:250]},
                },
            }
        ],
        "client_reference_id": str(payment_id),
        "metadata": {"payment_id": str(payment_id), "order_id": str(order_id)},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    message = _l(
        "The online payment service (Stripe) failed or could not be reached. Nothing was charged or "
        "recorded; please try again later or pay by bank transfer."
    )
    try:
        session = _client().v1.checkout.sessions.create(params, options={"idempotency_key": idempotency_key})
        data = session.to_dict()
    except stripe.StripeError as exc:
        current_app.logger.warning(
            "stripe: creating a checkout session for payment %s failed: %s", payment_id, exc
        )
        raise UpstreamFailed(message) from exc
    if not isinstance(data.get("id"), str) or not isinstance(data.get("url"), str):
        current_app.logger.warning("stripe: unexpected checkout session answer for payment %s", payment_id)
        raise UpstreamFailed(message)
    expiry = data.get("expires_at")
    return CheckoutSession(
        id=data["id"],
        url=data["url"],
        expires_at=datetime.fromtimestamp(expiry, UTC) if isinstance(expiry, int) else expires_at,
    )


def verify_event(payload: bytes, signature: str | None) -> dict:
    """The event Stripe signed, as plain dicts; DomainError (400) for a missing or bad signature or body."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise DomainError(_l("Stripe webhooks are not configured on this platform."))

    def invalid() -> DomainError:  # made only when raised: a DomainError marks its request as refused
        return DomainError(_l("The webhook signature or payload is not valid."))

    try:
        event = stripe.Webhook.construct_event(payload, signature, secret).to_dict()
    except (stripe.SignatureVerificationError, ValueError, TypeError, AttributeError) as exc:
        raise invalid() from exc
    obj = event.get("data", {}).get("object") if isinstance(event.get("data"), dict) else None
    event_id, kind = event.get("id"), event.get("type")
    if not (
        isinstance(event_id, str)
        and 0 < len(event_id) <= 255
        and isinstance(kind, str)
        and 0 < len(kind) <= 100
        and isinstance(obj, dict)
    ):
        raise invalid()
    return event
