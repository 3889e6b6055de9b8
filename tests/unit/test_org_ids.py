import pytest
from hypothesis import given
from hypothesis import strategies as st

from argos_core import org_ids
from argos_core.errors import UnknownOrgId


def test_generated_ids_use_only_the_unambiguous_alphabet():
    for _ in range(500):
        candidate = org_ids.generate()
        assert org_ids.MIN_LENGTH <= len(candidate) <= org_ids.MAX_LENGTH
        assert set(candidate) <= set(org_ids.ALPHABET)


def test_alphabet_has_no_look_alikes():
    assert not set("0O1IL") & set(org_ids.ALPHABET)
    assert org_ids.ALPHABET.upper() == org_ids.ALPHABET


@given(st.text(alphabet=org_ids.ALPHABET, min_size=5, max_size=8), st.text(" \t", max_size=3))
def test_lookups_accept_lower_case_and_surrounding_spaces(code, pad):
    assert org_ids.normalize(f"{pad}{code.lower()}{pad}") == code


@pytest.mark.parametrize(
    "bad", ["", "   ", "ABCD", "ABCDEFGHJ", "ABC0E", "ABCIE", "AB-CD", "ÄBCDE"]
)
def test_malformed_ids_are_unknown(bad):
    with pytest.raises(UnknownOrgId):
        org_ids.normalize(bad)
