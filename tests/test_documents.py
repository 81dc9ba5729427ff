"""Files -> Documents: titles, ids, dates, and refusing what is not an article with a reason."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import SEED_FILES, one_line
from rag.documents import MAX_BYTES, Skipped, find_articles, load_documents, read_document
from rag.errors import InputError

BODY = "Ministers met in Brussels on Friday to discuss the ceasefire proposal. The talks ran late.\n"


def test_seed_documents(tmp_path):
    docs, skipped, warnings = load_documents([SEED_FILES[0].parent])
    assert [d.doc_id for d in docs] == [f.stem for f in SEED_FILES]  # gold.jsonl is not an article
    assert skipped == [] and warnings == []
    for doc, path in zip(docs, SEED_FILES, strict=True):
        raw = path.read_bytes()
        assert doc.sha256 == hashlib.sha256(raw).hexdigest()
        assert doc.source == str(path)
        assert doc.text == raw.decode("utf-8-sig").replace("\r\n", "\n")
        assert 0 < len(doc.title) <= 101 and "\n" not in doc.title
        assert doc.title.rstrip("…") in doc.text[:400]


def test_title_from_first_line_and_doc_id_from_stem(tmp_path):
    f = tmp_path / "2025-04-04 nato.txt"
    f.write_text("\n\n# NATO ministers meet in Brussels  \n\n" + BODY, encoding="utf-8")
    doc, warnings = read_document(f)
    assert doc.doc_id == "2025-04-04 nato"
    assert doc.title == "NATO ministers meet in Brussels"
    assert warnings == []


def test_long_first_line_is_cut_at_a_word(tmp_path):
    line = "Word " * 60
    f = tmp_path / "long.txt"
    f.write_text(line + "\n" + BODY, encoding="utf-8")
    doc, _ = read_document(f)
    assert doc.title.endswith("…") and len(doc.title) <= 101
    assert line.startswith(doc.title[:-1])
    assert not doc.title[:-1].endswith(" ")


def test_title_and_date_from_front_matter(tmp_path):
    f = tmp_path / "fm.md"
    f.write_text('---\ntitle: "Allies urge Russia to accept ceasefire"\ndate: 2025-04-04\nauthor: EFE\n---\n'
                 "Brussels (EFE) opening line\n" + BODY, encoding="utf-8")
    doc, _ = read_document(f)
    assert doc.title == "Allies urge Russia to accept ceasefire"
    assert doc.date == "2025-04-04"
    assert doc.doc_id == "fm"
    # offsets are into the full text, front matter included, so citations stay exact
    assert doc.text.startswith("---\n")


def test_date_found_near_the_top(tmp_path):
    f = tmp_path / "dated.txt"
    f.write_text("Headline\n date 2025-04-04 " + BODY, encoding="utf-8")
    assert read_document(f)[0].date == "2025-04-04"
    g = tmp_path / "undated.txt"
    g.write_text("Headline\n" + BODY, encoding="utf-8")
    assert read_document(g)[0].date is None


def test_a_leading_date_is_not_the_title(tmp_path):
    f = tmp_path / "rubio.txt"
    f.write_text(" date 2025-04-04 United States Secretary of State Marco Rubio surprised NATO counterparts.\n"
                 + BODY, encoding="utf-8")
    doc, _ = read_document(f)
    assert doc.date == "2025-04-04"
    assert doc.title.startswith("United States Secretary of State")


def test_crlf_and_bom_are_normalised(tmp_path):
    f = tmp_path / "win.txt"
    f.write_bytes(b"\xef\xbb\xbfTitle line\r\n" + BODY.encode().replace(b"\n", b"\r\n"))
    doc, warnings = read_document(f)
    assert doc.title == "Title line" and "\r" not in doc.text and not doc.text.startswith("\ufeff")
    assert warnings == []


def test_empty_and_whitespace_files_are_skipped(tmp_path):
    for name, content in [("empty.txt", ""), ("blank.txt", "  \n\n\t\n")]:
        f = tmp_path / name
        f.write_text(content)
        with pytest.raises(Skipped, match="empty"):
            read_document(f)
    fm_only = tmp_path / "fm_only.md"
    fm_only.write_text("---\ntitle: Nothing here\n---\n\n")
    with pytest.raises(Skipped, match="empty"):
        read_document(fm_only)


def test_binary_file_is_skipped(tmp_path):
    f = tmp_path / "photo.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(Skipped, match="binary"):
        read_document(f)


def test_non_utf8_is_decoded_with_replacement_and_a_warning(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("Ministre Barrot à Bruxelles\n".encode("latin-1") + BODY.encode())
    doc, warnings = read_document(f)
    assert "\ufffd" in doc.text and "Barrot" in doc.text
    assert len(warnings) == 1 and str(f) in warnings[0] and "UTF-8" in warnings[0]
    docs, skipped, warns = load_documents([tmp_path])
    assert [d.doc_id for d in docs] == ["latin1"] and skipped == [] and warns == warnings


def test_file_over_10_mb_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:  # sparse: instant to create, never read
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(Skipped, match="too large"):
        read_document(big)
    with pytest.raises(InputError, match="too large"):
        load_documents([big])


def test_bad_file_inside_a_folder_is_skipped_with_a_reason(tmp_path):
    (tmp_path / "good.txt").write_text("Good article\n" + BODY)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02" * 10)
    with (tmp_path / "huge.txt").open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    docs, skipped, warnings = load_documents([tmp_path])
    assert [d.doc_id for d in docs] == ["good"]
    assert len(skipped) == 3
    reasons = " | ".join(skipped)
    for name, why in [("empty.txt", "empty"), ("bin.md", "binary"), ("huge.txt", "too large")]:
        assert any(name in s and why in s for s in skipped), reasons
    assert all(one_line(s) for s in skipped)


@pytest.mark.parametrize("content", [b"", b"\x00binary\x00"])
def test_bad_file_named_explicitly_is_an_input_error(tmp_path, content):
    (tmp_path / "good.txt").write_text("Good article\n" + BODY)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_documents([tmp_path / "good.txt", bad])
    assert str(bad) in str(info.value) and one_line(str(info.value))
    assert info.value.exit_code == 7


def test_folder_without_articles(tmp_path):
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(InputError) as info:
        load_documents([tmp_path])
    assert "no readable" in str(info.value) and str(tmp_path) in str(info.value)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="empty"):  # the reason of the first skip is shown
        load_documents([tmp_path])


def test_empty_folder(tmp_path):
    with pytest.raises(InputError):
        load_documents([tmp_path])


def test_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as info:
        load_documents([missing])
    assert str(missing) in str(info.value) and one_line(str(info.value))


def test_folders_are_searched_recursively_skipping_hidden_and_other_suffixes(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.txt").write_text("A\n" + BODY)
    (tmp_path / "sub" / "b.MD").write_text("B\n" + BODY)
    (tmp_path / "sub" / "deeper" / "c.md").write_text("C\n" + BODY)
    (tmp_path / ".git" / "d.txt").write_text("D\n" + BODY)
    (tmp_path / ".hidden.txt").write_text("E\n" + BODY)
    (tmp_path / "f.rst").write_text("F\n" + BODY)
    explicit, found = find_articles([tmp_path])
    assert explicit == []
    assert sorted(p.name for p in found) == ["a.txt", "b.MD", "c.md"]


def test_same_doc_id_twice_keeps_the_first_with_a_warning(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "story.txt").write_text("First\n" + BODY)
    (tmp_path / "y" / "story.md").write_text("Second\n" + BODY)
    docs, _, warnings = load_documents([tmp_path / "x", tmp_path / "y"])
    assert [d.title for d in docs] == ["First"]
    assert len(warnings) == 1 and "story" in warnings[0]


# ----- hostile files: devices, FIFOs, unreadable files and folders, lying sizes ---------------------

def _deny(monkeypatch, *paths):
    """Make `paths` unreadable, as chmod 000 does for a normal user (root reads through chmod, so the
    refusal is also simulated at the system call the reader uses)."""
    import builtins
    import io
    import os

    denied = {os.path.abspath(p) for p in paths}
    for p in paths:
        p.chmod(0)

    def guard(real):
        def call(path, *args, **kwargs):
            if isinstance(path, (str, os.PathLike)) and os.path.abspath(path) in denied:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(os, "scandir", guard(os.scandir))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(builtins, "open", guard(builtins.open))


def test_unreadable_file_in_a_folder_is_skipped_with_a_reason(tmp_path, monkeypatch):
    (tmp_path / "good.txt").write_text("Good article\n" + BODY)
    locked = tmp_path / "locked.txt"
    locked.write_text("Locked article\n" + BODY)
    _deny(monkeypatch, locked)
    docs, skipped, _ = load_documents([tmp_path])
    assert [d.doc_id for d in docs] == ["good"]
    assert len(skipped) == 1 and "locked.txt" in skipped[0] and "ermission" in skipped[0] and one_line(skipped[0])


def test_unreadable_file_named_explicitly_is_an_input_error(tmp_path, monkeypatch):
    locked = tmp_path / "locked.txt"
    locked.write_text("Locked article\n" + BODY)
    _deny(monkeypatch, locked)
    with pytest.raises(InputError) as info:
        load_documents([locked])
    assert str(locked) in str(info.value) and one_line(str(info.value))


def test_unreadable_subfolder_is_skipped_with_a_reason_not_silently(tmp_path, monkeypatch):
    (tmp_path / "good.txt").write_text("Good article\n" + BODY)
    sub = tmp_path / "private"
    sub.mkdir()
    (sub / "secret.txt").write_text("Secret article\n" + BODY)
    _deny(monkeypatch, sub)
    try:
        docs, skipped, _ = load_documents([tmp_path])
    finally:
        sub.chmod(0o755)
    assert [d.doc_id for d in docs] == ["good"]
    assert len(skipped) == 1 and "private" in skipped[0] and one_line(skipped[0]), skipped


def _finishes(fn, seconds: float = 10.0):
    """Run `fn` in a thread; (finished, result or exception). A read that blocks must not hang the run."""
    import threading

    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive(), box


def test_fifo_is_refused_not_waited_on(tmp_path):
    import os

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    try:
        done, box = _finishes(lambda: load_documents([fifo]))
        assert done, "reading a FIFO blocked"
        assert isinstance(box.get("error"), InputError) and "regular file" in str(box["error"])
        (tmp_path / "good.txt").write_text("Good article\n" + BODY)
        done, box = _finishes(lambda: load_documents([tmp_path]))
        assert done and "result" in box, box
        docs, skipped, _ = box["result"]
        assert [d.doc_id for d in docs] == ["good"]
        assert any("pipe.txt" in s and "regular file" in s for s in skipped), skipped
    finally:  # release a reader stuck on the FIFO (before the fix), so the test run can end
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def test_device_is_refused_not_read_forever():
    with pytest.raises(InputError) as info:
        load_documents([Path("/dev/zero")])
    assert "/dev/zero" in str(info.value) and "regular file" in str(info.value) and one_line(str(info.value))


def test_size_cap_holds_when_the_size_on_disk_says_0(tmp_path, monkeypatch):
    """Files in /proc, and some network file systems, report size 0: the cap is enforced while reading."""
    import os

    big = tmp_path / "big.txt"
    big.write_text("Big article\n" + "All work and no play. " * 1000)
    real_stat, real_fstat = os.stat, os.fstat

    def zero(st):
        return os.stat_result((*st[:6], 0, *st[7:10]))

    monkeypatch.setattr(os, "stat", lambda *a, **k: zero(real_stat(*a, **k)))
    monkeypatch.setattr(os, "fstat", lambda *a, **k: zero(real_fstat(*a, **k)))
    with pytest.raises(Skipped, match="too large"):
        read_document(big, max_bytes=1000)
