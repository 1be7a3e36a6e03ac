"""Payment receipts are recognised in OCR text: wallet, amount, reference, date; other text is no receipt."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.media.understand.receipt import fold, parse_amount, recognize_receipt


@pytest.mark.parametrize(("raw", "value"), [
    ("150.000", "150000"), ("1.500.000", "1500000"), ("150.000,50", "150000.50"), ("1,234.56", "1234.56"),
    ("150,000", "150000"), ("99,90", "99.90"), ("10.00", "10.00"), ("150000", "150000"), ("150 000", "150000"),
])
def test_amounts_in_latin_american_and_us_notation(raw: str, value: str) -> None:
    assert parse_amount(raw) == Decimal(value)


def test_a_nequi_screenshot() -> None:
    text = "Nequi\n\n¡Pago exitoso!\nEnviaste\n\n$ 150.000\n\nReferencia M1234567\n15 de marzo de 2025"
    r = recognize_receipt(text)
    assert r is not None
    assert (r.wallet, r.amount, r.currency, r.reference, r.date) == (
        "Nequi", Decimal("150000"), "COP", "M1234567", date(2025, 3, 15))


def test_a_daviplata_transfer_with_a_balance_line_and_a_numeric_date() -> None:
    text = ("DaviPlata\nTransacción exitosa\nSaldo disponible $ 2.345.678\nValor: $ 48.500,00\n"
            "Número de aprobación: 004512\nFecha: 03/11/2025 10:42 a. m.")
    r = recognize_receipt(text)
    assert r is not None
    assert (r.wallet, r.amount, r.reference, r.date) == ("Daviplata", Decimal("48500.00"), "004512",
                                                         date(2025, 11, 3))


def test_a_bancolombia_receipt_with_cop_and_an_iso_date() -> None:
    text = "Bancolombia\nComprobante No. 0098812734\nTransferiste 1.200.000 COP\n2025-01-31"
    r = recognize_receipt(text)
    assert r is not None
    assert (r.wallet, r.amount, r.currency, r.reference, r.date) == (
        "Bancolombia", Decimal("1200000"), "COP", "0098812734", date(2025, 1, 31))


def test_the_first_named_wallet_is_the_issuer() -> None:
    r = recognize_receipt("Nequi\nEnviaste a Bancolombia\n$ 20.000\nReferencia S9988776")
    assert r is not None and r.wallet == "Nequi"


@pytest.mark.parametrize("text", [
    "Hola, ¿tienen estos zapatos en talla 38?",
    "SALE 50% OFF\nNueva colección",
    "Nequi",  # a logo alone
    "Menú del día $ 15.000",  # a price is not a payment
])
def test_text_that_is_no_receipt(text: str) -> None:
    assert recognize_receipt(text) is None


def test_fold_keeps_positions() -> None:
    text = "Número de aprobación\nÑandú"
    assert len(fold(text)) == len(text) and fold(text) == "numero de aprobacion\nnandu"
