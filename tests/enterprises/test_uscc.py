import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.enterprises.uscc import (
    ALPHABET,
    USCC,
    InvalidUSCC,
    check_character,
    city_code,
    make_uscc,
    normalize,
    org_code_check_ok,
    random_uscc,
    validate,
)

# DOMAIN.md "Unified Social Credit Code"
VALID = [
    "91110000600037341L",
    "91130400104365768G",
    "91310000703010619L",
    "914403001922038216",
    "91360100MA35K8T29N",
    "91360700MA38R4Q11R",
    "91361100MA39B7N57E",
    "91360400705512348L",
    "913601000010003010",
]
INVALID = [
    ("91360100MA35K8T29A", "check"),
    ("91360100MAI5K8T29N", "alphabet"),
    ("91360100MA35K8T29", "length"),
    ("91360100M3A5K8T29N", "check"),  # transposition of A and 3
]
ORG_CODE_WARNING = "91360100MA35K8T20T"

CITIES = [f"36{n:02d}00" for n in range(1, 12)]


@pytest.mark.parametrize("code", VALID)
def test_valid_vectors(code):
    assert validate(code) == USCC(code, ())
    assert check_character(code[:17]) == code[17]
    assert org_code_check_ok(code)


@pytest.mark.parametrize(("code", "reason"), INVALID)
def test_invalid_vectors(code, reason):
    with pytest.raises(InvalidUSCC) as caught:
        validate(code)
    assert caught.value.reason == reason
    assert caught.value.code == code
    assert str(caught.value)
    assert caught.value.message_zh
    assert isinstance(caught.value, ValueError)


def test_alphabet_error_names_the_position():
    with pytest.raises(InvalidUSCC) as caught:
        validate("91360100MAI5K8T29N")
    assert caught.value.position == 11
    assert "'I'" in str(caught.value)
    assert "第11位" in caught.value.message_zh


@pytest.mark.parametrize("letter", "IOSVZ")
def test_excluded_letters_are_alphabet_errors(letter):
    with pytest.raises(InvalidUSCC) as caught:
        validate("91360100M" + letter + "35K8T29N")
    assert caught.value.reason == "alphabet"


@pytest.mark.parametrize(
    ("raw", "length"), [("", 0), ("9136", 4), ("91360100MA35K8T29NX", 19), ("  - ", 0)]
)
def test_wrong_length(raw, length):
    with pytest.raises(InvalidUSCC) as caught:
        validate(raw)
    assert caught.value.reason == "length"
    assert str(length) in str(caught.value)
    assert str(length) in caught.value.message_zh


def test_length_is_checked_before_alphabet():
    with pytest.raises(InvalidUSCC) as caught:
        validate("9136O100MA35K8T29")
    assert caught.value.reason == "length"


def test_org_code_failure_is_only_a_warning():
    result = validate(ORG_CODE_WARNING)
    assert result == USCC(ORG_CODE_WARNING, ("org_code_check",))
    assert not org_code_check_ok(ORG_CODE_WARNING)


@pytest.mark.parametrize(
    "raw",
    [
        "91360100MA35K8T29N",
        "91360100ma35k8t29n",
        "91360100-MA35K8T29N",
        "9136 0100 MA35 K8T2 9N",
        "9136-0100-MA35-K8T2-9N",
        " 91360100MA35K8T29N\n",
        "\t9136\u00a00100\u2003MA35K8T29N",
        "９１３６０１００ＭＡ３５Ｋ８Ｔ２９Ｎ",
        "９１３６０１００\u3000ＭＡ３５\u3000Ｋ８Ｔ２９Ｎ",
        "９１３６０１００－ｍａ３５Ｋ８Ｔ２９ｎ",
        "91360100\u2010MA35\u2014K8T2\u2212" + "9N",
        "91360100\u2011MA35\ufe63K8T2\u200b9N\ufeff",
    ],
)
def test_normalisation(raw):
    assert normalize(raw) == "91360100MA35K8T29N"
    assert validate(raw).code == "91360100MA35K8T29N"


