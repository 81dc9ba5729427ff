"""The one sanitiser every face shows article text through: no escape sequence or control character
reaches a terminal, newlines and tabs survive, ordinary text is untouched."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from typer.testing import CliRunner

from conftest import PROJECT, VENV_BIN, reuse_models
from rag.assistant import Assistant
from rag.conversations import ConversationStore
from rag.sanitize import StreamCleaner, clean, clean_line, dumps, is_clean, json_line

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"
# Anything a terminal would act on: C0 but tab and newline, DEL, C1.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

HOSTILE = [
    (f"a{ESC}]0;pwned{BEL}b", "ab"),  # window title
    (f"a{ESC}]2;pwned{ST}b", "ab"),  # window title, ST-terminated
    (f"a{ESC}]52;c;cm0gLXJmIH4={BEL}b", "ab"),  # clipboard write
    (f"a{ESC}[2Jb{ESC}[Hc", "abc"),  # clear screen, cursor home
    (f"a{ESC}[8mhidden{ESC}[0mb", "ahiddenb"),  # concealed text shows
    (f"a{ESC}[38;2;255;0;0mred", "ared"),  # colour
    (f"a{ESC}[?1049hb", "ab"),  # alternate screen
    (f"a{ESC}P1$r{ST}b", "ab"),  # DCS
    (f"a{ESC}_payload{ST}b", "ab"),  # APC
    (f"a{ESC}^pm{ST}b", "ab"),  # PM
    (f"a{ESC}Xsos{ST}b", "ab"),  # SOS
    (f"a{ESC}cb", "ab"),  # full reset
    (f"a{ESC}#8b", "ab"),  # DECALN: fills the screen with E
    (f"a{ESC}(0b", "ab"),  # line-drawing charset
    ("a\x9b2Jb", "ab"),  # 8-bit CSI
    ("a\x9d0;pwned\x9cb", "ab"),  # 8-bit OSC with 8-bit ST
    ("a\x9d0;pwned\x07b", "ab"),
    ("a\x90dcs\x9cb", "ab"),
    ("a\x00b\x08c\x7fd\x85e", "abcde"),  # NUL, backspace, DEL, NEL
    ("a\u202eevil\u202cb", "aevilb"),  # right-to-left override
    (f"a{ESC}", "a"),  # a lone ESC at the end
    (f"a{ESC}]0;unterminated title", "a0;unterminated title"),  # inert without its introducer
]


@pytest.mark.parametrize("raw, shown", HOSTILE)
def test_escape_sequences_and_controls_are_removed_whole(raw, shown):
    assert clean(raw) == shown
    assert not CONTROL.search(clean(raw))
    assert not is_clean(raw)


@pytest.mark.parametrize("text", [
    "Plain news: the budget cuts 12 billion euros [1].",
    "Zürich, São Paulo, Kraków, Ελλάδα, 東京, café — “quoted” ‘single’ … €5",
    "Two lines\nand a\ttab",
    "Emoji 🎉 and an Arabic name: محمد",
])
def test_ordinary_text_is_untouched(text):
    assert clean(text) == text
    assert is_clean(text)


def test_carriage_returns_become_newlines_not_overwrites():
    assert clean("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_clean_line_is_one_line():
    assert clean_line(f"Title{ESC}]0;x{BEL}\nsecond\tline\r\n") == "Title second line"


def test_a_long_run_of_unterminated_introducers_is_fast():
    text = (f"{ESC}]" + "x" * 50) * 20_000  # 1 MB of unterminated OSCs: linear, not quadratic
    assert CONTROL.search(clean(text)) is None


def test_a_sequence_split_over_streamed_pieces_is_removed_whole():
    cleaner = StreamCleaner()
    pieces = ["It cost", f"{ESC}]0;pw", f"ned{BEL} 90 mil", f"lion{ESC}", "[2J euros", "\x9b", "8m."]
    shown = "".join(cleaner.feed(p) for p in pieces) + cleaner.flush()
    assert shown == "It cost 90 million euros."
    assert cleaner.feed(f"{ESC}]0;" + "x" * 5000) == "0;" + "x" * 5000  # never held back without end


def test_json_keeps_the_value_and_escapes_c1():
    record = {"quote": f"a{ESC}]0;t{BEL}\x9b2J\u202e\x7fé"}
    line = json_line(json.dumps(record, ensure_ascii=False))
    assert not CONTROL.search(line) and "\u202e" not in line
    assert json.loads(line) == record  # stored text stays verbatim
    assert json.loads(dumps(record)) == record and "é" in dumps(record)


def test_rich_alone_does_not_strip_escapes():
    """Why the sanitiser exists: rich's Text passes ESC (and C1) to the terminal."""
    buf = io.StringIO()
    Console(file=buf, force_terminal=False).print(Text(f"a{ESC}]0;pwned{BEL}b\x9b2J"))
    assert ESC in buf.getvalue() and "\x9b" in buf.getvalue()
    buf = io.StringIO()
    Console(file=buf, force_terminal=False).print(Text(clean(f"a{ESC}]0;pwned{BEL}b\x9b2J")))
    assert not CONTROL.search(buf.getvalue().replace("\n", ""))


