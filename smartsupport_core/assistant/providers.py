"""Language-model providers behind one small interface.

`OpenAICompatibleProvider` talks to any OpenAI-compatible chat API (OpenAI, Azure, Ollama,
vLLM, llama.cpp) through the `openai` SDK; `RetrievalOnlyProvider` is the default when none
is configured and answers with the retrieved passages themselves. The assistant never lets a
provider's exception reach the user: it falls back to retrieval-only (see `assistant`).
Providers only ever see sources the assistant already filtered for the user.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..plain_text import preview
from ..settings import Settings, get_settings

DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Source:
    """One retrieved item the answer may use; `text` is already safe for this user."""

    kind: str  # "article" | "ticket" | "resolution"
    ref: int | None
    title: str
    text: str
    link: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "title": self.title, "link": self.link}


@dataclass
class Turn:
    """A question with its context: earlier messages and the sources retrieved for it."""

    question: str
    history: list[dict[str, str]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


class ProviderUnavailable(Exception):
    """The provider cannot generate text (retrieval-only, or the model failed)."""


class AnswerTimeout(TimeoutError):
    """The whole answer took longer than the provider's time-out (see `within`)."""


_END = object()


def within(chunks: Iterator[str], seconds: float) -> Iterator[str]:
    """`chunks`, but ending with `AnswerTimeout` once `seconds` have passed since the first
    call, however the stream trickles.

    Why a thread: the SDK's time-out bounds each network read, not the answer; a model that
    sends one token a second never trips it. The stream is read by a daemon thread into a
    queue, and the caller waits on the queue only until the deadline. After the deadline the
    thread is told to stop and closes the stream at its next chunk (or when the SDK's own read
    time-out fires), so nothing keeps the caller waiting.
    """
    inbox: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                inbox.put(chunk)
            inbox.put(_END)
        except BaseException as exc:  # handed to the caller, who decides what a failure means
            inbox.put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    deadline = time.monotonic() + seconds
    threading.Thread(target=pump, name="model-stream", daemon=True).start()
    try:
        while True:
            try:
                item = inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AnswerTimeout(f"no complete answer within {seconds:g} s") from None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield str(item)
    finally:
        stop.set()


class Provider(Protocol):
    """What the assistant needs from a language model (or from its absence)."""

    name: str
    generative: bool
    timeout: float | None  # seconds for a whole answer (None: no model, nothing to wait for)

    def answer(self, system: str, turn: Turn) -> Iterator[str]:
        """Stream the answer to `turn` as text chunks."""
        ...

    def complete(self, system: str, user: str, *, json_object: bool = False) -> str:
        """One whole completion (for ticket and reply suggestions)."""
        ...


KIND_LABEL = {"article": "help article", "ticket": "your ticket", "resolution": "similar resolved request"}


def sources_block(sources: Sequence[Source]) -> str:
    """The numbered sources as the language model reads them."""
    if not sources:
        return "(no sources matched this question)"
    parts = []
    for i, src in enumerate(sources, 1):
        parts.append(f"[{i}] ({KIND_LABEL.get(src.kind, src.kind)}) {src.title}\n{src.text}")
    return "\n\n".join(parts)


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip().splitlines())