def test_normalize_keeps_other_characters_for_validation():
    assert normalize("91360100.MA35K8T29N") == "91360100.MA35K8T29N"
    with pytest.raises(InvalidUSCC) as caught:
        validate("9136010.MA35K8T29N")
    assert caught.value.reason == "alphabet"


@pytest.mark.parametrize(
    ("code", "city"),
    [
        ("91360100MA35K8T29N", "360100"),
        ("91360700MA38R4Q11R", "360700"),
        ("91361100MA39B7N57E", "361100"),
        ("91360400705512348L", "360400"),
        ("91360102MA35K8T29N", "360100"),  # a county code belongs to its city
        ("91110000600037341L", None),
        ("91360000MA35K8T29N", None),  # province level
        ("91361200MA35K8T29N", None),
    ],
)
def test_city_code(code, city):
    assert city_code(code, CITIES) == city
    assert city_code(code, frozenset(CITIES)) == city


def test_city_code_of_short_input():
    assert city_code("9136", CITIES) is None


@pytest.mark.parametrize("bad", ["", "1234567890123456", "91360100MA35K8T29N", "91360100MAI5K8T29"])
def test_check_character_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        check_character(bad)


@pytest.mark.parametrize("code", VALID)
def test_make_uscc_rebuilds_the_vectors(code):
    assert make_uscc(code[2:8], code[8:16], code[1], code[0]) == code


def test_make_uscc_round_trips_through_validate():
    rng = random.Random(20150901)
    seen_x = False
    for _ in range(5000):
        area = rng.choice(CITIES)
        base = "".join(rng.choices(ALPHABET, k=8))
        code = make_uscc(area, base)
        assert validate(code) == USCC(code, ())
        assert code[:16] == "91" + area + base
        seen_x = seen_x or code[16] == "X"
    # About one base in 11 gets the organisation-code check X; it must still be valid.
    assert seen_x


@pytest.mark.parametrize(
    ("area", "base"),
    [("36010", "MA35K8T2"), ("360100", "MA35K8T"), ("360100", "MA35K8TI"), ("360100", "ma35k8t2")],
)
def test_make_uscc_rejects_bad_parts(area, base):
    with pytest.raises(ValueError):
        make_uscc(area, base)


def test_make_uscc_rejects_bad_category_or_authority():
    with pytest.raises(ValueError):
        make_uscc("360100", "MA35K8T2", category="12")
    with pytest.raises(ValueError):
        make_uscc("360100", "MA35K8T2", authority="O")


def test_random_uscc_is_repeatable_and_valid():
    first = [random_uscc(random.Random(7), "360700") for _ in range(3)]
    assert len(set(first)) == 1
    rng = random.Random(7)
    codes = [random_uscc(rng, "360700", category="2") for _ in range(1000)]
    assert len(set(codes)) == 1000
    for code in codes:
        assert code.startswith("92360700")
        assert validate(code).warnings == ()


valid_codes = st.builds(
    make_uscc,
    st.text(ALPHABET, min_size=6, max_size=6),
    st.text(ALPHABET, min_size=8, max_size=8),
    st.sampled_from(ALPHABET),
    st.sampled_from(ALPHABET),
)


@given(code=valid_codes, position=st.integers(0, 17), shift=st.integers(1, 30))
def test_any_single_substitution_is_detected(code, position, shift):
    # Weights are non-zero mod the prime 31, so changing one value always changes the sum.
    replacement = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    mutated = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidUSCC) as caught:
        validate(mutated)
    assert caught.value.reason == "check"


@given(code=valid_codes, position=st.integers(0, 16))
def test_any_adjacent_transposition_is_detected(code, position):
    first, second = code[position], code[position + 1]
    if first == second:
        return
    swapped = code[:position] + second + first + code[position + 2 :]
    with pytest.raises(InvalidUSCC):
        validate(swapped)
