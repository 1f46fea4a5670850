"""kb.access_log: one line per request, through a real waitress in front of the real app, and
through ``kb serve --access-log`` itself."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kb.access_log import AccessLog
from kb.access_log import access_line
from kb.access_log import printable_target
from waitress_harness import free_port
from waitress_harness import serving


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def served(app):
    """The site behind AccessLog in a real waitress (what kb serve runs), on a free loopback port."""
    with serving(AccessLog(app)) as url:
        yield url


def logged(caplog, count: int) -> list[str]:
    """The access lines, waiting a moment for the last: a line is written after the last byte is sent."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [r.getMessage() for r in caplog.records if r.name == "kb.access"]
        if len(lines) >= count:
            return lines
        time.sleep(0.02)
    return [r.getMessage() for r in caplog.records if r.name == "kb.access"]


LINE = re.compile(r"^127\.0\.0\.1 (?P<method>\S+) (?P<target>\S+) (?P<status>\d{3}) (?P<bytes>\d+) B (?P<ms>\d+\.\d) ms$")


def test_each_request_is_one_line_with_method_path_status_bytes_and_time(served, caplog):
    """GIVEN the site behind the access log WHEN an Arabic article, a missing page and a static file
    are fetched THEN each gives one line with its decoded path, status, size sent and time."""
    caplog.set_level(logging.INFO, logger="kb.access")
    article_url = served + "/articles/" + urllib.parse.quote("سياسة-الاسترداد")
    status, body = fetch(article_url)
    assert status == 200
    assert fetch(served + "/articles/no-such-article")[0] == 404
    static_status, static_body = fetch(served + "/static/css/site.css")
    assert static_status == 200
    lines = logged(caplog, 3)
    assert len(lines) == 3, lines
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    # A line is written when its response is closed, after the client has it: the next
    # request (another server thread) may log first, so lines are matched by path.
    by_target = {p["target"]: p for p in parsed}
    article, missing, static = (by_target.get(t) for t in
                                ("/articles/سياسة-الاسترداد", "/articles/no-such-article", "/static/css/site.css"))
    assert article and missing and static, lines
    assert (article["method"], article["target"], article["status"]) == ("GET", "/articles/سياسة-الاسترداد", "200")
    assert int(article["bytes"]) == len(body)
    assert (missing["target"], missing["status"]) == ("/articles/no-such-article", "404")
    assert (static["target"], static["status"], int(static["bytes"])) == ("/static/css/site.css", "200", len(static_body))
    assert all(float(p["ms"]) > 0 for p in parsed)


def test_a_request_cannot_forge_or_garble_a_log_line(served, caplog):
    """GIVEN a query holding an encoded newline, quotes and spaces THEN they stay encoded on one line."""
    caplog.set_level(logging.INFO, logger="kb.access")
    forged = "x%0A127.0.0.1%20GET%20/admin%20200%201%20B%201.0%20ms%22%20%09"
    status, _ = fetch(served + "/search?q=" + forged)
    assert status == 200
    [line] = logged(caplog, 1)
    assert "\n" not in line and '"' not in line
    assert LINE.match(line), line
    assert "/search?q=x%0A127.0.0.1%20GET%20/admin" in line


@pytest.mark.parametrize(
    ("environ", "target"),
    [
        ({"REQUEST_URI": "/articles/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9"}, "/articles/سياسة"),
        ({"REQUEST_URI": "/search?q=%D9%85%D8%A7%D9%84&page=2"}, "/search?q=مال&page=2"),
        ({"REQUEST_URI": "/a%FFb"}, "/a%FFb"),  # not UTF-8: the byte stays encoded
        ({"REQUEST_URI": "/a%1B[31mred"}, "/a%1B[31mred"),  # a terminal escape
        ({"REQUEST_URI": "/a%E2%80%AEb"}, "/a%E2%80%AEb"),  # right-to-left override
        ({"PATH_INFO": "/faq", "QUERY_STRING": "lang=en"}, "/faq?lang=en"),  # no REQUEST_URI (another server)
    ],
)
def test_printable_target(environ, target):
    assert printable_target(environ) == target


