"""Request bodies: JSON text must be valid Unicode, and the error says where it is not."""

from __future__ import annotations

import pytest

from ingest_server.bodies import parse_json
from ingest_server.errors import ApiError


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"hostname": "a\\ud800"}', "hostname"),
        (b'{"hostname": "a\xed\xa0\x80"}', "hostname"),
        (b'{"hostname": "a\xff"}', "hostname"),
        (b'{"samples": [{"ts": 1}, {"ts": "\\udfff"}]}', "samples[1].ts"),
        (b'{"ips": ["ok", "\\ud83d"]}', "ips[1]"),
        (b'{"inner": {"\\ud800": 1}}', "inner"),
        (b'["\\ud800"]', "[0]"),
        (b'"\\ud800"', "body"),
    ],
)
def test_lone_surrogates_are_refused_naming_where_they_are(body, field):
    with pytest.raises(ApiError) as caught:
        parse_json(body)
    assert caught.value.status_code == 400
    assert caught.value.details == [
        {"field": field, "message": "is not valid Unicode (it holds a lone surrogate)"}
    ]


def test_surrogate_pairs_and_other_escapes_are_text_like_any_other():
    body = b'{"host": "caf\\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80", "n": "\\\\ud800"}'
    document = parse_json(body)
    assert document == {"host": "caf\u00e9 \U0001f600 \U0001f600", "n": "\\ud800"}


def test_bodies_that_are_not_json_raise_value_error():
    with pytest.raises(ValueError):
        parse_json(b"{nope")
