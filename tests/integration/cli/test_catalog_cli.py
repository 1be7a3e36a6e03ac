"""`wapipe catalog import|show|search` against a SQLite store, as a shop's operator runs them: exit codes, the
bad-row report, the old catalog kept on a refused file, upserts, and a big feed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wapipe_tools.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
TENANTS = str(ROOT / "config" / "tenants")
DEMO = ROOT / "config" / "catalogs" / "demo.csv"
HEADER = "id,item_group_id,title,availability,price,size,color,link,quantity_to_sell_on_facebook\n"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WAPIPE_STORE_URL", f"sqlite:///{tmp_path}/wapipe.db")
    monkeypatch.setenv("WAPIPE_TENANTS_DIR", TENANTS)
    return CliRunner()


def _show(runner: CliRunner) -> dict[str, object]:
    shown = runner.invoke(app, ["catalog", "show", "--tenant", "demo"])
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.stdout))


def test_import_show_and_search_the_demo_catalog(runner: CliRunner) -> None:
    assert runner.invoke(app, ["catalog", "show", "--tenant", "demo"]).exit_code == 1  # nothing imported yet
    imported = runner.invoke(app, ["catalog", "import", "--tenant", "demo", str(DEMO)])
    assert imported.exit_code == 0, imported.output
    assert "catalog version 1 of demo" in imported.stdout
    shown = _show(runner)
    assert shown["version"] == 1 and shown["tenant"] == "100000000000001" and int(str(shown["groups"])) >= 150
    found = runner.invoke(app, ["catalog", "search", "--tenant", "demo", "air max 90 blancos en 40", "--limit", "2"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert len(hits) == 2 and hits[0]["id"] == "AM90-BLA-40"
    assert {"id", "item_group_id", "title", "price", "availability", "size", "color", "link"} <= set(hits[0])


def test_a_file_with_bad_rows_exits_2_names_each_row_and_keeps_the_old_catalog(runner: CliRunner,
                                                                               tmp_path: Path) -> None:
    assert runner.invoke(app, ["catalog", "import", "--tenant", "demo", str(DEMO)]).exit_code == 0
    bad = tmp_path / "nuevo.csv"
    bad.write_text(HEADER + "A-1,A,Tenis A,in stock,100000 COP,40,Blanco,https://s.example/a,3\n"
                   "A-2,A,Tenis A,en bodega,100000 COP,41,Blanco,https://s.example/a,3\n"
                   "A-3,A,,in stock,cien mil,42,Blanco,https://s.example/a,x\n", encoding="utf-8")
    refused = runner.invoke(app, ["catalog", "import", "--tenant", "demo", str(bad)])
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert lines[0].startswith("nuevo.csv:3: column availability: 'en bodega' is not one of in stock")
    assert lines[1] == ("nuevo.csv:4: column title: is required and empty; column price: 'cien mil' is not an "
                        "amount and a currency like \"189900 COP\" or \"189900.00 COP\"; column "
                        "quantity_to_sell_on_facebook: 'x' is not a whole number of 0 or more")
    assert "2 bad rows in nuevo.csv; nothing imported" in refused.stderr
    assert _show(runner)["version"] == 1 and _show(runner)["source"] == "demo.csv"


def test_an_upsert_changes_stock_and_price_of_a_few_rows_only(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["catalog", "import", "--tenant", "demo", str(DEMO)]).exit_code == 0
    before = _show(runner)
    update = tmp_path / "stock.csv"
    update.write_text("id,availability,quantity_to_sell_on_facebook,sale_price\n"
                      "AM90-BLA-40,out of stock,0,\n"
                      "AM90-BLA-41,in stock,9,599900 COP\n", encoding="utf-8")
    done = runner.invoke(app, ["catalog", "import", "--tenant", "demo", "--upsert", str(update)])
    assert done.exit_code == 0, done.output
    after = _show(runner)
    assert after["version"] == 2 and after["products"] == before["products"]
    hits = json.loads(runner.invoke(app, ["catalog", "search", "--tenant", "demo", "air max 90 blanco talla 41",
                                          "--limit", "1"]).stdout)
    assert hits[0]["id"] == "AM90-BLA-41" and hits[0]["sale_price"] == 599900 and hits[0]["price"] == 649900
    gone = json.loads(runner.invoke(app, ["catalog", "search", "--tenant", "demo", "air max 90 blanco talla 40",
                                          "--limit", "1"]).stdout)
    assert gone[0]["availability"] == "out of stock"
    new_row = tmp_path / "nuevo.csv"
    new_row.write_text("id,availability\nNUEVO-1,in stock\n", encoding="utf-8")
    refused = runner.invoke(app, ["catalog", "import", "--tenant", "demo", "--upsert", str(new_row)])
    assert refused.exit_code == 2 and "nuevo.csv:2: column title: is required and empty" in refused.stderr
    assert _show(runner)["version"] == 2


def test_a_big_feed_imports_in_full_and_one_bad_row_at_its_end_refuses_it(runner: CliRunner,
                                                                         tmp_path: Path) -> None:
    rows = 30_000
    big = tmp_path / "grande.tsv"
    with big.open("w", encoding="utf-8") as f:
        f.write(HEADER.replace(",", "\t"))
        for i in range(rows):
            f.write(f"R-{i}\tG-{i // 5}\tZapatilla Modelo {i // 5}\tin stock\t{100000 + i} COP\t{36 + i % 5}"
                    f"\tNegro\thttps://s.example/{i}\t{i % 7}\n")
    imported = runner.invoke(app, ["catalog", "import", "--tenant", "demo", str(big)])
    assert imported.exit_code == 0, imported.output
    shown = _show(runner)
    assert (shown["products"], shown["groups"]) == (rows, rows // 5)
    assert shown["in_stock"] == sum(1 for i in range(rows) if i % 7)
    hits = json.loads(runner.invoke(app, ["catalog", "search", "--tenant", "demo", "zapatilla modelo 4321"]).stdout)
    assert hits[0]["item_group_id"] == "G-4321"
    with big.open("a", encoding="utf-8") as f:
        f.write("R-last\tG-last\tZapatilla\tin stock\t100 USD dollars\t40\tNegro\thttps://s.example/x\t1\n")
    refused = runner.invoke(app, ["catalog", "import", "--tenant", "demo", str(big)])
    assert refused.exit_code == 2 and f"grande.tsv:{rows + 2}: column price:" in refused.stderr
    assert _show(runner)["version"] == 1


def test_an_unknown_tenant_or_a_missing_file_is_a_usage_error(runner: CliRunner) -> None:
    assert runner.invoke(app, ["catalog", "import", "--tenant", "nadie", str(DEMO)]).exit_code == 2
    assert runner.invoke(app, ["catalog", "import", "--tenant", "demo", "/no/such/feed.csv"]).exit_code == 2
    assert runner.invoke(app, ["catalog", "search", "--tenant", "nadie", "tenis"]).exit_code == 2
