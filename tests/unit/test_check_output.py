"""`sgw-drift check` output: JSON and table for names that are not valid UTF-8, on any stream encoding."""

from __future__ import annotations

import io
import json

from sgw_drift import check as check_module
from sgw_drift.compare import Difference, Kind
from sgw_drift.listing import Entry
from sgw_drift.shares import Share

BAD = "bad\udcffname.txt"  # b"bad\xffname.txt" decoded with surrogateescape, as os.listdir returns it


def result(*paths: str, side: str = "/storage") -> check_module.CheckResult:
    share = Share(check_module.LOCAL_SHARE, "", "b-bucket", "p/", "NFS")
    differences = [
        Difference(Kind.ONLY_ON_SHARE, path, share=Entry(path, size=1, mtime=0.0)) for path in paths
    ]
    return check_module.CheckResult(share, {"type": "local", "path": side}, None, differences)


def document(*paths: str) -> dict:
    return check_module.to_json(result(*paths))


def test_json_escapes_lone_surrogate():
    text = check_module.json_text(document(BAD, "図面.png"), "utf-8")

    assert "\\udcff" in text
    assert "図面.png" in text  # valid names are written as they are
    text.encode("utf-8")  # strict: raises if a lone surrogate were left
    assert [item["path"] for item in json.loads(text)["differences"]] == [BAD, "図面.png"]


def test_json_escapes_surrogate_in_share_side():
    source = check_module.to_json(result("a.txt", side="/mnt/\udce9t\udce9"))

    text = check_module.json_text(source, "utf-8")

    assert '"path": "/mnt/\\udce9t\\udce9"' in text
    assert json.loads(text)["share_side"]["path"] == "/mnt/\udce9t\udce9"


def test_json_on_ascii_stream_is_ascii():
    original = document(BAD, "図面.png")

    text = check_module.json_text(original, "ascii")

    assert text.isascii()
    assert "\\u56f3\\u9762.png" in text
    assert json.loads(text)["differences"] == original["differences"]


def test_json_without_encoding_is_utf8_text():
    text = check_module.json_text(document(BAD), None)  # a StringIO has no encoding

    assert "\\udcff" in text
    text.encode("utf-8")


def test_table_on_strict_utf8_stream():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")

    check_module.write_table(result(BAD, "図面.png", "new\nline"), stream)
    stream.flush()
    text = raw.getvalue().decode("utf-8")

    assert "bad\\udcffname.txt" in text
    assert "図面.png" in text
    assert "new\\nline" in text


def test_table_on_ascii_stream():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")

    check_module.write_table(result(BAD, "図面.png", side="/mnt/共有\udcff"), stream)
    stream.flush()
    text = raw.getvalue().decode("ascii")

    assert "bad\\udcffname.txt" in text
    assert "\\u56f3\\u9762.png" in text
    assert "compared with /mnt/\\u5171\\u6709\\udcff" in text
    assert "Result: 2 difference(s) are drift." in text


def test_table_escapes_header_and_reasons():
    share = Share(check_module.LOCAL_SHARE, "", "b-bucket", "p/", "NFS")
    difference = Difference(Kind.UNREPRESENTABLE, "a/./b", bucket=Entry("a/./b", size=1), reason="bad\x1b[2J")
    stream = io.StringIO()

    check_module.write_table(
        check_module.CheckResult(share, {"type": "local", "path": "/mnt/x\ny"}, "/f\tg", [difference]), stream
    )
    text = stream.getvalue()

    assert "compared with /mnt/x\\ny" in text
    assert "folder /f\\tg" in text
    assert "(bad\\x1b[2J)" in text
