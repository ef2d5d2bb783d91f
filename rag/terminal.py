"""The terminal chat behind `askdocs chat`: read a question, stream the answer and its sources, repeat.

Slash commands manage conversations: /new, /sessions, /open ID, /help, /quit (Ctrl-D works too). Ctrl-C
while an answer streams stops that answer (it is not saved) and the chat goes on; an askdocs error during
an answer is shown as one line and the chat goes on. This module only talks to the terminal.
"""

from __future__ import annotations

from collections.abc import Callable

import typer
from langchain_core.runnables import Runnable

from rag.conversation import Conversation
from rag.errors import AskdocsError
from rag.memory import ConversationStore, Session
from rag.render import print_sessions, print_streamed_answer

HELP = "Commands: /new (new conversation), /sessions (list), /open ID (switch), /help, /quit (or Ctrl-D)."
PROMPT = "\nyou> "


def _greet(session: Session) -> None:
    earlier = f", {len(session.turns)} earlier turn(s)" if session.turns else ""
    typer.echo(f"askdocs chat · conversation {session.id}{earlier}. {HELP}")


def _command(line: str, conversation: Conversation) -> Conversation | None:
    """Run a slash command; the conversation to continue with, or None to quit."""
    name, _, argument = line.partition(" ")
    memory = conversation.memory
    if name in ("/quit", "/exit", "/q"):
        return None
    if name == "/new":
        conversation = Conversation(conversation.chain, memory, memory.create())
        _greet(conversation.session)
    elif name == "/sessions":
        print_sessions(memory.sessions())
    elif name == "/open" and argument.strip():
        conversation = Conversation(conversation.chain, memory, memory.load(argument))
        _greet(conversation.session)
    else:
        typer.echo(HELP)
    return conversation


def _answer(conversation: Conversation, question: str) -> None:
    try:
        print_streamed_answer(conversation.stream(question))
    except KeyboardInterrupt:
        typer.echo("\n(stopped; this answer was not saved)")


def run_chat(
    chain: Runnable, memory: ConversationStore, session: Session, read: Callable[[str], str] = input
) -> None:
    """The read-answer loop, until /quit or end of input."""
    conversation: Conversation | None = Conversation(chain, memory, session)
    _greet(session)
    while conversation is not None:
        try:
            line = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            break
        try:
            if line.startswith("/"):
                conversation = _command(line, conversation)
            elif line:
                _answer(conversation, line)
        except AskdocsError as exc:
            typer.echo(exc.one_line(), err=True)
    typer.echo("")
