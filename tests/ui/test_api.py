"""``policykb serve``: every route and error status with FastAPI's TestClient, and a real server on a loopback
port answering 20 concurrent clients while a document is ingested (RELIABILITY 24)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ui.api import MAX_BODY, create_app
from policykb.ui.cli import hit_dict
from policykb.ui.ingesting import ingest_paths

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SZ, SH = CORPUS / "shenzhen_weishi_2020.txt", CORPUS / "shanghai_livestream_measures_2020.txt"


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    monkeypatch.delenv("POLICYKB_API_TOKEN", raising=False)


@pytest.fixture
def kb() -> KnowledgeBase:
    kb = KnowledgeBase.open(Settings.load())
    ingest_paths(kb, [SZ], max_chars=360)
    return kb


@pytest.fixture
def client(kb) -> TestClient:
    return TestClient(create_app())


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/readyz").json() == {"ready": True, "generation": 1, "documents": 1, "clauses": 21}


def test_search_returns_the_clis_records(client, kb):
    got = client.get("/v1/search", params={"q": "微视收费吗", "k": 3}).json()
    assert got == {
        "query": "微视收费吗",
        "offset": 0,
        "hits": [hit_dict(h) for h in kb.search("微视收费吗", k=3)],
    }
    page2 = client.get("/v1/search", params={"q": "微视收费吗", "k": 3, "offset": 3}).json()
    assert [h["rank"] for h in page2["hits"]] == [4, 5, 6]
    assert page2["hits"] == [hit_dict(h) for h in kb.search("微视收费吗", k=6)][3:]
    r = client.get("/v1/search", params={"q": "微视", "offset": 901})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "offset"]
    filtered = client.get("/v1/search", params={"q": "微视收费吗", "region": "上海市"}).json()
    assert filtered["hits"] == []


def test_ask_returns_the_clis_answer(client):
    a = client.post("/v1/ask", json={"question": "微视收费吗？"}).json()
    assert not a["abstained"] and a["citations"][0]["doc_id"] == "shenzhen-weishi-2020"
    assert "[1]" in a["answer"]


def test_documents_and_clauses(client, kb):
    [doc] = client.get("/v1/documents").json()["documents"]
    assert doc["doc_id"] == "shenzhen-weishi-2020"
    one = client.get("/v1/documents/shenzhen-weishi-2020").json()
    assert len(one["outline"]) == 21 and one["versions"] == []
    cid = one["outline"][1]["clause_id"]
    c = client.get(f"/v1/clauses/{cid}").json()
    assert c["clause_id"] == cid and len(c["neighbours"]) == 2 and c["references"] == []
    assert client.get("/openapi.json").json()["info"]["title"] == "policykb"


@pytest.mark.parametrize(
    "request_, status, detail",
    [
        (("get", "/v1/documents/nosuch", {}), 404, "no document 'nosuch'"),
        (("get", "/v1/clauses/nosuch", {}), 404, "no clause 'nosuch'"),
        (
            ("get", "/v1/search", {"params": {"q": "x", "colour": "red"}}),
            422,
            (
                "unknown parameters ['colour']; allowed: "
                "date_from, date_to, doc, doc_number, doc_type, issuer, k, offset, platform, q, region"
            ),
        ),
        (
            ("get", "/v1/search", {"params": {"q": "x", "date_from": "yesterday"}}),
            422,
            "date 'yesterday' is not a date; use yyyy-mm-dd, yyyy-mm or yyyy",
        ),
        (
            (
                "post",
                "/v1/ask",
                {"content": b"x" * (MAX_BODY + 1), "headers": {"content-type": "application/json"}},
            ),
            413,
            f"request body of {MAX_BODY + 1} bytes is over the limit of {MAX_BODY}",
        ),
    ],
)
def test_bad_requests_get_a_status_and_a_message(client, request_, status, detail):
    method, url, kw = request_
    r = getattr(client, method)(url, **kw)
    assert (r.status_code, r.json()["detail"]) == (status, detail)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"content": b"{bad", "headers": {"content-type": "application/json"}}, "json_invalid"),
        ({"json": {"question": ""}}, "string_too_short"),
        ({"json": {"question": "x", "k": 0}}, "greater_than_equal"),
        ({"json": {"question": "x", "colour": "red"}}, "extra_forbidden"),
    ],
)
def test_malformed_json_and_bad_fields_are_422_naming_them(client, kw, field):
    r = client.post("/v1/ask", **kw)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == field


def test_a_token_guards_every_v1_route(kb, monkeypatch):
    monkeypatch.setenv("POLICYKB_API_TOKEN", "s3cret")
    c = TestClient(create_app())
    assert c.get("/v1/documents").status_code == 401
    assert c.get("/v1/documents", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/v1/documents", headers={"authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/healthz").status_code == 200


def test_serve_listens_on_loopback_unless_told_otherwise_with_a_token(monkeypatch):
    from policykb.ui import cli

    seen = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append(kw))
    assert cli.main(["serve"]) == 0 and seen[-1]["host"] == "127.0.0.1"
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    monkeypatch.setenv("POLICYKB_API_TOKEN", "s3cret")
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 0 and seen[-1]["host"] == "0.0.0.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_server_answers_concurrent_clients_during_an_ingest(kb, monkeypatch):
    monkeypatch.setenv("POLICYKB_API_RATE_LIMIT", "0")  # 1,000 requests from one address: a load, not abuse
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    errors, seen_gens = [], set()

    def client_loop():
        with httpx.Client(base_url=base, timeout=30) as c:
            for i in range(50):
                try:
                    if i % 2:
                        r = c.get("/v1/search", params={"q": "直播电商", "k": 5})
                        r.raise_for_status()
                        ids = [h["doc_id"] for h in r.json()["hits"]]
                        assert set(ids) <= {"shenzhen-weishi-2020", "shanghai-livestream-measures-2020"}
                    else:
                        r = c.get("/readyz")
                        r.raise_for_status()
                        body = r.json()
                        seen_gens.add(body["generation"])
                        # old generation: 1 document; new: 2 — never a mix
                        assert (body["generation"], body["documents"]) in ((1, 1), (2, 2))
                except Exception as exc:  # noqa: BLE001 — every failure is collected and reported
                    errors.append(repr(exc))

    clients = [threading.Thread(target=client_loop) for _ in range(20)]
    for t in clients:
        t.start()
    time.sleep(0.2)
    ingest_paths(KnowledgeBase.open(Settings.load()), [SH], max_chars=360)  # while they ask
    for t in clients:
        t.join()
    with httpx.Client(base_url=base, timeout=5) as c:
        after = c.get("/readyz").json()  # the server picked up the generation another process wrote
    server.should_exit = True
    thread.join(10)
    assert errors == []  # 20 clients × 50 requests, every one answered
    assert seen_gens <= {1, 2} and (after["generation"], after["documents"]) == (2, 2)


def test_documents_are_removed_and_edited_only_with_the_token(kb, monkeypatch):
    assert TestClient(create_app()).delete("/v1/documents/shenzhen-weishi-2020").json() == {
        "detail": "changing the knowledge base through the API needs an API key: policykb keys add NAME"
    }
    monkeypatch.setenv("POLICYKB_API_TOKEN", "s3cret")
    c = TestClient(create_app())
    auth = {"authorization": "Bearer s3cret"}
    assert c.patch("/v1/documents/shenzhen-weishi-2020", json={"title": "x"}).status_code == 401
    r = c.patch(
        "/v1/documents/shenzhen-weishi-2020", json={"title": "微视专场指引", "region": None}, headers=auth
    )
    assert r.status_code == 200
    d = r.json()
    assert (d["title"], d["metadata"]["region"], d["changed"]) == ("微视专场指引", None, ["region", "title"])
    hit = c.get("/v1/search", params={"q": "微视收费", "k": 1}, headers=auth).json()["hits"][0]
    assert hit["title"] == "微视专场指引"
    for body, status, detail in (
        (
            {},
            422,
            (
                "nothing to change; fields: title, issuer, region, platform, date, doc_type, doc_number, signed, "
                "published, addressees, copy_to, printed, valid_from, valid_to"
            ),
        ),
        ({"date": "2020-13"}, 422, "date '2020-13' has no month 13; use yyyy-mm-dd, yyyy-mm or yyyy"),
        ({"title": ""}, 422, "a document needs a title"),
    ):
        r = c.patch("/v1/documents/shenzhen-weishi-2020", json=body, headers=auth)
        assert (r.status_code, r.json()["detail"]) == (status, detail)
    r = c.patch("/v1/documents/shenzhen-weishi-2020", json={"sha256": "x"}, headers=auth)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sha256"]
    r = c.delete("/v1/documents/nope", headers=auth)
    assert (r.status_code, r.json()["detail"]) == (404, "no document 'nope'; documents: shenzhen-weishi-2020")
    r = c.delete("/v1/documents/shenzhen-weishi-2020", headers=auth)
    assert r.status_code == 200 and r.json()["removed"] == "shenzhen-weishi-2020"
    assert c.get("/v1/documents", headers=auth).json() == {"documents": []}


def test_metrics_count_requests_by_route_and_report_the_knowledge_base(client):
    client.get("/v1/search", params={"q": "微视收费", "k": 3})
    client.get("/v1/search", params={"q": "短视频", "k": 3})
    client.get("/v1/documents/nope")
    client.get("/v1/documents/shenzhen-weishi-2020")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert 'policykb_requests_total{method="GET",route="/v1/search",status="200"} 2' in lines
    # a route's template, never the id asked for (no unbounded label values)
    assert 'policykb_requests_total{method="GET",route="/v1/documents/{doc_id}",status="404"} 1' in lines
    assert 'policykb_requests_total{method="GET",route="/v1/documents/{doc_id}",status="200"} 1' in lines
    assert 'policykb_request_seconds_count{route="/v1/search"} 2' in lines
    assert 'policykb_request_seconds_bucket{route="/v1/search",le="+Inf"} 2' in lines
    assert ["policykb_documents 1", "policykb_clauses 21"] == [
        ln for ln in lines if ln.startswith(("policykb_documents ", "policykb_clauses "))
    ]
    buckets = [
        int(ln.rsplit(" ", 1)[1])
        for ln in lines
        if ln.startswith('policykb_request_seconds_bucket{route="/v1/search"')
    ]
    assert buckets == sorted(buckets)  # cumulative


def test_a_follow_up_is_read_with_the_earlier_questions(client):
    body = {"question": "那抖音呢？", "previous": ["短视频多长？", "微视收费吗？"]}
    a = client.post("/v1/ask", json=body).json()
    assert a["question"] == "那抖音呢？"
    assert a["understood_as"] == "抖音收费吗？"  # the subject swapped in the last question's words
    assert a["abstained"] and a["reason"] == "the question is about 抖音; no clause found is"
    alone = client.post("/v1/ask", json={**body, "use_previous": False}).json()
    assert alone["understood_as"] is None
    own = client.post("/v1/ask", json={"question": "微视收费吗？", "previous": ["短视频多长？"]}).json()
    assert own["understood_as"] is None  # a question of its own is read as asked
    r = client.post("/v1/ask", json={"question": "x", "previous": ["q"] * 21})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "previous"]


def test_export_writes_the_clauses_with_their_references(client, kb):
    fee = next(c for c in kb.clauses("shenzhen-weishi-2020") if "不收取费用" in c.text)
    item = {
        "clause_id": fee.clause_id,
        "note": "收费依据",
        "question": "微视收费吗？",
        "answer": "不收费。[1]",
    }
    r = client.post("/v1/export", json={"format": "md", "excerpts": [item]})
    assert r.status_code == 200 and r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="policykb-excerpts.md"'
    text = r.text
    for part in ("不收取费用", "收费依据", "微视收费吗？", "深圳市商务局", "有效期"):
        assert part in text, part
    assert fee.clause_id not in text  # ids only in JSON
    j = client.post("/v1/export", json={"format": "json", "excerpts": [item]}).json()
    assert fee.clause_id in json.dumps(j, ensure_ascii=False)
    docx = client.post("/v1/export", json={"format": "docx", "excerpts": [item]})
    assert docx.content[:2] == b"PK"
    r = client.post("/v1/export", json={"format": "md", "excerpts": [{"clause_id": "nope"}]})
    assert (r.status_code, r.json()["detail"]) == (404, "no clause 'nope'")
    for bad, loc in (({"format": "pdf", "excerpts": [item]}, "format"), ({"excerpts": []}, "excerpts")):
        r = client.post("/v1/export", json=bad)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", loc]
