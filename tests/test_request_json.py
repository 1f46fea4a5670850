"""JSON bodies nested deeper than the parser follows (kb.web.request_json), on every view that
reads one: the API, the agent panel, the widget's vote and the editor's live preview answer
them as invalid JSON (a 400 with the code each uses), never a 500 with a logged traceback."""

from __future__ import annotations

import logging

import pytest
from staff_fixtures import cheap_hashing  # noqa: F401 (fixtures)
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401

from kb import panel_links
from kb.store.apikeys import create_key
from kb.widget_origins import WidgetOrigins

SHOP = "https://shop.example.com"
SECRET = "test-secret-key"  # conftest.make_settings
DEPTH = 5000


def nested(field: str, depth: int = DEPTH) -> str:
    """``{"<field>": [[[...depth lists...]]]}``, as text (json.dumps itself cannot write it)."""
    return '{"%s": %s%s}' % (field, "[" * depth, "]" * depth)


def assert_bad_json(response, caplog) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "bad_json"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.fixture
def api_key(app) -> str:
    return create_key(app.extensions["kb_db"].connection(), "tests")[1]


@pytest.mark.parametrize("path, field", [("/api/v1/suggest", "message"), ("/api/v1/feedback", "query_id")])
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_api_answers_deep_json_as_bad_json(client, api_key, caplog, path, field, prefix):
    """GIVEN a valid key WHEN the body nests 5000 lists deep THEN 400 bad_json, as for any invalid JSON."""
    caplog.set_level(logging.INFO)
    response = client.post(prefix + path, data=nested(field), content_type="application/json",
                           headers={"Authorization": f"Bearer {api_key}"})
    assert_bad_json(response, caplog)


def test_the_agent_panel_answers_deep_json_as_bad_json(app, client, caplog):
    caplog.set_level(logging.INFO)
    _, token = panel_links.create_link(app.extensions["kb_db"].connection(), "Chatwoot", "https://chat.example.com",
                                       SECRET)
    response = client.post("/agent/api/suggest", data=nested("message"), content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert_bad_json(response, caplog)


def test_the_widget_vote_answers_deep_json_as_bad_json(app, client, caplog):
    """The vote needs no key, only an allowed Origin: the public endpoint of the four."""
    caplog.set_level(logging.INFO)
    WidgetOrigins(app.extensions["kb_db"].connection()).add(SHOP)
    response = client.post("/api/widget/votes", data=nested("slug"), content_type="application/json",
                           headers={"Origin": SHOP})
    assert_bad_json(response, caplog)
    assert response.headers["Access-Control-Allow-Origin"] == SHOP  # the widget can read the error


@pytest.mark.parametrize("raw", [nested("body"), "[1, 2]", "{not json"])
def test_the_live_preview_treats_deep_or_odd_json_as_no_text(editor, caplog, raw):  # noqa: F811
    """The editor's live preview shows nothing for a JSON body it cannot read (as it did for
    invalid JSON): no 500 for a deep one, nor for an array."""
    caplog.set_level(logging.INFO)
    response = editor.client.post("/staff/preview", data=raw, content_type="application/json",
                                  headers={"X-CSRF-Token": editor.token})
    assert response.status_code == 200 and response.get_json()["html"] == ""
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    working = editor.client.post("/staff/preview", json={"body": "## عنوان"}, headers={"X-CSRF-Token": editor.token})
    assert "<h2" in working.get_json()["html"]
