"""On a public deployment only the classified error is kept, whatever the answer's status (issue 25, item 5).

The attack: a 200 answer with an error body skips the sanitising in
``chains/security/egress.py`` (it handles non-2xx answers), and so does an ``error`` event in
a stream. The page showed the generic message, but the record kept the provider's
text, and with it the CSV and JSON exports and the share views:
``INTERNAL-SECRET db=postgres://admin:…@10.0.0.5/prod``, for invoke and stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chains.records.exchange import runs_to_json
from tests.app_harness import open_app, texts
from tests.chains.security.test_egress_http import RecordingServer
from ui.runs.history import export_csv
from ui.runs.keeping import HISTORY_KEY

SECRET = "INTERNAL-SECRET db=postgres://admin:hunter2@10.0.0.5/prod"
ERROR_BODY = json.dumps({"error": {"message": SECRET, "type": "server_error", "code": "internal"}}).encode()
ERROR_EVENT = b"data: " + ERROR_BODY + b"\n\n"


@pytest.fixture
def lying_host() -> Iterator[RecordingServer]:
    """The deployment's endpoint: every answer is a 200 that holds an error."""
    server = RecordingServer()
    server.status = 200
    yield server
    server.close()


@pytest.mark.parametrize(("page", "button", "stream"), [("pages/invoke.py", "run", False), ("pages/stream.py", "run", True)])
def test_a_200_error_body_or_stream_error_event_keeps_no_provider_text(
    monkeypatch: pytest.MonkeyPatch, lying_host: RecordingServer, page: str, button: str, stream: bool
) -> None:
    lying_host.body = ERROR_EVENT if stream else ERROR_BODY
    lying_host.answer_headers = {"Content-Type": "text/event-stream"} if stream else {}
    env = {"PUBLIC_DEPLOYMENT": "true", "OPENAI_BASE_URL": lying_host.origin + "/v1"}
    app = open_app(monkeypatch, page, env=env, state={"timeout_s": 5.0, "max_retries": 0, "provider": "openai", "model_name": "test-model"})
    app.session_state["api_key"] = "x"
    (app.text_input(key="topics") if page == "pages/invoke.py" else app.text_area(key="topics")).set_value("cats")
    app.button(key=button).click()
    app.run(timeout=60)
    assert not app.exception
    assert lying_host.paths, "the request went out"
    records = app.session_state[HISTORY_KEY]
    failed = [call for record in records for call in record.calls if call.error]
    assert failed, "the call failed"
    assert SECRET.split()[0] not in texts(app)
    for record in records:
        assert "INTERNAL-SECRET" not in json.dumps(record.to_dict()), record.calls[0].error
    assert "INTERNAL-SECRET" not in export_csv(records) and "INTERNAL-SECRET" not in runs_to_json(records)
