"""The CloudWatch Logs filter pattern language, checked against the examples of AWS's
"Filter pattern syntax" documentation and the edge cases around them."""

from __future__ import annotations

import json

import pytest

from lambdamaker.observability.filter_pattern import (
    FilterPatternError,
    compile_pattern,
    split_fields,
)


def matches(pattern: str, message: str) -> bool:
    return compile_pattern(pattern).matches(message)


# --- terms ------------------------------------------------------------------------------------


def test_empty_pattern_matches_every_event() -> None:
    assert matches("", "anything")
    assert matches("   ", "")


def test_a_term_matches_as_a_case_sensitive_substring() -> None:
    assert matches("ERROR", "[ERROR] A fatal exception has occurred")
    assert matches("ERROR", "Exiting with ERRORCODE: -1")
    assert not matches("ERROR", "error in lower case")


def test_every_plain_term_must_appear() -> None:
    assert matches("ERROR Exception", "[ERROR] Caught IllegalArgumentException")
    assert not matches("ERROR Exception", "[ERROR] nothing else")
    assert matches("Failed to process the request", "[WARN] Failed to process the request")


def test_minus_excludes_a_term_with_or_without_a_space() -> None:
    assert matches("ERROR -Exiting", "[ERROR] A fatal exception")
    assert not matches("ERROR -Exiting", "Exiting with ERRORCODE: -1")
    assert not matches('"ERROR" - "Exiting"', "Exiting with ERRORCODE: -1")


def test_question_mark_terms_need_any_one_of_them() -> None:
    events = ["ERROR WARN message", "ERROR message", "WARN message", "INFO message"]
    assert [matches("?ERROR ?WARN", e) for e in events] == [True, True, True, False]
    assert [matches("ERROR WARN", e) for e in events] == [True, False, False, False]
    assert [matches("ERROR -WARN", e) for e in events] == [False, True, False, False]


def test_quoted_phrase_matches_exactly_with_its_spaces_and_escapes() -> None:
    assert matches('"fatal exception"', "[ERROR] A fatal exception has occurred")
    assert not matches('"fatal  exception"', "[ERROR] A fatal exception has occurred")
    assert matches(r'"say \"hi\""', 'they say "hi" twice')


def test_terms_expose_what_a_store_can_prefilter_on() -> None:
    assert compile_pattern('ERROR "two words" -x ?y').required_terms == ("ERROR", "two words")
    assert compile_pattern("{ $.a = 1 }").required_terms == ()


# --- JSON -------------------------------------------------------------------------------------

DOC = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "latency": 1250.5,
        "code": 404,
        "codeText": "404",
    }
)


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',
        "{ $.eventType = UpdateTrail }",
        "{$.eventType=UpdateTrail}",
        "{ $.sourceIPAddress != 123.123.* }",
        '{ $.arrayKey[0] = "value" }',
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
        "{ $.latency >= 500 }",
        "{ $.latency > +1000 }",
        "{ $.latency < 10e3 }",
        "{ $.code = 404 }",
        "{ $.code != 500 }",
        "{ $.codeText = 404 }",
        '{ $.code = "404" }',
        "{ $.code = 4* }",
        '{ $.eventType = "Update*" }',
        '{ $.eventType = "*Trail" }',
        "{ $.eventType = *date* }",
        "{ $.latency = * }",
        "{ $.eventType = %Upd.*Tr% }",
    ],
)
def test_json_patterns_from_the_documentation_match(pattern: str) -> None:
    assert matches(pattern, DOC), pattern


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "updatetrail" }',
        "{ $.sourceIPAddress != 111.111.* }",
        '{ $.arrayKey[2] = "value" }',
        "{ $.SomeObject NOT EXISTS }",
        "{ $.eventType IS NULL }",
        "{ $.ThisFlag IS FALSE }",
        "{ $.missing = * }",
        "{ $.missing != x }",
        "{ $.latency < 500 }",
        "{ $.eventType > 5 }",
        '{ $.eventType = "Up*Trail" }',
    ],
)
def test_json_patterns_that_do_not_match(pattern: str) -> None:
    assert not matches(pattern, DOC), pattern