# ----- end to end: an article full of escape sequences, through every face --------------------------------

HOSTILE_ID = f"harbour{ESC}[2J{ESC}]0;pwned-name{BEL}"  # a file name is a doc_id
HOSTILE_TITLE = f"Harbour bridge{ESC}]0;pwned{BEL} opens{ESC}[8m"
HOSTILE_ARTICLE = (
    f"---\ntitle: {HOSTILE_TITLE}\ndate: 2025-03-03\n---\n"
    f"The Aarhus harbour bridge opened to traffic on Monday{ESC}]0;pwned{BEL} after four years of work.\n\n"
    f"The Aarhus harbour bridge cost 90 million euros{ESC}[2J{ESC}[H, the city council said"
    f"{ESC}]52;c;cm0gLXJmIH4K{BEL} on Monday.\n\n"
    f"Engineers tested the bridge\x9b8m with 40 loaded lorries{ESC}P1$r{ST} in February\u202e, officials said.\n"
)
QUESTION = "How much did the Aarhus harbour bridge cost?"
PAYLOADS = ["]0;", "]52;", "[2J", "[8m", "pwned"]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory, st_encoder, seeds_index) -> Path:
    """An index over the hostile article (escapes in its text, front-matter title and file name) and one
    plain seed article, built with the real embedder through `rag index` run in-process; its warnings
    (a hostile-named empty file is skipped) are checked by the test below."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "articles"
    folder.mkdir()
    (folder / f"{HOSTILE_ID}.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    (folder / f"empty{ESC}]0;pwned{BEL}-{ESC}[31mred.txt").write_text("", encoding="utf-8")
    shutil.copy2(PROJECT / "seeds" / "000_55f53b4e7d160d1a.txt", folder)
    from rag.cli import app

    with pytest.MonkeyPatch.context() as mp:
        reuse_models(mp, st_encoder, seeds_index)
        result = CliRunner().invoke(app, ["index", str(folder), "--index-dir", str(root / "index")])
    assert result.exit_code == 0, result.output
    (root / "index-output.txt").write_bytes(result.output.encode("utf-8", "surrogateescape"))
    return root / "index"


def raw_rag(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_CONFIG", "RAG_INDEX_DIR")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="200")
    return subprocess.run([str(VENV_BIN / "rag"), *args], input=stdin, capture_output=True, timeout=300,
                          env=env, cwd=PROJECT)


def assert_terminal_safe(data: bytes) -> None:
    """No ESC, no other C0 control but newline and tab, no C1 control (raw or UTF-8 encoded)."""
    text = data.decode("utf-8", errors="replace")
    assert not CONTROL.search(text), repr([m.group() for m in CONTROL.finditer(text)][:5])
    assert "\u202e" not in text


def test_index_warnings_are_terminal_safe(hostile_index):
    output = (hostile_index.parent / "index-output.txt").read_bytes()
    assert b"empty-red.txt: empty file" in output  # the warning names the file, cleaned
    assert_terminal_safe(output)


def test_rag_ask_output_has_no_escape_or_control_bytes(hostile_index):
    """The raw bytes of `rag ask` (real models) answering from the hostile article."""
    store = Assistant(index_path=hostile_index).store
    stored = store.document(HOSTILE_ID)
    assert ESC in stored.text and ESC in stored.title  # the index keeps the article verbatim
    proc = raw_rag("ask", "--index-dir", str(hostile_index), QUESTION)
    assert proc.returncode == 0, proc.stderr
    assert b"90 million euros" in proc.stdout, proc.stdout  # the answer is there ...
    assert b"Harbour bridge" in proc.stdout and b"harbour" in proc.stdout  # ... with its title and doc_id
    assert_terminal_safe(proc.stdout)  # ... and nothing a terminal would obey
    assert_terminal_safe(proc.stderr)


def test_rag_articles_lists_a_hostile_title_and_file_name_cleaned(hostile_index):
    proc = raw_rag("articles", "--index-dir", str(hostile_index))
    assert proc.returncode == 0, proc.stderr
    assert_terminal_safe(proc.stdout + proc.stderr)
    hostile = next(line for line in proc.stdout.decode().splitlines() if "harbour" in line)
    assert hostile.startswith("2025-03-03  ") and "Harbour bridge opens" in hostile
    proc = raw_rag("articles", "--json", "--index-dir", str(hostile_index))
    assert_terminal_safe(proc.stdout)
    assert {json.loads(line)["title"] for line in proc.stdout.splitlines()} >= {HOSTILE_TITLE}  # verbatim


def test_rag_ask_json_keeps_the_quote_verbatim_but_escaped(hostile_index):
    proc = raw_rag("ask", "--json", "--index-dir", str(hostile_index), QUESTION)
    assert proc.returncode == 0, proc.stderr
    assert_terminal_safe(proc.stdout)
    record = json.loads(proc.stdout)
    document = Assistant(index_path=hostile_index).store.document(HOSTILE_ID)
    cited = [c for c in record["citations"] if c["doc_id"] == HOSTILE_ID]
    assert cited, record
    for c in cited:  # stored text and offsets stay verbatim: the quote still has its escape sequences
        assert document.text[c["start"] : c["end"]] == c["quote"] and ESC in c["quote"] + c["text"]


def test_rag_ask_streamed_to_a_terminal_shows_no_payload(hostile_index):
    """On a terminal the answer streams (rich draws it with its own escape codes); none of the article's
    sequences gets through."""
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_CONFIG", "RAG_INDEX_DIR")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="200", TERM="xterm")
    proc = subprocess.Popen([str(VENV_BIN / "rag"), "ask", "--index-dir", str(hostile_index), QUESTION],
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env, cwd=PROJECT)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0
    os.close(leader)
    shown = b"".join(chunks).decode("utf-8", errors="replace")
    assert "90 million euros" in shown
    for payload in PAYLOADS:
        assert payload not in shown, payload
    assert "\x9b" not in shown and "\u202e" not in shown


# ----- the chat app --------------------------------------------------------------------------------------

def screen_text(app) -> str:
    """Every character the app would draw for its current screen, as text segments (Textual's own
    styling is not in them: it travels as styles, not as escape codes)."""
    update = app.screen._compositor.render_update(full=True)
    return "\n".join("".join(seg.text for strip in line for seg in strip if not seg.control)
                     for line in update.strips)


@pytest.mark.slow
async def test_chat_app_title_and_answer_survive_a_hostile_article(hostile_index, assistant, tmp_path,
                                                                   monkeypatch):
    from rag.tui.app import ChatApp
    from rag.tui.screens import ArticleScreen
    from test_tui import ask_real, settle

    core = Assistant(index_path=hostile_index)
    core._llm = assistant.llm
    app = ChatApp(core, store=ConversationStore(tmp_path / "data"))
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot, app)
        await ask_real(pilot, app, QUESTION)
        answer = app.chat.turns[0].answer
        assert answer is not None and not answer.abstained, answer
        assert any(ESC in c.quote or ESC in c.title for c in answer.citations)  # hostile text was cited
        drawn = screen_text(app)
        assert "90 million euros" in drawn  # the answer is shown, not wiped
        assert app.title == "rag chat" and "pwned" not in app.sub_title
        assert_terminal_safe(drawn.encode())
        for payload in PAYLOADS:
            assert payload not in drawn, payload
        app.query_one("#sources-list").focus()
        await pilot.press("enter")  # the article itself, quote highlighted
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen)
        drawn = screen_text(app)
        assert "Harbour bridge" in drawn and "90 million euros" in drawn
        assert_terminal_safe(drawn.encode())
        assert "pwned" not in drawn
        await pilot.press("escape")
        await pilot.pause()
        app.chat.action_copy_answer()
        assert_terminal_safe(app.clipboard.encode())
        monkeypatch.chdir(tmp_path)
        app.chat.action_export()
        exported = next(tmp_path.glob("conversation-*.md")).read_bytes()
        assert b"90 million euros" in exported
        assert_terminal_safe(exported)


async def test_chat_app_streams_and_notifies_without_escapes(tmp_path):
    """The chat app with a stand-in core: escape sequences in streamed pieces, in the answer, the
    citation's title and doc_id, the article and an error message never reach the screen."""
    import threading

    from rag.errors import GenerationError
    from rag.schema import Answer, Citation, Delta, Document, Final
    from rag.tui.screens import ArticleScreen
    from test_tui import FakeAssistant, make_app, settle

    quote = f"The bridge cost 90 million euros{ESC}[2J, officials said{ESC}]0;pwned{BEL}."
    text = f"{HOSTILE_TITLE}\n\nIntro{ESC}]52;c;eA=={BEL} paragraph.\n\n{quote} More.\n"
    gate = threading.Event()

    class Hostile(FakeAssistant):
        def document(self, doc_id):
            return Document(doc_id=doc_id, title=HOSTILE_TITLE, source=f"x{ESC}[8m.txt", text=text, sha256="0")

        def stream(self, question, history=()):
            if question == "fail":
                raise GenerationError(f"generation failed on {HOSTILE_ID}{ESC}]0;pwned{BEL} [llm.x]")
            yield Delta(text=f"It cost{ESC}]0;pw")
            yield Delta(text=f"ned{BEL} 90 million{ESC}[2J")
            assert gate.wait(10)
            start = text.index(quote)
            yield Final(answer=Answer(question=question, answer=f"“{quote}” [1]", model="fake", citations=[
                Citation(n=1, doc_id=HOSTILE_ID, title=HOSTILE_TITLE, chunk_id=f"{HOSTILE_ID}#0", quote=quote,
                         text=quote, start=start, end=start + len(quote))]))

    app = make_app(tmp_path, Hostile())
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot, app)
        app.chat.question_input.set_text(f"What did it cost{ESC}[2J?")
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if "90 million" in screen_text(app):
                break
        streaming = screen_text(app)  # mid-stream
        gate.set()
        await settle(pilot, app)
        settled = screen_text(app)
        assert "90 million euros" in settled and app.title == "rag chat"
        app.query_one("#sources-list").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen)
        article = screen_text(app)
        assert "Harbour bridge opens" in article and "officials said." in article
        app.screen.dismiss()
        await settle(pilot, app)
        assert not isinstance(app.screen, ArticleScreen)
        app.chat.question_input.focus()
        app.chat.question_input.set_text("fail")
        await pilot.press("enter")
        await settle(pilot, app)
        (note,) = [n for n in app._notifications if n.severity == "error"]
        assert note.message == "generation failed on harbour [llm.x]"  # cleaned ...
        assert note.markup is False  # ... and shown as written, not read as markup
    for drawn in (streaming, settled, article):
        assert_terminal_safe(drawn.encode())
        assert "pwned" not in drawn and "[2J" not in drawn
