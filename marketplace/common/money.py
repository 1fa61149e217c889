"""Money is integer fen (分), CNY. Shown as ¥ with two decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# The largest amount the market takes anywhere — an offer, a ceiling, a floor, a contract amendment: ¥20 million.
# A 中介超市 purchase stays far below it (larger work goes to public tendering), so anything above is a typing
# error; and the money columns are 32-bit integers on PostgreSQL (at most 2,147,483,647 fen), so a larger limit
# would need a migration to BIGINT first.
MAX_FEN = 2_000_000_000


def format_fen(fen: int | None, symbol: str = "¥") -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{symbol}{yuan:,}.{cents:02d}"


def yuan_to_fen(text: str | Decimal | float | int) -> int:
    """Parse a yuan amount typed by a person ("1,200.5") into fen; ValueError when it is not money."""
    try:
        amount = Decimal(str(text).replace(",", "").replace("¥", "").replace("￥", "").strip())
    except InvalidOperation as exc:
        raise ValueError("not an amount") from exc
    if not amount.is_finite() or abs(amount) > Decimal("1e12"):
        raise ValueError("not an amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("more than two decimals")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int | None) -> Decimal | None:
    if fen is None:
        return None
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
