"""What the communication operator may show its end customer, in the CO's language (en, sv)."""

from __future__ import annotations

from orderhub.domain.accesses import MAX_SERVICES_PER_ORDER, RefusalReason

MAX_TEXT = 255  # characters in a text field (ON-API's data formats)

MESSAGES: dict[str, dict[str, str]] = {
    "body": {
        "en": "The order could not be read.",
        "sv": "Beställningen kunde inte läsas.",
    },
    "order": {
        "en": "The order is incorrect; please contact your provider.",
        "sv": "Beställningen är felaktig; kontakta din leverantör.",
    },
    "pin": {
        "en": "Social security number is missing or incorrect.",
        "sv": "Personnumret saknas eller är felaktigt.",
    },
    "products": {
        "en": f"An order may hold at most {MAX_SERVICES_PER_ORDER} services, each of them once.",
        "sv": f"En beställning får innehålla högst {MAX_SERVICES_PER_ORDER} tjänster, var och en bara en gång.",
    },
    "email": {"en": "The e-mail address is incorrect.", "sv": "E-postadressen är felaktig."},
    "phone": {"en": "The phone number is incorrect.", "sv": "Telefonnumret är felaktigt."},
    "postal_code": {"en": "The postal code is incorrect.", "sv": "Postnumret är felaktigt."},
    "name": {"en": "The name is missing or too long.", "sv": "Namnet saknas eller är för långt."},
    "address": {"en": "The invoice address is incomplete.", "sv": "Fakturaadressen är ofullständig."},
    # A text field's faults other than its absence, said of the field's subject (SUBJECTS).
    "character": {
        "en": "{subject} contains a character that is not allowed.",
        "sv": "{subject} innehåller ett tecken som inte är tillåtet.",
    },
    "too_long": {
        "en": f"{{subject}} is longer than {MAX_TEXT} characters.",
        "sv": f"{{subject}} är längre än {MAX_TEXT} tecken.",
    },
    "date": {"en": "The requested date is incorrect.", "sv": "Det önskade datumet är felaktigt."},
    "activated": {"en": "The service is activated.", "sv": "Tjänsten är aktiverad."},
    "received": {
        "en": "The order is received. The service will be activated {when}.",
        "sv": "Beställningen är mottagen. Tjänsten aktiveras {when}.",
    },
    "received_due": {
        "en": "The order is received. The service will be activated as soon as possible.",
        "sv": "Beställningen är mottagen. Tjänsten aktiveras så snart som möjligt.",
    },
    "failed": {
        "en": "The service could not be activated. Please contact customer service.",
        "sv": "Tjänsten kunde inte aktiveras. Kontakta kundtjänst.",
    },
    RefusalReason.OFFERING_NOT_AVAILABLE: {
        "en": "The selected service is not available at this address.",
        "sv": "Den valda tjänsten finns inte på den här adressen.",
    },
    RefusalReason.ACCESS_NOT_FOUND: {
        "en": "The connection could not be found.",
        "sv": "Anslutningen kunde inte hittas.",
    },
    RefusalReason.ACCESS_BLOCKED: {
        "en": "New orders cannot be placed for this connection right now.",
        "sv": "Det går inte att beställa till den här anslutningen just nu.",
    },
    RefusalReason.ALREADY_ACTIVE: {
        "en": "The service is already active on this connection.",
        "sv": "Tjänsten är redan aktiv på den här anslutningen.",
    },
    RefusalReason.ALREADY_ORDERED: {
        "en": "The service is already ordered for this connection.",
        "sv": "Tjänsten är redan beställd till den här anslutningen.",
    },
}


# What a text field is about, as the end customer reads it: the subject of "character" and "too_long".
SUBJECTS: dict[str, dict[str, str]] = {
    "name": {"en": "The name", "sv": "Namnet"},
    "phone": {"en": "The phone number", "sv": "Telefonnumret"},
    "email": {"en": "The e-mail address", "sv": "E-postadressen"},
    "address": {"en": "The invoice address", "sv": "Fakturaadressen"},
}


def message(key: str, language: str, **values: str) -> str:
    texts = MESSAGES[key]
    return texts.get(language, texts["en"]).format(**values)


def fault_message(fault: str, subject: str, language: str) -> str:
    """``fault`` ("character", "too_long") of the field whose subject is ``subject`` (a SUBJECTS key)."""
    subjects = SUBJECTS[subject]
    return message(fault, language, subject=subjects.get(language, subjects["en"]))
