"""Payment receipts (Nequi, Daviplata, bank apps) recognised in the text OCR read from a screenshot.

A receipt is text that names an amount and either a wallet/bank or a receipt word ("comprobante", "pago exitoso",
"enviaste", "referencia"...). Amounts use Latin American separators (`$ 150.000`, `150.000,50`) as well as
`150,000.50`; balances and fees are not the amount. Everything is matched on an accent-free lower-case copy of
the text of the same length, so positions carry over to the original (references keep their case).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from services.media.understand.types import Receipt

# (name, pattern on the folded text, currency of its country)
WALLETS: tuple[tuple[str, str, str | None], ...] = (
    ("Nequi", r"\bnequi\b", "COP"), ("Daviplata", r"\bdavi\s?plata\b", "COP"),
    ("Bancolombia", r"\bbancolombia\b", "COP"), ("Davivienda", r"\bdavivienda\b", "COP"),
    ("Banco de Bogotá", r"\bbanco de bogota\b", "COP"), ("BBVA", r"\bbbva\b", None),
    ("Banco de Occidente", r"\bbanco de occidente\b", "COP"), ("Banco Popular", r"\bbanco popular\b", "COP"),
    ("AV Villas", r"\bav ?villas\b", "COP"), ("Scotiabank Colpatria", r"\bcolpatria\b", "COP"),
    ("Banco Caja Social", r"\bcaja social\b", "COP"), ("Nu", r"\bnu ?bank\b|\bnu colombia\b", None),
    ("Lulo Bank", r"\blulo\b", "COP"), ("Movii", r"\bmovii\b", "COP"), ("Transfiya", r"\btransfiya\b", "COP"),
    ("Bre-B", r"\bbre-?b\b", "COP"), ("PSE", r"\bpse\b", "COP"), ("Mercado Pago", r"\bmercado ?pago\b", None),
    ("Yape", r"\byape\b", "PEN"), ("Plin", r"\bplin\b", "PEN"), ("BCP", r"\bbcp\b", "PEN"),
    ("Interbank", r"\binterbank\b", "PEN"), ("Banorte", r"\bbanorte\b", "MXN"), ("SPEI", r"\bspei\b", "MXN"),
)
RECEIPT_WORDS = re.compile(
    r"\b(comprobante|transferencia|transferiste|enviaste|envio de dinero|te enviaron|pago exitoso|pago aprobado|"
    r"transaccion (exitosa|aprobada)|pagaste|recibo|referencia|aprobad[oa]|exitos[oa]|movimiento)\b")
_NUMBER = r"(\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
AMOUNT_LABEL = re.compile(r"\b(valor|monto|total|importe|cantidad|pagaste|enviaste|transferiste)\b[^\d\n]{0,25}"
                          + _NUMBER)
MONEY = re.compile(r"(?:\$|cop|s/|mxn|usd)\s*" + _NUMBER + r"|" + _NUMBER + r"\s*(?:cop|pesos)\b")
NOT_THE_AMOUNT = re.compile(r"\b(saldo|disponible|costo|comision|cuota de manejo|gmf|4x1000)\b")
CURRENCIES = (("COP", r"\bcop\b|\bpesos\b"), ("PEN", r"s/"), ("MXN", r"\bmxn\b"), ("USD", r"\busd\b|us\$"))
REFERENCE = re.compile(
    r"\b(?:referencia|ref|numero de (?:referencia|aprobacion|comprobante|transaccion|operacion)|"
    r"codigo de (?:aprobacion|transaccion)|comprobante(?: (?:no|nro|n))?|aprobacion|cus|id de transaccion)"
    r"\b\s*[:.#°º]?\s*([a-z0-9][a-z0-9-]{3,})")
MONTHS = {"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
          "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12, "ene": 1, "feb": 2,
          "mar": 3, "abr": 4, "may": 5, "jun": 6, "jul": 7, "ago": 8, "sep": 9, "sept": 9, "set": 9, "oct": 10,
          "nov": 11, "dic": 12}
DATE_WORDS = re.compile(r"\b(\d{1,2})(?: de)? (" + "|".join(sorted(MONTHS, key=len, reverse=True))
                        + r")\.?,?(?: de| del)? (\d{4})\b")
DATE_DMY = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def fold(text: str) -> str:
    """Lower case without accents, one character for each character of `text` (positions carry over)."""
    return "".join(unicodedata.normalize("NFD", c)[0].lower() if c.strip() else " " if c != "\n" else "\n"
                   for c in text)


def parse_amount(raw: str) -> Decimal | None:
    """`150.000` -> 150000, `150.000,50` -> 150000.50, `1,234.56` -> 1234.56, `99,90` -> 99.90."""
    s = raw.replace(" ", "").replace("'", ".")
    seps = [i for i, c in enumerate(s) if c in ".,"]
    if seps:
        last = seps[-1]
        decimals = len(s) - last - 1
        kinds = {s[i] for i in seps}
        if len(kinds) == 1 and (decimals == 3 or len(seps) > 1):
            s = s.replace(s[last], "")  # one kind of separator, groups of three: thousands
        else:
            s = s[:last].replace(".", "").replace(",", "") + "." + s[last + 1:]
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    return value if value > 0 else None


def _amount(folded: str) -> Decimal | None:
    lines = folded.splitlines()
    for pattern in (AMOUNT_LABEL, MONEY):
        for line in lines:
            if NOT_THE_AMOUNT.search(line):
                continue
            m = pattern.search(line)
            if m:
                raw = next(g for g in reversed(m.groups()) if g)
                value = parse_amount(raw)
                if value is not None:
                    return value
    return None


def _wallet(folded: str) -> tuple[str | None, str | None]:
    found = [(m.start(), name, cur) for name, pattern, cur in WALLETS if (m := re.search(pattern, folded))]
    if not found:
        return None, None
    _, name, currency = min(found)
    return name, currency


def _date(folded: str) -> date | None:
    for m in DATE_WORDS.finditer(folded):
        if d := _valid(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1))):
            return d
    for m in DATE_ISO.finditer(folded):
        if d := _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            return d
    for m in DATE_DMY.finditer(folded):
        if d := _valid(int(m.group(3)), int(m.group(2)), int(m.group(1))):
            return d
    return None


def _valid(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def _reference(text: str, folded: str) -> str | None:
    for m in REFERENCE.finditer(folded):
        value = text[m.start(1):m.end(1)]
        if any(c.isdigit() for c in value):
            return value
    return None


def recognize_receipt(text: str) -> Receipt | None:
    """The receipt this OCR text shows, or None when it does not look like one."""
    folded = fold(text)
    wallet, wallet_currency = _wallet(folded)
    amount = _amount(folded)
    worded = RECEIPT_WORDS.search(folded) is not None
    reference = _reference(text, folded)
    if not (amount is not None and (wallet or worded) or wallet and worded and reference):
        return None
    currency = next((code for code, pattern in CURRENCIES if re.search(pattern, folded)), wallet_currency)
    return Receipt(wallet=wallet, amount=amount, currency=currency, reference=reference, date=_date(folded))
