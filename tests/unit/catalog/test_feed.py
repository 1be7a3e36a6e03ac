"""Meta catalog feeds read and validated row by row: every bad row named with its line, column and reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from wapipe.catalog import feed
from wapipe.catalog.model import Money

HEADER = "id,title,description,availability,condition,price,sale_price,link,image_link,brand,color,size,item_group_id,quantity_to_sell_on_facebook,age_group\n"  # noqa: E501
GOOD = ("AM90-BLA-40,Nike Air Max 90 Blanco,Tenis clásicos,in stock,new,649900 COP,,https://shop.example/am90,"
        "https://shop.example/am90.jpg,Nike,Blanco,40,AM90,4,adult\n")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_row_becomes_a_product_and_unknown_columns_are_attributes(tmp_path: Path) -> None:
    path = _write(tmp_path, "shop.csv", HEADER + GOOD)
    assert feed.validate(path) == (1, [])
    [p] = list(feed.products(path))
    assert p.id == "AM90-BLA-40" and p.group == "AM90" and p.price == Money(Decimal(649900), "COP")
    assert p.quantity == 4 and p.in_stock and p.attributes == {"age_group": "adult"}


def test_every_bad_row_is_reported_with_file_line_column_and_reason(tmp_path: Path) -> None:
    bad = (
        "X1,Bota,,in stock,new,abc,,https://s.example/x1,,,,,,,\n"           # line 3: price
        ",Sin id,,agotado,new,1000 COP,,,,,,,,,\n"                          # line 4: id and availability
        "X3,Tenis,,in stock,new,100000 COP,120000 COP,ftp://x,,,,,,-1,\n"   # line 5: sale, link, stock
        "AM90-BLA-40,Repetido,,in stock,new,1 COP,,,,,,,,,\n"               # line 6: duplicate id
        "X5,Corto\n"                                                        # line 7: field count
    )
    path = _write(tmp_path, "shop.csv", HEADER + GOOD + bad)
    good, errors = feed.validate(path)
    assert good == 1
    assert [str(e) for e in errors] == [
        "shop.csv:3: column price: 'abc' is not an amount and a currency like \"189900 COP\" or \"189900.00 COP\"",
        "shop.csv:4: column id: is required and empty; column availability: 'agotado' is not one of in stock, "
        "out of stock, preorder, available for order, discontinued",
        "shop.csv:5: column sale_price: '120000 COP' must be in COP and not above price; column link: 'ftp://x' "
        "is not an http(s) URL; column quantity_to_sell_on_facebook: '-1' is not a whole number of 0 or more",
        "shop.csv:6: column id: 'AM90-BLA-40' repeats line 2",
        "shop.csv:7: column *: 2 fields, the header has 15",
    ]


def test_a_header_without_metas_required_columns_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "shop.csv", "sku,name,cost\nA,B,1\n")
    with pytest.raises(feed.FeedError, match=r"shop.csv:1: the header has no id, title, availability, price"):
        feed.validate(path)


def test_tsv_and_json_lines_carry_the_same_fields(tmp_path: Path) -> None:
    tsv = _write(tmp_path, "shop.tsv", HEADER.replace(",", "\t") + GOOD.replace(",", "\t"))
    jsonl = _write(tmp_path, "shop.jsonl",
                   '{"id": "AM90-BLA-40", "title": "Nike Air Max 90 Blanco", "availability": "in stock", '
                   '"price": "649900.00 COP", "quantity_to_sell_on_facebook": 4, "item_group_id": "AM90"}\n'
                   "\n"
                   "not json\n"
                   '["a list"]\n')
    [from_tsv] = list(feed.products(tsv))
    good, errors = feed.validate(jsonl)
    [from_json] = list(feed.products(jsonl))
    assert from_tsv.price == from_json.price and from_json.quantity == 4 and from_json.group == "AM90"
    assert good == 1 and [e.line for e in errors] == [3, 4]
    assert str(errors[0]).startswith("shop.jsonl:3: column *: not JSON")


def test_a_quoted_multi_line_description_keeps_the_next_rows_line_numbers_true(tmp_path: Path) -> None:
    row = GOOD.replace("Tenis clásicos", '"Tenis\nclásicos"')
    path = _write(tmp_path, "shop.csv", HEADER + row + "X2,Bota,,vendido,new,1 COP,,,,,,,,,\n")
    _, errors = feed.validate(path)
    assert [e.line for e in errors] == [4]
