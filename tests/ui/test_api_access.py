"""Who may use ``policykb serve``: API keys kept hashed (``policykb keys``), reads open or keyed, writes
always keyed, a rate limit per key, CORS origins; and ``POST /v1/documents`` (uploads with the app's checks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui import cli
from policykb.ui.api import RateLimiter, create_app
from policykb.ui.api_keys import KEYS_FILE, add_key, list_keys
from policykb.ui.ingesting import ingest_paths

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SZ = CORPUS / "shenzhen_weishi_2020.txt"
NOTICE = "一、报名\n1. 参加直播节的商家应当在10月20日前报名。\n2. 报名不收取任何费用。\n".encode()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    for name in ("API_TOKEN", "API_PUBLIC_READ", "API_RATE_LIMIT", "API_CORS_ORIGINS"):
        monkeypatch.delenv(f"POLICYKB_{name}", raising=False)


@pytest.fixture
def kb() -> KnowledgeBase:
    kb = KnowledgeBase.open(Settings.load())
    ingest_paths(kb, [SZ], max_chars=360)
    return kb


@pytest.fixture
def home(kb) -> Path:
    return Path(Settings.load().home)


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


# -- keys ------------------------------------------------------------------------------------------


def test_keys_add_list_rm_from_the_cli(home, capsys):
    assert cli.main(["keys", "add", "ci-runner"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("pkb_") and len(secret) == 47
    [entry] = list_keys(home)
    assert err == (
        f"key {entry.id} (ci-runner) added; it is shown only now. Send it as 'Authorization: Bearer <key>'.\n"
    )
    stored = (home / KEYS_FILE).read_text(encoding="utf-8")
    assert secret not in stored and json.loads(stored)[0]["name"] == "ci-runner"
    assert (home / KEYS_FILE).stat().st_mode & 0o777 == 0o600
    assert cli.main(["keys", "list"]) == 0
    assert capsys.readouterr().out == f"{entry.id}  {entry.created}  ci-runner\n"
    assert cli.main(["keys", "add", "ci-runner"]) == 2
    assert capsys.readouterr().err == (
        "policykb keys add: a key named 'ci-runner' exists; remove it first (policykb keys rm ci-runner)\n"
    )
    assert cli.main(["keys", "add", "no spaces"]) == 2
    assert capsys.readouterr().err == (
        "policykb keys add: key name 'no spaces': use 1-40 letters, digits, '.', '_', '@' or '-'\n"
    )
    assert cli.main(["keys", "rm", "other"]) == 1
    assert capsys.readouterr().err == f"policykb keys rm: no API key 'other'; keys: ci-runner ({entry.id})\n"
    assert cli.main(["keys", "rm", entry.id]) == 0
    assert capsys.readouterr().out == f"removed key {entry.id} (ci-runner)\n"
    assert list_keys(home) == []


def test_a_stored_key_opens_the_api_and_a_removed_one_closes_it_at_once(home):
    _, secret = add_key(home, "officer")
    c = TestClient(create_app())
    assert c.get("/v1/documents").status_code == 401
    r = c.get("/v1/documents", headers=bearer("pkb_not-a-key"))
    assert (r.status_code, r.json()["detail"]) == (401, "the API key is not valid")
    assert c.get("/v1/documents", headers=bearer(secret)).status_code == 200
    assert cli.main(["keys", "rm", "officer"]) == 0
    assert c.get("/v1/documents", headers=bearer(secret)).status_code == 401
    assert c.get("/healthz").status_code == 200  # probes need no key


def test_public_reads_still_need_a_key_to_write(home, monkeypatch):
    monkeypatch.setenv("POLICYKB_API_PUBLIC_READ", "true")
    _, secret = add_key(home, "editor")
    c = TestClient(create_app())
    assert c.get("/v1/search", params={"q": "微视收费"}).status_code == 200
    assert c.post("/v1/ask", json={"question": "微视收费吗？"}).status_code == 200
    r = c.patch("/v1/documents/shenzhen-weishi-2020", json={"title": "x"})
    assert (r.status_code, r.json()["detail"]) == (
        401,
        "a valid 'Authorization: Bearer <key>' header is needed",
    )
    r = c.patch("/v1/documents/shenzhen-weishi-2020", json={"title": "微视指引"}, headers=bearer(secret))
    assert r.status_code == 200 and r.json()["title"] == "微视指引"


def test_serve_on_another_host_needs_a_key_and_passes_workers_on(home, monkeypatch, capsys):
    seen: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append((app, kw)))
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "make an API key first (policykb keys add NAME" in capsys.readouterr().err
    add_key(home, "ops")
    assert cli.main(["serve", "--host", "0.0.0.0", "--workers", "3"]) == 0
    app, kw = seen[-1]
    assert app == "policykb.ui.api:create_app"
    assert (kw["factory"], kw["workers"], kw["host"]) == (True, 3, "0.0.0.0")
    assert cli.main(["serve", "--workers", "0"]) == 2
    assert capsys.readouterr().err == "policykb serve: --workers must be 1 or more, not 0\n"


# -- rate limit and CORS ---------------------------------------------------------------------------


def test_the_rate_limiter_refills_at_its_rate():
    now = [0.0]
    limit = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    assert [limit.wait("a") for _ in range(60)] == [0.0] * 60
    assert limit.wait("a") == pytest.approx(1.0)
    assert limit.wait("b") == 0.0  # callers are counted apart
    now[0] = 2.5
    assert [limit.wait("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]
    assert RateLimiter(0).wait("a") == 0.0  # 0: no limit


def test_too_many_requests_from_one_key_get_429(home, monkeypatch):
    monkeypatch.setenv("POLICYKB_API_RATE_LIMIT", "2")
    _, one = add_key(home, "one")
    _, two = add_key(home, "two")
    c = TestClient(create_app())
    codes = [c.get("/v1/documents", headers=bearer(one)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = c.get("/v1/documents", headers=bearer(one))
    assert r.json()["detail"] == "too many requests: over 2 a minute; retry in 30 s"
    assert r.headers["retry-after"] == "30"
    assert c.get("/v1/documents", headers=bearer(two)).status_code == 200  # another key is not held back
    assert c.get("/healthz").status_code == 200  # probes are never limited


def test_cors_allows_only_the_configured_origins(kb, monkeypatch):
    monkeypatch.setenv("POLICYKB_API_CORS_ORIGINS", "https://officer.example, https://b.example")
    assert Settings.load().api_cors_origins == ["https://officer.example", "https://b.example"]
    c = TestClient(create_app())
    preflight = {"access-control-request-method": "GET", "access-control-request-headers": "authorization"}
    ok = c.options("/v1/search", headers={"origin": "https://officer.example", **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://officer.example"
    no = c.options("/v1/search", headers={"origin": "https://evil.example", **preflight})
    assert no.status_code == 400 and "access-control-allow-origin" not in no.headers
    plain = TestClient(create_app(Settings.load(api_cors_origins=[])))
    got = plain.get("/v1/documents", headers={"origin": "https://officer.example"})
    assert "access-control-allow-origin" not in got.headers


# -- uploads ---------------------------------------------------------------------------------------


def test_upload_needs_a_key_and_adds_a_searchable_notice(home):
    c = TestClient(create_app())
    files = {"files": ("直播节报名.txt", NOTICE, "text/plain")}
    r = c.post("/v1/documents", files=files)
    assert r.status_code == 403
    assert r.json()["detail"] == (
        "changing the knowledge base through the API needs an API key: policykb keys add NAME"
    )
    _, secret = add_key(home, "uploader")
    r = c.post("/v1/documents", files=files, headers=bearer(secret))
    assert r.status_code == 200
    body = r.json()
    assert body["added"] is True and body["generation"] == 2
    [outcome] = body["report"]["files"]
    assert (outcome["status"], outcome["doc_id"], outcome["clauses"]) == ("added", "直播节报名", 2)
    hit = c.get("/v1/search", params={"q": "报名截止日期", "k": 1}, headers=bearer(secret)).json()["hits"][0]
    assert hit["doc_id"] == "直播节报名" and "10月20日" in hit["text"]


@pytest.mark.parametrize(
    "files, status",
    [
        ([("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))], 415),
        ([("files", ("fake.pdf", b"this is not a pdf at all", "application/pdf"))], 415),
        ([("files", ("empty.txt", b"", "text/plain"))], 422),
        ([("files", ("big.txt", b"a" * (20 * 1024 * 1024 + 1), "text/plain"))], 413),
    ],
)
def test_an_upload_that_adds_nothing_gets_the_status_of_its_problem(home, files, status):
    _, secret = add_key(home, "uploader")
    r = TestClient(create_app()).post("/v1/documents", files=files, headers=bearer(secret))
    assert r.status_code == status
    body = r.json()
    assert body["added"] is False and files[0][1][0] in body["text"]


def test_an_upload_as_a_new_version_of_an_unknown_document_is_404(home):
    _, secret = add_key(home, "uploader")
    r = TestClient(create_app()).post(
        "/v1/documents",
        files={"files": ("v2.txt", NOTICE, "text/plain")},
        data={"replace": "nosuch"},
        headers=bearer(secret),
    )
    assert (r.status_code, r.json()["detail"]) == (404, "no document 'nosuch' to replace")


def test_two_servers_on_one_home_both_serve_an_upload_at_once(home):
    _, secret = add_key(home, "uploader")
    a, b = TestClient(create_app()), TestClient(create_app())
    assert b.get("/readyz").json()["generation"] == 1  # b has loaded generation 1
    r = a.post(
        "/v1/documents", files={"files": ("直播节报名.txt", NOTICE, "text/plain")}, headers=bearer(secret)
    )
    assert r.status_code == 200 and r.json()["generation"] == 2
    assert b.get("/readyz").json() == {"ready": True, "generation": 2, "documents": 2, "clauses": 23}
    hits = b.get("/v1/search", params={"q": "报名", "k": 3}, headers=bearer(secret)).json()["hits"]
    assert hits[0]["doc_id"] == "直播节报名"
