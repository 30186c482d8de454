"""``policykb serve``: the REST API (FastAPI), serving the same records as the CLI's JSON.

    policykb serve                       # http://127.0.0.1:8000, OpenAPI at /docs
    curl '127.0.0.1:8000/v1/search?q=微视收费吗&k=5'
    curl -X POST 127.0.0.1:8000/v1/ask -H 'content-type: application/json' -d '{"question": "微视收费吗？"}'

Routes: ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (Prometheus: requests and latencies by route,
knowledge-base size), ``GET /v1/search``, ``POST /v1/ask``, ``GET /v1/documents``,
``GET /v1/documents/{doc_id}``, ``GET /v1/clauses/{clause_id}``; and to change the knowledge base,
``DELETE /v1/documents/{doc_id}`` and ``PATCH /v1/documents/{doc_id}`` (title and metadata), which need
``api_token`` configured and given (403 without one configured).

Bad requests get a status and a message, never a 500: a body over ``MAX_BODY`` → 413, malformed JSON or a bad
parameter → 422 naming it, an unknown document or clause → 404. With ``api_token`` configured every
``/v1`` route needs ``Authorization: Bearer <token>`` (401 otherwise); ``policykb serve --host`` other than
loopback requires it. Each request picks up a generation another process wrote (``KnowledgeBase.reload``).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from policykb.config import Settings
from policykb.errors import PolicyKBError

if TYPE_CHECKING:
    from policykb.index.filters import Filters
    from policykb.index.store import KnowledgeBase

MAX_BODY = 64 * 1024  # bytes: a question and its filters are far smaller
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)  # seconds, for /metrics


class Metrics:
    """Request counts and latencies by route, in the Prometheus text format (no client library needed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}  # (method, route, status) → count
        self.latency: dict[str, list[float]] = {}  # route → [per-bucket counts…, sum, count]

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            row = self.latency.setdefault(route, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The exposition text; ``gauges``: name → (help, value)."""
        out = [
            "# HELP policykb_requests_total Requests served, by method, route and status.",
            "# TYPE policykb_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(
                    f'policykb_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}'
                )
            out += [
                "# HELP policykb_request_seconds Time to answer a request, by route.",
                "# TYPE policykb_request_seconds histogram",
            ]
            for route, row in sorted(self.latency.items()):
                for bound, count in zip(BUCKETS, row):
                    out.append(
                        f'policykb_request_seconds_bucket{{route="{route}",le="{bound}"}} {int(count)}'
                    )
                out.append(f'policykb_request_seconds_bucket{{route="{route}",le="+Inf"}} {int(row[-1])}')
                out.append(f'policykb_request_seconds_sum{{route="{route}"}} {row[-2]:.6f}')
                out.append(f'policykb_request_seconds_count{{route="{route}"}} {int(row[-1])}')
        for name, (help_text, value) in gauges.items():
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(out) + "\n"


class FilterFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str | None = None
    issuer: str | None = None
    platform: str | None = None
    doc: str | None = None
    doc_type: str | None = None
    date_from: str | None = None
    date_to: str | None = None


SEARCH_PARAMS = {"q", "k", *FilterFields.model_fields}  # what GET /v1/search accepts


class EditBody(BaseModel):
    """The fields of a document ``PATCH`` may correct; those given are changed, null or "" clears one."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    issuer: str | None = None
    region: str | None = None
    platform: str | None = None
    date: str | None = None
    doc_type: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None


class AskBody(FilterFields):
    question: str = Field(min_length=1, max_length=1000)
    k: int = Field(30, ge=1, le=100)


def _filters(f: FilterFields) -> Filters:
    from policykb.index.filters import Filters

    try:
        return Filters(
            region=f.region,
            issuer=f.issuer,
            platform=f.platform,
            doc_type=f.doc_type,
            doc_id=f.doc,
            date_from=f.date_from,
            date_to=f.date_to,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def create_app(settings: Settings | None = None, kb: KnowledgeBase | None = None) -> FastAPI:
    """The app over the knowledge base at ``settings.home`` (or the given ``kb``, for tests)."""
    settings = settings or Settings.load()
    app = FastAPI(
        title="policykb",
        version="1",
        description="Cited answers from Chinese e-commerce notices: search clauses, ask questions.",
    )
    state: dict[str, Any] = {"kb": kb}
    lock = threading.Lock()
    metrics = Metrics()

    def knowledge_base() -> KnowledgeBase:
        from policykb.index.store import KnowledgeBase

        with lock:
            if state["kb"] is None:
                state["kb"] = KnowledgeBase.open(settings)
            else:
                state["kb"].reload()
            return cast("KnowledgeBase", state["kb"])

    def authorised(request: Request) -> None:
        token = settings.api_token
        if not token:
            return
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(
                401,
                "a valid 'Authorization: Bearer <token>' header is needed",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.middleware("http")
    async def cap_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            response: Response = JSONResponse(
                {"detail": f"request body of {length} bytes is over the limit of {MAX_BODY}"}, status_code=413
            )
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        path = (
            getattr(route, "path", None) or "(no route)"
        )  # the template (/v1/documents/{doc_id}), never ids
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        return response

    @app.exception_handler(PolicyKBError)
    async def knowledge_base_error(request: Request, exc: PolicyKBError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    def with_stale(kb: KnowledgeBase, body: dict[str, Any]) -> dict[str, Any]:
        if kb.stale:
            body["stale_generation"] = kb.stale
        return body

    @app.get("/healthz")
    def healthz() -> dict[Any, Any]:
        return {"ok": True}

    @app.get("/metrics", dependencies=[Depends(authorised)], response_class=PlainTextResponse)
    def prometheus() -> str:
        kb = knowledge_base()
        return metrics.render(
            {
                "policykb_documents": ("Documents in the knowledge base.", len(kb.documents())),
                "policykb_clauses": ("Clauses in the knowledge base.", len(kb.clauses())),
                "policykb_generation": ("The generation served.", kb.generation or 0),
            }
        )

    @app.get("/readyz")
    def readyz() -> dict[Any, Any]:
        kb = knowledge_base()
        return with_stale(
            kb,
            {
                "ready": True,
                "generation": kb.generation,
                "documents": len(kb.documents()),
                "clauses": len(kb.clauses()),
            },
        )

    v1 = [Depends(authorised)]

    def may_write(request: Request) -> None:
        """Write routes need the token always: a knowledge base is never changed by whoever can reach it."""
        if not settings.api_token:
            raise HTTPException(403, "changing documents through the API needs api_token in the settings")
        authorised(request)

    write = [Depends(may_write)]

    @app.get("/v1/search", dependencies=v1)
    def search(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=1000)],
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        region: str | None = None,
        issuer: str | None = None,
        platform: str | None = None,
        doc: str | None = None,
        doc_type: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> dict[Any, Any]:
        from policykb.ui.cli import hit_dict

        unknown = sorted(set(request.query_params) - SEARCH_PARAMS)
        if unknown:
            raise HTTPException(
                422, f"unknown parameters {unknown}; allowed: {', '.join(sorted(SEARCH_PARAMS))}"
            )
        kb = knowledge_base()
        filters = FilterFields(
            region=region,
            issuer=issuer,
            platform=platform,
            doc=doc,
            doc_type=doc_type,
            date_from=date_from,
            date_to=date_to,
        )
        hits = kb.search(q, k=k, filters=_filters(filters))
        return with_stale(kb, {"query": q, "hits": [hit_dict(h) for h in hits]})

    @app.post("/v1/ask", dependencies=v1)
    def ask(body: AskBody) -> dict[Any, Any]:
        from policykb.qa.answer import answer

        kb = knowledge_base()
        return with_stale(kb, answer(kb, body.question, k=body.k, filters=_filters(body)).to_dict())

    @app.get("/v1/documents", dependencies=v1)
    def documents() -> dict[Any, Any]:
        return {"documents": [d.to_dict() for d in knowledge_base().documents()]}

    @app.get("/v1/documents/{doc_id}", dependencies=v1)
    def document(doc_id: str) -> dict[Any, Any]:
        kb = knowledge_base()
        doc = kb.document(doc_id)
        if doc is None:
            raise HTTPException(404, f"no document {doc_id!r}")
        outline = [
            {"clause_id": c.clause_id, "label": c.label, "section_path": list(c.section_path)}
            for c in kb.clauses(doc_id)
        ]
        versions = [{"version": v.number, "replaced": v.replaced} for v in kb.versions(doc_id)]
        return {**doc.to_dict(), "outline": outline, "versions": versions}

    @app.delete("/v1/documents/{doc_id}", dependencies=write)
    def remove_document(doc_id: str) -> dict[Any, Any]:
        kb = knowledge_base()
        try:
            doc = kb.remove_document(doc_id)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from exc
        return {
            "removed": doc.doc_id,
            "title": doc.title,
            "clauses": doc.n_clauses,
            "generation": kb.generation,
        }

    @app.patch("/v1/documents/{doc_id}", dependencies=write)
    def edit_document(doc_id: str, body: EditBody) -> dict[Any, Any]:
        changes = {name: getattr(body, name) for name in body.model_fields_set}
        if not changes:
            raise HTTPException(422, f"nothing to change; fields: {', '.join(EditBody.model_fields)}")
        kb = knowledge_base()
        try:
            doc = kb.edit_document(doc_id, changes)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from exc
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {**doc.to_dict(), "changed": sorted(changes), "generation": kb.generation}

    @app.get("/v1/clauses/{clause_id}", dependencies=v1)
    def clause(clause_id: str) -> dict[Any, Any]:
        from policykb.qa.citations import reference_dict
        from policykb.qa.crossrefs import resolve

        kb = knowledge_base()
        c = kb.clause(clause_id)
        if c is None:
            raise HTTPException(404, f"no clause {clause_id!r}")
        around = [
            n.to_dict() for n in kb.neighbours(clause_id, before=1, after=1) if n.clause_id != clause_id
        ]
        return {
            **c.to_dict(),
            "neighbours": around,
            "references": [reference_dict(r) for r in resolve(kb, c)],
        }

    return app