def test_a_selector_on_an_object_or_array_matches_neither_equal_nor_unequal() -> None:
    users = '{"users": [1, 2, 3]}'
    assert not matches("{ $.users = 1 }", users)
    assert not matches("{ $.users != 1 }", users)


COMPOUND = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [
            {"id": 2, "email": "John.Doe@example.com"},
            {"id": 3, "email": "Jane.Doe@example.com"},
        ],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
        (
            '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch'
            " && $.actions[2] = nomatch }",
            True,
        ),
        (
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
            " && $.actions[2] = nomatch }",
            False,
        ),
        ("{ $.coordinates[2][0] = 7 }", True),
    ],
)
def test_and_binds_tighter_than_or_and_parentheses_regroup(pattern: str, expected: bool) -> None:
    assert matches(pattern, COMPOUND) is expected


def test_json_pattern_never_matches_text_or_a_json_array() -> None:
    assert not matches("{ $.a = 1 }", "a = 1")
    assert not matches("{ $.a = 1 }", "[1]")
    assert not matches("{ $.a = 1 }", '{"a": 1')


def test_json_pattern_matches_an_event_with_surrounding_whitespace() -> None:
    assert matches("{ $.a = 1 }", '  {"a": 1}\n')


# --- space-delimited --------------------------------------------------------------------------

APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /index.html HTTP/1.0" 404 435',
]


def test_brackets_and_quotes_delimit_single_fields() -> None:
    assert split_fields(APACHE[0]) == [
        "127.0.0.1",
        "-",
        "frank",
        "10/Oct/2000:13:25:15 -0700",
        "GET /apache_pb.gif HTTP/1.0",
        "200",
        "1534",
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ip, user, username, timestamp, request, status_code, bytes]", [True, True, True]),
        ("[ip, user, username, timestamp, request, status_code]", [False, False, False]),
        ("[..., status_code, bytes]", [True, True, True]),
        ("[ip, user, ..., status_code, bytes]", [True, True, True]),
        ("[ip, user, ...]", [True, True, True]),
        (
            "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
            [True, True, False],
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            [True, False, False],
        ),
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", [False, False, True]),
        ("[ip, user, ..., request = *html*, status_code = 4*, bytes]", [False, False, True]),
        ("[..., status_code = 5* || status_code = 4*, bytes]", [False, True, True]),
        ("[..., status_code != 200 && bytes > 1000]", [False, False, False]),
        ("[..., status_code, bytes > 1000 && status_code != 200]", [False, True, False]),
        ("[..., request = %index%, status_code, bytes]", [False, False, True]),
        ("[..., request=*.html*, status_code=4*,]", [False, False, True]),
    ],
)
def test_space_delimited_patterns(pattern: str, expected: list[bool]) -> None:
    assert [matches(pattern, line) for line in APACHE] == expected


def test_space_delimited_or_on_one_field() -> None:
    lines = ["ERROR WARN message", "ERROR message", "WARN message"]
    assert [matches("[w1=ERROR, w2]", x) for x in lines] == [False, True, False]
    assert [matches("[w1=ERROR || w1=WARN, w2]", x) for x in lines] == [False, True, True]


# --- regular expressions ----------------------------------------------------------------------


def test_regex_pattern_searches_the_event() -> None:
    assert matches("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST")
    assert matches("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST")
    assert matches(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "from 10.0.0.12 ok")
    assert not matches(r"%^\d+$%", "abc")


# --- invalid patterns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        '"unterminated',
        "{ $.a = 1",
        "{ $.a = }",
        "{ a = 1 }",
        "{ $.a 1 }",
        "{ $.a > abc }",
        "{ $.a IS MAYBE }",
        "{ $.a = 1 } trailing",
        "{ ($.a = 1 }",
        "{ $.a = 1 && }",
        "[a, b",
        "[a, b > x]",
        "[a,, b]",
        "%(group)%",
        "%[unclosed%",
        "ERROR {",
        "- ",
    ],
)
def test_invalid_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)
