"""The built-in Spanish lexicon of the classifier: regexes over normalised text (lower case, no accents).

Business facts live in the tenant file; what is here is how Spanish-speaking customers phrase things, shared by
every tenant. Each rule has a name so a decision can say which rule matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]


def _rules(prefix: str, *patterns: str) -> tuple[Rule, ...]:
    return tuple(Rule(f"{prefix}:{i}", re.compile(p)) for i, p in enumerate(patterns))


PEOPLE = r"(asesor|asesores|agente|humano|persona|alguien|encargad[oa]|operador|gerente|administrador|ventas|vendedor)"

HUMANO = _rules(
    "humano",
    r"\b(hablar|comuni\w*|pas[ae]\w*|atender|atienda|llame|llamar|llamen|contactar)\b.*\b" + PEOPLE + r"\b",
    r"\b(quiero|necesito|requiero)\s+(a\s+)?(un|una|el|la|al)?\s*(asesor|agente|humano|persona|encargad[oa])\b",
    r"^(un\s+|una\s+)?(asesor|agente|humano|persona)(\s+por\s+favor)?(\s+urgente)?$",
    r"\b(eres|es|esto\s+es)\s+(un\s+)?(robot|bot|maquina)\b.*\b(persona|humano)\b",
)

QUEJA = _rules(
    "queja",
    r"\b(pesim[oa]s?|malisim[oa]s?|horrible|terrible)\b",
    r"\bmal[oa]?\s+(servicio|atencion|calidad)\b",
    r"\b(estaf\w*|ladron\w*|rob[oa]ron|tumbaron)\b",
    r"\b(queja|reclamo|denuncia|demanda|sic|superintendencia)\b",
    r"\b(danad[oa]s?|roto|rota|defectuos[oa]s?|descosid[oa]s?|despega\w*)\b",
    r"\bcobraron\s+(doble|dos\s+veces|de\s+mas)\b",
    r"\b(devuelvan|reembols\w*)\b.*\b(plata|dinero|pago)?",
    r"\b(molest[oa]s?|indignad[oa]s?|furios[oa]s?|aburrid[oa]s?\s+con)\b",
    r"\bfalta\s+de\s+(seriedad|respeto)\b",
    r"\bnadie\s+(me\s+)?(responde|contesta|atiende)\b",
    r"\bgroser[oa]s?\b",
    r"\bllevo\s+\w+\s+(dias|semanas|meses)\s+esperando\b",
    r"\bnunca\s+mas\s+(les\s+)?compro\b",
)

OFF_TOPIC = _rules(
    "fuera_de_tema",
    r"\b(partido|futbol|goles?|mundial|liga|seleccion\s+colombia|seleccion)\b",
    r"\b(chistes?|adivinanza|poemas?|cancion|canciones|pelicula|peliculas|serie|netflix)\b",
    r"\b(tarea|matematicas|fisica|quimica|ensayo|examen)\b",
    r"\b(petro|uribe|presidente|elecciones|politica|congreso|alcalde)\b",
    r"\b(clima|lluvia|temperatura)\b",
    r"\bcapital\s+de\b",
    r"\b(dolar|bitcoin|cripto\w*|acciones\s+de)\b",
    r"\b(receta|cocinar|arroz\s+con\s+pollo)\b",
    r"\b(horoscopo|signo|zodiaco)\b",
    r"\b(chatgpt|openai|gpt)\b",
    r"\b(codigo|python|javascript|programa\s+en)\b",
    r"\bignora\w*\s+(tus|las|todas)\b.*\binstrucciones\b",
    r"\b(tu|el)\s+prompt\b",
    r"\bcuanto\s+es\s+\d+\s+(por|mas|menos|entre|x)\s+\d+\b",
    r"\bescrib\w*\s+(me\s+)?(un|una)\s+(carta|poema|cancion|ensayo|cuento)\b",
)

# Words that make a message about the business even when an off-topic word is present ("tenis de la seleccion").
BUSINESS_WORDS = re.compile(
    r"\b(tienda|local|almacen|tenis|zapat\w*|botas?|sandalias?|ropa|camis\w*|jeans?|pantalon\w*|chaquetas?|"
    r"bus[oa]s?|sudaderas?|talla\w*|precios?|valen?|cuestan?|envios?|domicilio\w*|pagos?|pagar|pedidos?|"
    r"catalogo|compra\w*|regalo|camiseta\w*|guayos|uniformes?|descuento\w*|promocion\w*)\b"
)

HORARIOS = _rules(
    "horarios",
    r"\bhorarios?\b",
    r"\b(a|hasta|desde)\s+que\s+horas?\b",
    r"\b(abren|abre|cierran|cierra|atienden|abiertos?|cerrados?)\b",
    r"\bque\s+dias\s+(trabajan|atienden|abren)\b",
)

UBICACION = _rules(
    "ubicacion",
    r"\bubicacion\b",
    r"\bubicad[oa]s\b",
    r"\bcomo\s+(llego|llegar|los\s+encuentro)\b",
    r"\b(google\s+)?maps\b",
    r"\b(pin|waze)\b",
)

DIRECCION = _rules(
    "direccion",
    r"\bdireccion\b",
    r"\bdonde\s+(queda|quedan|es|esta|estan)\s+(la\s+|el\s+)?(tienda|local|almacen|negocio|punto)\b",
    r"\bdonde\s+quedan\b",
    r"\bque\s+barrio\b",
    r"\b(tienda|local|punto)\s+(fisic[oa]|de\s+venta)\b",
)

ENVIOS = _rules(
    "envios",
    r"\b(envio|envios|enviar|envian|envias|despach\w*|domicilio|domicilios|transportadora|flete)\b",
    r"\b(servientrega|interrapidisimo|inter\s+rapidisimo|coordinadora|envia)\b",
    r"\bmandan\s+(a|hasta|para)\b",
    r"\b(demora|tarda|demoran|tardan)\b.*\b(llegar|envio|pedido)\b",
    r"\b(se\s+demora|se\s+tarda|demora\s+en|tarda\s+en)\b",
    r"\bllega\w*\s+(un\s+|el\s+|mi\s+)?(pedido|paquete)?\s*(a|hasta)\s+\w+",
)

PAGOS = _rules(
    "pagos",
    r"\b(pago|pagos|pagar|pagarles)\b",
    r"\b(nequi|daviplata|pse|contraentrega|efecty|bancolombia|davivienda)\b",
    r"\bcontra\s+entrega\b",
    r"\b(tarjeta|efectivo|transferencia|consign\w*)\b",
)

# Phrases that turn a shipping or payment question into one about *this* customer's order: the model (with the
# conversation's context) or a person answers those, not a fixed text.
ORDER_TRACKING = _rules(
    "seguimiento",
    r"\bmi\s+(pedido|paquete|compra|envio|orden)\b",
    r"\bnumero\s+de\s+guia\b",
    r"\bya\s+(hice|realice|compre)\b",
    r"\bcuando\s+me\s+lo\s+(despachan|envian|mandan)\b",
    r"\bno\s+me\s+ha\s+llegado\b",
)
PAYMENT_FOLLOWUP = _rules(
    "pago_realizado",
    r"\bya\s+(pague|consigne|transferi|le\s+consigne)\b",
    r"\bcomprobante\b",
    r"\b(mitad|cuotas|abono|abonar)\b",
)
CONSULT_MARKERS: tuple[tuple[str, tuple[Rule, ...]], ...] = (("envios", ORDER_TRACKING), ("pagos", PAYMENT_FOLLOWUP))

GREETING = re.compile(
    r"\b(buenas\s+(tardes|noches)|buenos\s+dias|buen\s+dia|hola|buenas|que\s+mas|que\s+tal|quiubo|que\s+hubo|"
    r"saludos|hey|alo|como\s+(estan|esta|estas|va|vamos))\b"
)
FAREWELL = re.compile(
    r"\b(chao|chau|adios|hasta\s+(luego|manana|pronto|la\s+proxima)|nos\s+(hablamos|vemos)|"
    r"feliz\s+(dia|tarde|noche|fin\s+de\s+semana)|que\s+(este|estes|esten)\s+bien|bendiciones)\b"
)
THANKS = re.compile(
    r"\b(gracias|muy\s+amable|dios\s+(le|te|les)\s+pague|que\s+dios\s+(la|lo|te|los|las)\s+bendiga|ok|dale|"
    r"listo|super|perfecto|de\s+una|entendido|genial|excelente|bueno)\b"
)
# Words that may accompany a courtesy without turning it into a question.
FILLER = re.compile(
    r"\b(parce|parcero|parcera|senorita|senora|senor|amigo|amiga|veci|vecino|vecina|mi\s+amor|pues|por\s+favor|"
    r"y|la|el|lo|los|por|para|muchas|muchisimas|mil|informacion|todo|muy|tan|usted|ustedes|igualmente|si|"
    r"bien|nada|mas|entonces|bueno|vale|jaja\w*|a\s+la\s+orden|ah|oh|eh|tambien|con|de|que|le|te|me|un|una)\b"
)

LAUGHTER = re.compile(r"^((j|h|s)[aeiou]?){2,}j?$|^(xd|xdd|jsjs\w*|lol|haha\w*)$|^(m|mm|hm|hmm|eh|ah|uh|e)$")
KEYBOARD = re.compile(r"(qwe|wer|ert|rty|asd|sdf|dfg|fgh|ghj|hjk|jkl|zxc|xcv|cvb|vbn|bnm|poi|lkj|mnb)")

# A question about a product of the catalog (its size, colour, price or stock) goes to the model, which has the
# catalog's tools; a FAQ whose pattern happens to match a word of it ("talla") must not answer it. A product
# word and an ask about that product are both needed: "los zapatos tienen garantia?" stays a FAQ.
PRODUCT_WORDS = (r"\b(zapatillas?|tenis|guayos?|botas?|botines?|sandalias?|zapatos?|chaquetas?|camisetas?|camisas?|"
                 r"jeans?|blue\s+jeans?|pantalon\w*|buzos?|hoodies?|sudaderas?|vestidos?|faldas?|shorts?|gorras?|"
                 r"blusas?|chompas?|mochilas?|morrales?|medias|tacones|mocasines|crocs|air\s+max|jordan\w*|nike|"
                 r"adidas|puma|reebok|new\s+balance|converse|vans|superstar)\b")
_SIZE_OR_COLOUR = (r"(\btalla\s+(\d{1,2}([.,]5)?|x{0,3}[sml]|[2-4]xl)\b|\ben\s+(3[4-9]|4[0-6])\b|"
                   r"\b(negr[oa]s?|blanc[oa]s?|azul(es)?|roj[oa]s?|verdes?|gris(es)?|beige|cafes?|rosad[oa]s?|"
                   r"amarill[oa]s?|morad[oa]s?|naranjas?|vinotinto)\b)")
_PRICE_OR_STOCK = (r"\b(precios?|cuesta|cuestan|vale|valen|valor|disponibles?|disponibilidad|stock|agotad[oa]s?|"
                   r"quedan?|existencias?)\b")
# which sizes or colours a product comes in is a question of its stock, not of the size guide
_WHICH_SIZES = (r"(\b(que|cuales|en\s+que)\s+(tallas|colores|numeros)\b|\btallas\s+(grandes|pequenas|plus)\b|"
                r"\bcolores\b)")
PRODUCT = (
    Rule("producto:atributo", re.compile(PRODUCT_WORDS + r".*" + _SIZE_OR_COLOUR + "|" + _SIZE_OR_COLOUR + r".*"
                                         + PRODUCT_WORDS)),
    Rule("producto:precio_stock", re.compile(PRODUCT_WORDS + r".*" + _PRICE_OR_STOCK + "|" + _PRICE_OR_STOCK
                                             + r".*" + PRODUCT_WORDS)),
    Rule("producto:tallas_colores", re.compile(
        PRODUCT_WORDS + r".*" + _WHICH_SIZES + "|" + _WHICH_SIZES + r".*" + PRODUCT_WORDS)),
    Rule("producto:talla", re.compile(r"\b(tienen|tiene|hay|manejan|queda|quedan|viene|vienen)\b.*"
                                      r"\btalla\s+(\d{1,2}([.,]5)?|x{0,3}[sml]|[2-4]xl)\b")),
)
