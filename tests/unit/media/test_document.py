"""Documents give their text: PDFs through pypdf, plain text decoded; cut at N characters."""

from __future__ import annotations

import pytest

from services.media.understand.document import document_text
from services.media.understand.types import UnderstandingFailed
from tests.media_support import minimal_pdf


async def test_pdf_text_of_every_page() -> None:
    pdf = minimal_pdf([["Factura de venta No. 2045", "Cliente: Ana Pérez", "Total a pagar: $ 150.000"],
                       ["Gracias por su compra"]])
    doc = await document_text(pdf, "application/pdf")
    assert doc is not None and doc.pages == 2 and not doc.truncated
    assert "Factura de venta No. 2045" in doc.text and "Ana Pérez" in doc.text
    assert "Gracias por su compra" in doc.text


async def test_long_text_is_cut_at_the_limit_on_a_word() -> None:
    text = ("palabra " * 200).encode()
    doc = await document_text(text, "text/plain; charset=utf-8", max_chars=100)
    assert doc is not None and doc.truncated and len(doc.text) <= 101 and doc.text.endswith("palabra…")


async def test_plain_text_in_utf8_or_windows_1252() -> None:
    assert (await document_text("Pedido: 3 camisetas, envío a Cali".encode(), "text/plain")).text.endswith("Cali")  # type: ignore[union-attr]
    legacy = "Dirección: Calle 5 # 10-20".encode("cp1252")
    assert (await document_text(legacy, "text/plain")).text == "Dirección: Calle 5 # 10-20"  # type: ignore[union-attr]


async def test_office_files_are_not_read_and_broken_pdfs_fail_permanently() -> None:
    assert await document_text(b"PK\x03\x04", "application/vnd.ms-excel") is None
    with pytest.raises(UnderstandingFailed) as e:
        await document_text(b"%PDF-1.4 garbage", "application/pdf")
    assert not e.value.transient