class RetrievalOnlyProvider:
    """No language model: one short paragraph quoting the best match, naming at most
    `MAX_SOURCES` sources, and saying so plainly."""

    name = "retrieval only"
    generative = False
    timeout = None

    NO_MODEL = "No language model is configured, so here is the best match I found."
    NOTHING = (
        "I found no help article or past ticket that matches your question. Try other words, "
        "browse the Help Center, or use **Create a ticket** below."
    )
    CLOSING = "If this does not answer your question, use **Create a ticket** below."
    MAX_SOURCES = 3
    QUOTE_CHARS = 320

    def __init__(self, *, say_no_model: bool = True) -> None:
        self.say_no_model = say_no_model

    def answer(self, system: str, turn: Turn) -> Iterator[str]:
        if not turn.sources:
            yield (self.NO_MODEL.split(",")[0] + ". " if self.say_no_model else "") + self.NOTHING
            return
        best, *others = turn.sources[: self.MAX_SOURCES]
        words = [self.NO_MODEL] if self.say_no_model else []
        quote = _md_text(preview(best.text, self.QUOTE_CHARS))
        words.append(f"From **[1] {_md_text(best.title)}** ({KIND_LABEL.get(best.kind, best.kind)}): {quote}")
        if others:
            named = " and ".join(f"[{i}] {_md_text(o.title)}" for i, o in enumerate(others, 2))
            words.append(f"See also {named}.")
        words.append(self.CLOSING)
        yield " ".join(words)

    def complete(self, system: str, user: str, *, json_object: bool = False) -> str:
        raise ProviderUnavailable("No language model is configured.")


def _md_text(text: str) -> str:
    """Plain text inside a Markdown answer: no character of it acts as Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>#|~])", r"\\\1", text)


class OpenAICompatibleProvider:
    """Any OpenAI-compatible chat-completions server, through the `openai` SDK."""

    generative = True

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_tokens: int = 600,
    ) -> None:
        from openai import OpenAI  # imported lazily: the retrieval-only default needs no SDK set-up

        self.model = model
        self.timeout = timeout
        self.name = f"{model} at {base_url}" if base_url else model
        self.max_tokens = max_tokens
        # Local servers (llama.cpp, Ollama) take any key; the SDK insists on one.
        # No retries: a failing model should fall back within the time-out, not three times it.
        self.client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0)

    def messages(self, system: str, turn: Turn) -> list[dict[str, str]]:
        msgs = [{"role": "system", "content": f"{system}\n\nSources:\n{sources_block(turn.sources)}"}]
        msgs += [{"role": m["role"], "content": m["content"]} for m in turn.history]
        msgs.append({"role": "user", "content": turn.question})
        return msgs

    def answer(self, system: str, turn: Turn) -> Iterator[str]:
        stream = self.client.chat.completions.create(
            model=self.model,
            messages=self.messages(system, turn),  # type: ignore[arg-type]
            stream=True,
            max_tokens=self.max_tokens,
            temperature=0.2,
        )
        with stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

    def complete(self, system: str, user: str, *, json_object: bool = False) -> str:
        from openai import BadRequestError

        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": self.max_tokens,
            "temperature": 0.2,
        }
        if json_object:
            try:
                resp = self.client.chat.completions.create(**kwargs, response_format={"type": "json_object"})
            except BadRequestError:  # a server without JSON mode: ask in words, parse leniently
                resp = self.client.chat.completions.create(**kwargs)
        else:
            resp = self.client.chat.completions.create(**kwargs)
        content = resp.choices[0].message.content if resp.choices else None
        if not content:
            raise ProviderUnavailable("The language model returned an empty answer.")
        return content


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in `text` (models often wrap it in prose or code fences)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        match = re.search(r"\{.*\}", text, re.DOTALL)
        if not match:
            raise ValueError("no JSON object in the answer") from None
        value = json.loads(match.group(0))
    if not isinstance(value, dict):
        raise ValueError("the answer is JSON but not an object")
    return value


def timeout_seconds(settings: Settings) -> float:
    """`SMARTSUPPORT_AI_TIMEOUT_SECONDS` (checked > 0 when the settings load)."""
    return settings.ai_timeout_seconds


def get_provider(settings: Settings | None = None) -> Provider:
    """The configured provider: OpenAI-compatible when a base URL or API key is set, else retrieval-only."""
    s = settings or get_settings()
    if not (s.ai_base_url or s.ai_api_key):
        return RetrievalOnlyProvider()
    return OpenAICompatibleProvider(
        model=s.ai_model or DEFAULT_OPENAI_MODEL,
        base_url=s.ai_base_url,
        api_key=s.ai_api_key,
        timeout=timeout_seconds(s),
    )
