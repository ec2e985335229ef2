"""The per-business ledger: what a payment's totals say happened to its money, written once per movement.

`ledger_record` runs inside the transaction that changed the payment's totals (the payment row locked), right
after they changed: `state.apply_gateway_payment` (what Moyasar reports: a capture, a refund made outside Mawid, a
void of captured money) and `operations._refund_succeeded` (our refund made). It compares the payment with its
entries and writes what is missing, so calling it again (a replayed webhook, a retried job, a second sync) writes
nothing, and the unique key (payment, kind, key) stops a second writer that got past the lock anyway.

The commission rule (docs/payments.md, "Ledger and settlement"): the platform's commission on a payment is always
`commission_for(kept, bps)` = kept * bps / 10000 rounded half up to the halala, where kept = what the business keeps
(captured - refunded, 0 once captured money is voided) and bps the business's rate at the payment's first capture
(later changes of the rate apply to later payments). Each entry carries the change of that figure, so a capture
takes the commission on the captured amount and a refund gives back the commission on what was refunded
(proportionally; partial refunds never round the platform above or below the rule, whatever their number).

The bottom of the services with `state` and `deferrals`: it imports no other payments service.
"""

from __future__ import annotations

from datetime import datetime

from apps.catalog.models import Business
from apps.core.vat import VatSplit
from apps.payments import vat
from apps.payments.models import LedgerEntry, Payment, Refund

K = LedgerEntry.Kind


def commission_for(kept: int, bps: int) -> int:
    """The platform's commission on `kept` minor units at `bps` basis points, rounded half up to the minor unit."""
    if kept <= 0 or bps <= 0:
        return 0
    return (kept * bps + 5_000) // 10_000


def kept_of(payment: Payment) -> int:
    """What the business keeps of a payment: captured - refunded; nothing once Moyasar voided captured money."""
    if payment.status == Payment.Status.VOIDED:
        return 0
    return payment.captured_amount - payment.refunded_amount


def ledger_record(*, payment: Payment, now: datetime) -> list[LedgerEntry]:
    """Write the entries that bring the payment's ledger to its totals (payment locked by the caller). Returns the
    new entries (none when the ledger already says it all). Two queries when nothing is missing (three with a VAT
    split to read: the booking's rate).

    Each entry also states its gross as the sale's documents do (`sale_net` + `sale_vat`): a capture the invoice's
    (the payment's split, or the captured part of it), a refund its credit note's (the refund row's split), a void
    all that was left; a late-cancellation fee kept carries its VAT (`fee_kept_vat`)."""
    entries = list(LedgerEntry.objects.filter(payment=payment).order_by("pk"))
    if not entries and payment.captured_amount == 0:
        return []
    captured = sum(e.gross for e in entries if e.kind == K.CAPTURE)
    refunded = -sum(e.gross for e in entries if e.kind == K.REFUND)
    voided = any(e.kind == K.VOID for e in entries)
    kept = sum(e.gross for e in entries)
    commission = sum(e.commission for e in entries)
    kept_net = sum(e.sale_net for e in entries)
    kept_vat = sum(e.sale_vat for e in entries)
    if entries:
        bps = entries[0].commission_bps
    else:
        bps = Business.objects.filter(pk=payment.business_id).values_list("commission_bps", flat=True).get()
    new: list[LedgerEntry] = []

    def add(
        kind: str,
        key: str,
        split: VatSplit,
        sign: int,
        at: datetime,
        *,
        refund: Refund | None = None,
        fee: bool = False,
    ) -> None:
        nonlocal kept, commission, kept_net, kept_vat
        gross = sign * split.gross
        kept += gross
        kept_net += sign * split.net
        kept_vat += sign * split.vat
        change = commission_for(kept, bps) - commission
        commission += change
        new.append(
            LedgerEntry(
                business_id=payment.business_id,
                payment=payment,
                refund=refund,
                kind=kind,
                key=key,
                gross=gross,
                sale_net=sign * split.net,
                sale_vat=sign * split.vat,
                commission=change,
                net=gross - change,
                commission_bps=bps,
                fee_kept=max(0, kept) if fee else 0,
                fee_kept_vat=max(0, min(kept_vat, kept)) if fee else 0,
                currency=payment.currency,
                occurred_at=at,
            )
        )

    def rest() -> VatSplit:  # what the business keeps so far, as the documents state it
        net = min(max(0, kept_net), max(0, kept))
        return VatSplit(net=net, vat=max(0, kept) - net, gross=max(0, kept), rate_bps=payment.booking.vat_rate_bps)

    if payment.captured_amount > captured:
        delta = payment.captured_amount - captured
        whole = payment.captured_split
        split = whole if not entries else vat.reported_part(delta, vat.remaining(whole, [(kept_net, kept_vat)]))
        add(K.CAPTURE, f"capture:{payment.captured_amount}", split, 1, now)
    if payment.refunded_amount > refunded:
        booked = {e.refund_id for e in entries if e.refund_id is not None}
        made = Refund.objects.filter(payment=payment, status=Refund.Status.SUCCEEDED).order_by("completed_at", "pk")
        for refund in made:
            if refund.pk in booked or refunded + refund.amount > payment.refunded_amount:
                continue
            refunded += refund.amount
            late_fee = refund.kind == Refund.Kind.CANCELLATION and payment.on_cancel == Payment.OnCancel.FEE
            add(
                K.REFUND,
                f"refund:{refund.pk}",
                VatSplit(net=refund.net, vat=refund.vat, gross=refund.amount, rate_bps=0),
                -1,
                refund.completed_at or now,
                refund=refund,
                fee=late_fee,
            )
        if payment.refunded_amount > refunded:  # Moyasar's total with no refund row to explain it (not expected)
            split = vat.reported_part(payment.refunded_amount - refunded, rest())
            add(K.REFUND, f"refunded:{payment.refunded_amount}", split, -1, now)
    if payment.status == Payment.Status.VOIDED and not voided and kept > 0:
        add(K.VOID, "void", rest(), -1, now)
    if new:
        LedgerEntry.objects.bulk_create(new)
    return new
