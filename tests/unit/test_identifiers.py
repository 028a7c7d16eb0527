"""ICCID, EID, matching ID and activation code rules."""

import re
from urllib.parse import unquote

import pytest

from orderhub.domain.identifiers import (
    ActivationCode,
    Iccid,
    eid_valid,
    generate_matching_id,
    luhn_check_digit,
    luhn_valid,
    matching_id_valid,
)

VALID_ICCID = "89014103211118510720"
IOS_PREFIX = "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="
ANDROID_PREFIX = "https://esimsetup.android.com/esim_qrcode_provisioning?carddata="
EID_BODY = "890490320000000000000000000000"  # 30 digits; the 2 check digits are computed below


def valid_eid(body: str = EID_BODY) -> str:
    check = (1 - int(body) * 100) % 97
    return f"{body}{check:02d}"


# --- Luhn ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "digit"),
    [("7992739871", 3), ("8901410321111851072", 0), ("0", 0), ("1", 8), ("59", 6), ("18", 2)],
)
def test_luhn_check_digit_known_values(payload, digit):
    assert luhn_check_digit(payload) == digit


def test_luhn_check_digit_rejects_non_digits():
    with pytest.raises(ValueError):
        luhn_check_digit("79927A9871")


@pytest.mark.parametrize("number", ["79927398713", VALID_ICCID, "596", "182", "00"])
def test_luhn_valid_accepts_numbers_with_correct_check_digit(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["79927398710", "79927398714", "89014103211118510721", "", "5", "7992739871a"])
def test_luhn_valid_rejects_wrong_check_digit_short_or_non_digit_input(number):
    assert not luhn_valid(number)


# --- ICCID --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["89" + "0" * 16, "8944990000000000007", VALID_ICCID, "89" + "1" * 20])
def test_iccid_parse_accepts_18_to_22_digits_starting_with_89(raw):
    assert Iccid.parse(raw).value == raw


def test_iccid_parse_strips_surrounding_whitespace():
    assert Iccid.parse(f"  {VALID_ICCID}\n").value == VALID_ICCID


@pytest.mark.parametrize("raw", ["8901410321111851072A", "89O14103211118510720", "89014103-211118510720", ""])
def test_iccid_parse_rejects_non_digits(raw):
    with pytest.raises(ValueError):
        Iccid.parse(raw)


@pytest.mark.parametrize("raw", ["89" + "0" * 15, "89" + "0" * 21])
def test_iccid_parse_rejects_wrong_length(raw):
    with pytest.raises(ValueError):
        Iccid.parse(raw)


@pytest.mark.parametrize("raw", ["99014103211118510720", "80014103211118510720", "09014103211118510720"])
def test_iccid_parse_rejects_prefix_other_than_89(raw):
    with pytest.raises(ValueError):
        Iccid.parse(raw)


@pytest.mark.parametrize("raw", ["123456789", "1", VALID_ICCID, "0" * 22, " 123456789\n"])
def test_an_iccid_reference_is_up_to_22_digits_stripped(raw):
    assert Iccid.reference(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["", " ", "12345678X", "12 34", "\u0661\u0662\u0663", "+123", "1" * 23])
def test_an_iccid_reference_refuses_anything_but_up_to_22_digits(raw):
    with pytest.raises(ValueError, match="an ICCID has"):
        Iccid.reference(raw)


def test_iccid_parse_stays_strict_for_the_seeds_reference():
    # Inventory keeps to E.118: the seed's 123456789 names an eSIM, it does not make one.
    with pytest.raises(ValueError):
        Iccid.parse("123456789")


def test_iccid_generate_gives_19_luhn_valid_digits_with_prefix():
    iccid = Iccid.generate(country_code="46", issuer="01")
    assert len(iccid.value) == 19
    assert iccid.value.isdigit()
    assert iccid.value.startswith("894601")
    assert luhn_valid(iccid.value)
    assert iccid.luhn_ok
    assert Iccid.parse(iccid.value) == iccid


def test_iccid_generate_default_prefix_is_894499():
    assert Iccid.generate().value.startswith("894499")


def test_iccid_generate_values_are_distinct():
    values = {Iccid.generate().value for _ in range(200)}
    assert len(values) == 200


def test_iccid_generate_rejects_length_too_short_for_prefix():
    with pytest.raises(ValueError):
        Iccid.generate(length=7)


