"""Chat encoding and parsing through Python on the official cases."""
import json

import dsv4
import pytest


def test_official_cases_encode(encoding_cases):
    assert len(encoding_cases) >= 4
    for case in encoding_cases:
        got = dsv4.chat.encode(case["messages"], mode=case["thinking_mode"])
        assert got == case["expected_prompt"], case["name"]


def test_parse_tool_calls_with_typed_arguments():
    completion = ("Let me check.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
                  "<｜DSML｜parameter name=\"location\" string=\"true\">Beijing</｜DSML｜parameter>\n"
                  "<｜DSML｜parameter name=\"days\" string=\"false\">3</｜DSML｜parameter>\n"
                  "<｜DSML｜parameter name=\"flag\" string=\"true\">false</｜DSML｜parameter>\n"
                  "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>")
    msg = dsv4.chat.parse(completion, mode="chat")
    assert msg["role"] == "assistant"
    assert msg["content"].strip() == "Let me check."
    (call,) = msg["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "Beijing", "days": 3, "flag": "false"}


def test_parse_thinking_completion():
    msg = dsv4.chat.parse("I should greet.</think>Hello!<｜end▁of▁sentence｜>", mode="thinking")
    assert msg["reasoning_content"] == "I should greet."
    assert msg["content"] == "Hello!"
    assert not msg.get("tool_calls")


def test_malformed_dsml_raises_format_error():
    bad = "<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"x\" string=\"false\">{oops</｜DSML｜parameter>\n"
    with pytest.raises(dsv4.FormatError):
        dsv4.chat.parse(bad, mode="chat")