def test_access_line_without_a_response_status():
    line = access_line({"REQUEST_METHOD": "GET", "REQUEST_URI": "/"}, "", 0, 0.0012)
    assert line == "- GET / - 0 B 1.2 ms"


def test_an_app_that_raises_is_still_logged(caplog):
    """GIVEN an app that raises before responding THEN the request is logged (status '-') and the error propagates."""
    def broken(environ, start_response):
        raise RuntimeError("boom")

    caplog.set_level(logging.INFO, logger="kb.access")
    with pytest.raises(RuntimeError):
        AccessLog(broken)({"REQUEST_METHOD": "POST", "REQUEST_URI": "/api/v1/suggest", "REMOTE_ADDR": "10.0.0.1"},
                          lambda status, headers, exc_info=None: None)
    assert [r.getMessage() for r in caplog.records if r.name == "kb.access"][0].startswith(
        "10.0.0.1 POST /api/v1/suggest - 0 B ")


def test_kb_serve_access_log_prints_requests_on_standard_output(session_kb, tmp_path):
    """GIVEN `kb serve --access-log` WHEN two pages are fetched THEN its standard output has a
    timestamped line for each; without the flag it has none."""
    base = tmp_path
    shutil.copytree(session_kb.articles_dir, base / "articles")
    shutil.copytree(session_kb.store.root / "embeddings", base / "index" / "embeddings")
    for flag, expected in (("--access-log", 2), (None, 0)):
        port = free_port()
        out = base / f"serve-{expected}.log"
        command = [sys.executable, "-c", "from kb.cli import cli; cli()", "--articles-dir", str(base / "articles"),
                   "--index-dir", str(base / "index"), "--data-dir", str(base / "data"), "serve", "--port", str(port)]
        env = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
        env["KB_SECRET_KEY"] = "access-log-test"
        with open(out, "wb") as stdout:
            process = subprocess.Popen([*command, *([flag] if flag else [])], stdout=stdout,
                                       stderr=subprocess.DEVNULL, env=env, cwd=base)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, out.read_text(encoding="utf-8")
                try:
                    fetch(url + "/api/v1/health")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "kb serve did not start"
                    time.sleep(0.1)
            assert fetch(url + "/faq")[0] == 200
            assert fetch(url + "/nope")[0] == 404
            time.sleep(0.3)  # the line is written after the last byte
        finally:
            process.terminate()
            process.wait(30)
        lines = [line for line in out.read_text(encoding="utf-8").splitlines() if " GET /" in line]
        assert len(lines) == (expected + 1 if expected else 0), lines  # + the health probe
        if expected:
            assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} 127\.0\.0\.1 GET /faq 200 \d+ B ", lines[1])
            assert " GET /nope 404 " in lines[2]


def test_a_file_the_server_sends_itself_stays_the_servers_file_wrapper(tmp_path, caplog):
    """GIVEN an app answering with the server's wsgi.file_wrapper (Flask's send_file under waitress)
    WHEN it runs behind the access log
    THEN the server gets its own wrapper back (waitress sends such a buffer directly instead of
    iterating it in Python), and the request is logged when the server closes it, with its length."""
    from waitress.buffers import ReadOnlyFileBasedBuffer

    caplog.set_level(logging.INFO, logger="kb.access")
    path = tmp_path / "site.css"
    path.write_bytes(b"x" * 5000)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/css"), ("Content-Length", "5000")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/static/site.css", "REMOTE_ADDR": "127.0.0.1",
               "wsgi.file_wrapper": ReadOnlyFileBasedBuffer}
    body = AccessLog(app)(environ, lambda status, headers, exc_info=None: None)
    assert type(body) is ReadOnlyFileBasedBuffer
    assert [r for r in caplog.records if r.name == "kb.access"] == []  # not sent yet
    body.close()
    [line] = logged(caplog, 1)
    assert LINE.match(line)["bytes"] == "5000"
