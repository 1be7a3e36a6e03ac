"""Synthetic catalogs of any size for the latency benchmark: product groups of 2 to 12 variants (colours x
sizes), titles built from a shop's vocabulary (types, brands, models, materials, adjectives), and questions
drawn from the same vocabulary the way customers ask (type + brand / colour / size / budget)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from wapipe.catalog.model import Money, Product

TYPES = [("Tenis", "Calzado > Zapatillas", ["38", "39", "40", "41", "42"]),
         ("Zapatillas running", "Calzado > Zapatillas > Running", ["37", "38", "39", "40", "41", "42"]),
         ("Guayos", "Calzado > Guayos", ["38", "39", "40", "41", "42", "43"]),
         ("Botas", "Calzado > Botas", ["36", "37", "38", "39", "40", "41"]),
         ("Sandalias", "Calzado > Sandalias", ["35", "36", "37", "38", "39"]),
         ("Mocasines", "Calzado > Zapatos", ["39", "40", "41", "42"]),
         ("Jean", "Ropa > Jeans", ["28", "30", "32", "34", "36"]),
         ("Camiseta", "Ropa > Camisetas", ["S", "M", "L", "XL"]),
         ("Chaqueta", "Ropa > Chaquetas", ["S", "M", "L", "XL", "XXL"]),
         ("Buzo", "Ropa > Buzos", ["S", "M", "L", "XL"]),
         ("Vestido", "Ropa > Vestidos", ["XS", "S", "M", "L"]),
         ("Morral", "Accesorios > Morrales", ["Única"])]
BRANDS = ["Nike", "Adidas", "Puma", "Reebok", "Vélez", "Bosi", "Totto", "Studio F", "Gef", "Americanino",
          "Arturo Calle", "Brahma", "Croydon", "Golty", "Umbro", "Joma", "Skechers", "Converse", "Vans", "Levi's"]
ADJECTIVES = ["clásico", "urbano", "deportivo", "impermeable", "liviano", "de cuero", "acolchado", "slim",
              "de lona", "retro", "premium", "básico", "de gamuza", "térmico", "casual", "elegante"]
COLOURS = ["Blanco", "Negro", "Azul", "Rojo", "Gris", "Verde", "Beige", "Café", "Rosado", "Amarillo"]
WORDS = ["cómodo", "resistente", "suela", "caucho", "transpirable", "costuras", "plantilla", "acolchada",
         "algodón", "poliéster", "diario", "oficina", "fiesta", "gimnasio", "lluvia", "frío", "playa", "colegio"]


def catalog(products: int, seed: int = 7) -> Iterator[Product]:
    """`products` rows (variants), deterministic for a seed."""
    rnd = random.Random(seed)
    made = group = 0
    while made < products:
        kind, ptype, sizes = rnd.choice(TYPES)
        brand = rnd.choice(BRANDS)
        model = f"{rnd.choice(ADJECTIVES)} {rnd.randint(1, 999)}"
        colours = rnd.sample(COLOURS, rnd.randint(1, 3))
        chosen = rnd.sample(sizes, min(len(sizes), rnd.randint(2, 4)))
        price = Decimal(rnd.randrange(39900, 999900, 10000))
        description = " ".join(rnd.choices(WORDS, k=12))
        for colour in colours:
            for size in chosen:
                if made >= products:
                    return
                stock = rnd.randint(0, 9)
                yield Product(id=f"S{group}-{colour[:3].upper()}-{size}", item_group_id=f"S{group}",
                              title=f"{brand} {kind} {model} {colour}", description=description,
                              price=Money(price, "COP"), availability="in stock" if stock else "out of stock",
                              quantity=stock, brand=brand, color=colour, size=size, product_type=ptype,
                              link=f"https://shop.example/p/S{group}")
                made += 1
        group += 1


def questions(n: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        kind, _, sizes = rnd.choice(TYPES)
        shape = rnd.randrange(5)
        if shape == 0:
            out.append(f"¿tienen {kind.lower()} {rnd.choice(BRANDS)}?")
        elif shape == 1:
            out.append(f"{kind.lower()} {rnd.choice(COLOURS).lower()}s talla {rnd.choice(sizes)}")
        elif shape == 2:
            out.append(f"{kind.lower()} de menos de {rnd.choice([100, 200, 300])} mil")
        elif shape == 3:
            out.append(f"{rnd.choice(BRANDS)} {kind.lower()} {rnd.choice(ADJECTIVES)} {rnd.randint(1, 999)}")
        else:
            out.append(f"cuanto vale el {kind.lower()} {rnd.choice(ADJECTIVES)} {rnd.choice(COLOURS).lower()}")
    return out