def test_iccid_with_bad_check_digit_still_parses_but_is_not_luhn_ok():
    iccid = Iccid.parse("89014103211118510721")
    assert iccid.value == "89014103211118510721"
    assert not iccid.luhn_ok


def test_iccid_str_is_its_digits():
    assert str(Iccid.parse(VALID_ICCID)) == VALID_ICCID


# --- EID ----------------------------------------------------------------------------------------


def test_eid_valid_accepts_32_digits_mod_97_equal_1():
    eid = valid_eid()
    assert len(eid) == 32
    assert int(eid) % 97 == 1
    assert eid_valid(eid)


@pytest.mark.parametrize("residue", [0, 2, 96])
def test_eid_valid_rejects_32_digits_with_other_remainder_mod_97(residue):
    eid = f"{EID_BODY}{(residue - int(EID_BODY) * 100) % 97:02d}"
    assert int(eid) % 97 == residue
    assert not eid_valid(eid)


def test_eid_valid_rejects_one_digit_off():
    eid = valid_eid()
    last = (int(eid[-1]) + 1) % 10
    assert not eid_valid(eid[:-1] + str(last))
    first_zero = eid.index("0")
    assert not eid_valid(eid[:first_zero] + "1" + eid[first_zero + 1 :])


@pytest.mark.parametrize("eid", [valid_eid()[:-1], valid_eid() + "0", ""])
def test_eid_valid_rejects_wrong_length(eid):
    assert not eid_valid(eid)


def test_eid_valid_rejects_non_digits():
    eid = valid_eid()
    assert not eid_valid("A" + eid[1:])
    assert not eid_valid(" " + eid[1:])


# --- matching ID --------------------------------------------------------------------------------


@pytest.mark.parametrize("matching_id", ["ABCDE-12345-FGHIJ-67890", "A", "0-9", "Z" * 64])
def test_matching_id_valid_accepts_upper_case_alphanumerics_and_dash(matching_id):
    assert matching_id_valid(matching_id)


@pytest.mark.parametrize("matching_id", ["abcde-12345", "ABCDe", "", "ABC_123", "ABC 123", "Z" * 65])
def test_matching_id_valid_rejects_lower_case_other_characters_and_bad_length(matching_id):
    assert not matching_id_valid(matching_id)


def test_generate_matching_id_has_four_groups_of_five_upper_case_alphanumerics():
    matching_id = generate_matching_id()
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", matching_id)
    assert matching_id_valid(matching_id)


# --- activation code ----------------------------------------------------------------------------


def test_activation_code_lpa_string():
    code = ActivationCode("smdp.example.com", "ABCDE-12345-FGHIJ-67890")
    assert code.lpa_string == "LPA:1$smdp.example.com$ABCDE-12345-FGHIJ-67890"


@pytest.mark.parametrize("address", ["https://smdp.example.com", "smdp.example.com/path", "", "-bad.example.com"])
def test_activation_code_rejects_smdp_address_that_is_not_a_bare_host(address):
    with pytest.raises(ValueError):
        ActivationCode(address, "ABCDE-12345")


def test_activation_code_rejects_lower_case_matching_id():
    with pytest.raises(ValueError):
        ActivationCode("smdp.example.com", "abcde-12345")


@pytest.mark.parametrize(
    ("attribute", "prefix"), [("ios_install_url", IOS_PREFIX), ("android_install_url", ANDROID_PREFIX)]
)
def test_install_url_carries_the_percent_encoded_lpa_string(attribute, prefix):
    code = ActivationCode("smdp.example.com", "ABCDE-12345-FGHIJ-67890")
    url = getattr(code, attribute)
    assert url.startswith(prefix)
    carddata = url[len(prefix) :]
    assert unquote(carddata) == code.lpa_string
    assert "$" not in carddata
    assert ":" not in carddata
    assert carddata.startswith("LPA%3A1%24")


def test_new_ids_are_uuid7_sorted_by_time_and_unguessable() -> None:
    import uuid

    from orderhub.domain.identifiers import new_id

    earlier, later = new_id(now_ms=1_700_000_000_000), new_id(now_ms=1_700_000_000_001)
    assert earlier < later
    parsed = uuid.UUID(earlier)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert all(str(uuid.UUID(made)) == made for made in (earlier, later, new_id()))  # the canonical spelling
    assert len({new_id(now_ms=1) for _ in range(1000)}) == 1000  # the same millisecond: random bits differ
