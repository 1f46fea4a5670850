"""Real processes for the multi-process tests and scripts/bench_cluster.py: ``kb serve``
nodes (each its own articles, index and data folders, one ``database_url``), an nginx in
front of them (a non-daemon subprocess with its own configuration in a temporary folder,
on a free port), and a cookie-keeping HTTP client that signs in and publishes through the
staff pages as a browser does.

Nothing here sleeps for a fixed time: every wait polls for the state it needs, with a bound.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from dataclasses import field
from html import unescape
from pathlib import Path

from staff_fixtures import form_fields

ROOT = Path(__file__).resolve().parent.parent
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kb_command(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "kb"
    return ([str(script)] if script.exists() else [sys.executable, "-c", "from kb.cli import cli; cli()"]) + list(args)


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without KB_* settings (a developer's kb.toml or variables
    must not leak into a node), plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(values)
    return env


def wait_for(check, timeout: float, what: str, interval: float = 0.05):
    """Poll `check` until it returns something true; that value, or TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.1f} s: {what}")
        time.sleep(interval)


def http_json(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    """GET `url`: (status, JSON body); (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}
    except (OSError, ValueError, http.client.HTTPException):
        return 0, {}


# -- kb nodes --------------------------------------------------------------------------------


@dataclass
class KbNode:
    """One ``kb serve`` (a machine of the cluster, or a --workers supervisor) on a free port."""

    name: str
    base: Path
    env: dict[str, str]
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base / f"serve-{self.starts}.log"

    def command(self) -> list[str]:
        return kb_command("--articles-dir", str(self.base / "articles"), "--index-dir", str(self.base / "index"),
                          "--data-dir", str(self.base / "data"), "serve", "--host", "127.0.0.1", "--port",
                          str(self.port), "--workers", str(self.workers))

    def start(self) -> KbNode:
        self.starts += 1
        self.base.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        # cwd: a folder without a kb.toml, so only the options and KB_* variables given apply.
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.base,
                                        env=self.env, start_new_session=True)
        log.close()
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}")
        return http_json(self.url + "/api/v1/health", timeout=2)[0] == 200

    def wait_ready(self, timeout: float = 120.0) -> KbNode:
        wait_for(self.ready, timeout, f"{self.name} answering /api/v1/health (log: {self.log_path})", 0.1)
        return self

    def health(self) -> dict:
        return http_json(self.url + "/api/v1/health")[1]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def worker_pids(self) -> list[int]:
        """The worker processes of a --workers supervisor (its children)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM (as systemd stops a unit) and wait; SIGKILL after `timeout` s. The exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """kill -9 the node, workers included (a machine that dies)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def prepare_node_folders(base: Path, articles: Path | None = None, index: Path | None = None) -> None:
    """A node's own folders: a copy of `articles` (or an empty folder) and of a built `index`
    (so a test does not embed the same articles once per node; the node reconciles it)."""
    base.mkdir(parents=True, exist_ok=True)
    if articles is not None:
        shutil.copytree(articles, base / "articles")
    else:
        (base / "articles").mkdir()
    if index is not None:
        shutil.copytree(index, base / "index", ignore=shutil.ignore_patterns("write.lock", "*.lock"))


# -- nginx -----------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()),
                                          None)


NGINX_CONF = """\
# kb's loopback cluster: what docs/deploy.md describes, on loopback ports.
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    upstream kb {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 4m;
        # Bodies and responses stay in memory: nginx's workers drop root and may not reach
        # a temp folder under the test's private tmp.
        client_body_buffer_size 4m;
        proxy_max_temp_file_size 0;
        location / {{
            proxy_pass http://kb;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_connect_timeout 1s;
            proxy_read_timeout 60s;
            # A node that is down (refused, reset, timed out) or answering 502/503: the next one.
            # A POST already sent is never sent twice (nginx's default for non-idempotent requests).
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    """nginx in front of `upstreams` (ports), as a foreground subprocess with its own folder."""

    root: Path
    upstreams: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed: scripts/setup.sh --test installs it (apt-get install nginx-light)")
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "tmp", 0o777)  # nginx's workers drop root to its default user
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in self.upstreams)
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=self.root, port=self.port, servers=servers), encoding="utf-8")
        log = (self.root / "stdout.log").open("w")
        self.process = subprocess.Popen([binary, "-p", str(self.root), "-c", str(conf)], stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_for(self._listening, 10, f"nginx listening on {self.port} ({self.root / 'error.log'})")
        return self

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            error = self.root / "error.log"
            raise RuntimeError(f"nginx exited: {error.read_text() if error.exists() else ''}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in progress
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# -- a browser -------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Response:
    status: int
    text: str
    headers: dict


class Browser:
    """Cookies, the CSRF token and forms, as a staff member's browser on `base_url`."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())
        self.timeout = timeout
        self.token = ""

    def on(self, base_url: str) -> Browser:
        """The same browser (cookies, token) sent to another address: another node."""
        other = Browser(base_url, self.timeout)
        other.cookies, other.token = self.cookies, self.token
        other.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())
        return other

    def request(self, method: str, path: str, data: dict | None = None) -> Response:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Response(response.status, response.read().decode("utf-8", "replace"), dict(response.headers))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers))

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> Response:
        if not self.token:
            self.refresh_token()
        return self.request("POST", path, {"csrf_token": self.token, **data})

    def refresh_token(self, path: str = "/staff/login") -> str:
        match = _CSRF.search(self.get(path).text)
        if not match:
            raise AssertionError(f"no CSRF token on {path}")
        self.token = match.group(1) or match.group(2)
        return self.token

    def sign_in(self, email: str, password: str) -> Response:
        self.refresh_token()
        response = self.request("POST", "/staff/login", {"email": email, "password": password, "csrf_token": self.token})
        if response.status == 302:
            self.refresh_token("/staff/account")  # a new session, a new token
        return response

    def editor_form(self, path: str) -> dict:
        """The editor's fields on `path` (the new-article or edit page), as the browser sends them."""
        html = self.get(path).text
        fields = form_fields(html, unselected_is_first=True)
        fields.pop("csrf_token", None)  # this browser sends its own
        if not fields.get("category"):  # a new article: the first category the editor offers
            offered = re.search(r'<datalist id="category-list">\s*<option value="([^"]+)"', html)
            fields["category"] = unescape(offered.group(1)) if offered else ""
        return fields

    def publish_new(self, slug: str, title: str, body: str) -> Response:
        """Create and publish an article through the editor (302 to its edit page: acknowledged)."""
        fields = self.editor_form("/staff/articles/new")
        fields.update(title=title, slug=slug, body=body, summary=title, tags="", action="publish")
        return self.post("/staff/articles/new", fields)

    def open_for_edit(self, slug: str) -> dict:
        return self.editor_form(f"/staff/articles/{slug}/edit")

    def save(self, slug: str, fields: dict, action: str = "publish") -> Response:
        return self.post(f"/staff/articles/{slug}/edit", {**fields, "action": action})


def create_staff_user(node: KbNode, email: str, password: str, role: str = "editor") -> None:
    """``kb user create`` against the node's settings (its database)."""
    result = subprocess.run(kb_command("--data-dir", str(node.base / "data"), "user", "create", email, "--role", role,
                                       "--password-stdin"), input=password + "\n", capture_output=True, text=True,
                            cwd=node.base, env=node.env, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"kb user create failed: {result.stderr or result.stdout}")


def search_slugs(base_url: str, query: str) -> list[str]:
    status, body = http_json(base_url + "/api/v1/search?" + urllib.parse.urlencode({"q": query, "mode": "keyword"}))
    if status != 200:
        return []
    return [hit.get("slug") for hit in body.get("results", [])]
