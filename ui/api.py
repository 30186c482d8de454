"""``policykb serve``: the REST API (FastAPI), serving the same records as the CLI's JSON.

    policykb serve                       # http://127.0.0.1:8000, OpenAPI at /docs
    curl '127.0.0.1:8000/v1/search?q=微视收费吗&k=5'
    curl -X POST 127.0.0.1:8000/v1/ask -H 'content-type: application/json' -d '{"question": "微视收费吗？"}'

Routes: ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (Prometheus: requests and latencies by route,
knowledge-base size), ``GET /v1/search``, ``POST /v1/ask``, ``GET /v1/documents``,
``GET /v1/documents/{doc_id}``, ``GET /v1/clauses/{clause_id}``, ``POST /v1/export`` (clauses → DOCX,
Markdown, CSV or JSON); ``POST /v1/ask`` reads a follow-up with the earlier questions (``previous``); and to
change the knowledge base,
``POST /v1/documents`` (multipart upload → the ingest report), ``PATCH /v1/documents/{doc_id}`` (title and
metadata) and ``DELETE /v1/documents/{doc_id}``.

Access: keys are made with ``policykb keys add NAME`` and kept hashed in the home (``ui/api_keys.py``;
``api_token`` in the settings is one more key). Write routes always need ``Authorization: Bearer <key>``
(403 while no key exists, 401 without a valid one). Read routes are open while no key exists; once one does
they need it too, unless ``api_public_read = true``. ``policykb serve --host`` other than loopback needs a
key. Each key (or client address, without one) may make ``api_rate_limit`` requests a minute to ``/v1``
(429 with ``Retry-After`` beyond). Browser origins in ``api_cors_origins`` may call the API. No key is
ever logged: uvicorn's access log is off and no message repeats a key.

Bad requests get a status and a message, never a 500: a body over ``MAX_BODY`` (``MAX_UPLOAD`` for an
upload) → 413, malformed JSON or a bad parameter → 422 naming it, an unknown document or clause → 404, an
upload of nothing policykb reads → 415. Each request picks up a generation another process wrote
(``KnowledgeBase.reload``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from policykb.config import Settings
from policykb.errors import PolicyKBError
from policykb.ui.api_keys import key_name, list_keys

if TYPE_CHECKING:
    from policykb.index.filters import Filters
    from policykb.index.store import KnowledgeBase

MAX_BODY = 64 * 1024  # bytes: a question and its filters are far smaller
MAX_OFFSET = 900  # deepest page start of GET /v1/search (ranks beyond 1,000 carry no evidence)
MAX_UPLOAD = 50 * 1024 * 1024  # bytes of one multipart upload (each file is capped again, as in the app)
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


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests a minute, in bursts of up to ``per_minute``.
    Callers are told apart by a hash of their Authorization header (the key itself is never kept), or by
    their address when they send none. Counted per server process (each ``--workers`` process has its own)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # caller → (tokens, when)

    def wait(self, caller: str) -> float:
        """0 when ``caller`` may go on (and takes a token); else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(caller, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / rate


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some route of ``app`` takes at ``request``'s path."""
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def caller_id(request: Request) -> str:
    """Who a request counts against for the rate limit (see ``RateLimiter``)."""
    header = request.headers.get("authorization", "")
    if header:
        return "key:" + hashlib.sha256(header.encode()).hexdigest()[:16]
    return "addr:" + (request.client.host if request.client else "?")


@dataclass(frozen=True)
class Uploaded:
    """A multipart file as ``ui/uploads.py`` takes it (its name as sent, its bytes)."""

    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


class Problem(BaseModel):
    """Every error's body: ``detail`` says what was wrong — a message, or FastAPI's list of fields for a
    request that does not fit the schema. An upload that added nothing also carries its ingest report."""

    model_config = ConfigDict(extra="allow")
    detail: str | list[dict[str, Any]]


STATUS_MEANING = {
    401: "no API key, or one that is not valid",
    403: "no API key exists yet: the knowledge base cannot be changed through the API",
    404: "no such document or clause",
    413: "the request body is over the size limit",
    415: "nothing uploaded is of a type policykb reads",
    422: "a parameter or field is missing, unknown or malformed (named in detail)",
    429: "too many requests from this key or address; see Retry-After",
    503: "the knowledge base cannot be read",
}
READ = (401, 422, 429, 503)
WRITE = (*READ, 403, 413)


def _formats() -> list[Any]:
    from policykb.ui.export import FORMATS

    return list(FORMATS.values())


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route for the error statuses it can answer with."""
    return {s: {"model": Problem, "description": STATUS_MEANING[s]} for s in sorted(set(statuses))}


DATE_HELP = "yyyy, yyyy-mm or yyyy-mm-dd (a day the month has)"


class FilterFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str | None = None
    issuer: str | None = None
    platform: str | None = None
    doc: str | None = None
    doc_type: str | None = None
    doc_number: str | None = Field(None, description="document number (文号), or a part of it")
    date_from: str | None = Field(None, description=DATE_HELP)
    date_to: str | None = Field(None, description=DATE_HELP)


SEARCH_PARAMS = {"q", "k", "offset", *FilterFields.model_fields}  # what GET /v1/search accepts


class EditBody(BaseModel):
    """The fields of a document ``PATCH`` may correct; those given are changed, null or "" clears one."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    issuer: str | None = None
    region: str | None = None
    platform: str | None = None
    date: str | None = None
    doc_type: str | None = None
    doc_number: str | None = None
    signed: str | None = None
    published: str | None = None
    addressees: str | None = None
    copy_to: str | None = None
    printed: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None


class AskBody(FilterFields):
    question: str = Field(min_length=1, max_length=1000)
    k: int = Field(30, ge=1, le=100)
    previous: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list,
        max_length=20,
        description="the conversation's earlier questions, oldest first: a follow-up (那抖音呢？) is read "
        "with their subject, and the answer says how (understood_as)",
    )
    use_previous: bool = Field(True, description="false: the question is read alone")


class ExcerptItem(BaseModel):
    """One clause to export, with the consultant's note and, when it was cited in an answer, that answer."""

    model_config = ConfigDict(extra="forbid")
    clause_id: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=5000)
    question: str | None = Field(None, max_length=1000)
    answer: str | None = Field(None, max_length=20000)


class ExportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["docx", "md", "csv", "json"] = "md"
    redact: bool = Field(
        False, description="mask phone and ID numbers, e-mail and the contact names beside them"
    )
    excerpts: list[ExcerptItem] = Field(min_length=1, max_length=500)


def _filters(f: FilterFields) -> Filters:
    from policykb.index.filters import Filters

    try:
        return Filters(
            region=f.region,
            issuer=f.issuer,
            platform=f.platform,
            doc_type=f.doc_type,
            doc_id=f.doc,
            doc_number=f.doc_number,
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
    limiter = RateLimiter(settings.api_rate_limit)

    def knowledge_base() -> KnowledgeBase:
        from policykb.index.store import KnowledgeBase

        with lock:
            if state["kb"] is None:
                state["kb"] = KnowledgeBase.open(settings)
            else:
                state["kb"].reload()
            return cast("KnowledgeBase", state["kb"])

    def key_configured() -> bool:
        return bool(settings.api_token) or bool(list_keys(settings.home))

    def caller(request: Request) -> str | None:
        """The name of the key the request carries (None without one); 401 for a key that is not valid.
        Keys are read on each request, so `policykb keys rm` takes effect at once."""
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given:
            return None
        if settings.api_token and hmac.compare_digest(given.encode(), settings.api_token.encode()):
            return "api_token"
        name = key_name(settings.home, given)
        if name is None:
            raise HTTPException(401, "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})
        return name

    def authorised(request: Request) -> None:
        """Reads: open while no key is configured (or with api_public_read), else a valid key."""
        if caller(request) is None and key_configured() and not settings.api_public_read:
            raise HTTPException(
                401,
                "a valid 'Authorization: Bearer <key>' header is needed",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.middleware("http")
    async def cap_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        length = request.headers.get("content-length")
        cap = MAX_UPLOAD if request.url.path == "/v1/documents" else MAX_BODY
        wait = limiter.wait(caller_id(request)) if request.url.path.startswith("/v1/") else 0.0
        if wait:
            response: Response = JSONResponse(
                {"detail": f"too many requests: over {limiter.per_minute} a minute; retry in {wait:.0f} s"},
                status_code=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        elif length is not None and (not length.isdigit() or int(length) > cap):
            response = JSONResponse(
                {"detail": f"request body of {length} bytes is over the limit of {cap}"}, status_code=413
            )
        else:
            response = await call_next(request)
            if response.status_code == 405:  # name every method the path has, not only the first route's
                response.headers["Allow"] = ", ".join(allowed_methods(app, request))
        route = request.scope.get("route")
        path = (
            getattr(route, "path", None) or "(no route)"
        )  # the template (/v1/documents/{doc_id}), never ids
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # a body FastAPI could not even decode: malformed, as the API says
            exc = StarletteHTTPException(422, f"the request body is not valid JSON ({exc.detail})")
        return await http_exception_handler(request, exc)

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

    @app.get(
        "/metrics",
        dependencies=[Depends(authorised)],
        response_class=Response,  # errors stay JSON; the 200 is the Prometheus text format
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **errors(401, 503)},
    )
    def prometheus() -> Response:
        kb = knowledge_base()
        text = metrics.render(
            {
                "policykb_documents": ("Documents in the knowledge base.", len(kb.documents())),
                "policykb_clauses": ("Clauses in the knowledge base.", kb.clause_count()),
                "policykb_generation": ("The generation served.", kb.generation or 0),
            }
        )
        return PlainTextResponse(text)

    @app.get("/readyz", responses=errors(503))
    def readyz() -> dict[Any, Any]:
        kb = knowledge_base()
        return with_stale(
            kb,
            {
                "ready": True,
                "generation": kb.generation,
                "documents": len(kb.documents()),
                "clauses": kb.clause_count(),
            },
        )

    v1 = [Depends(authorised)]

    def may_write(request: Request) -> None:
        """Write routes need a key always: a knowledge base is never changed by whoever can reach it."""
        if not key_configured():
            raise HTTPException(
                403,
                "changing the knowledge base through the API needs an API key: policykb keys add NAME",
            )
        if caller(request) is None:
            raise HTTPException(
                401,
                "a valid 'Authorization: Bearer <key>' header is needed",
                headers={"WWW-Authenticate": "Bearer"},
            )

    write = [Depends(may_write)]

    @app.get("/v1/search", dependencies=v1, responses=errors(*READ))
    def search(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=1000)],
        k: Annotated[int, Query(ge=1, le=100, description="hits in this page")] = 10,
        offset: Annotated[
            int, Query(ge=0, le=MAX_OFFSET, description="hits to skip: the next page starts at offset + k")
        ] = 0,
        region: str | None = None,
        issuer: str | None = None,
        platform: str | None = None,
        doc: str | None = None,
        doc_type: str | None = None,
        doc_number: str | None = None,
        date_from: Annotated[str | None, Query(description=DATE_HELP)] = None,
        date_to: Annotated[str | None, Query(description=DATE_HELP)] = None,
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
            doc_number=doc_number,
            date_from=date_from,
            date_to=date_to,
        )
        hits = kb.search(q, k=offset + k, filters=_filters(filters))[offset:]
        return with_stale(kb, {"query": q, "offset": offset, "hits": [hit_dict(h) for h in hits]})

    @app.post("/v1/ask", dependencies=v1, responses=errors(*READ, 413))
    def ask(body: AskBody) -> dict[Any, Any]:
        from policykb.qa.answer import answer
        from policykb.qa.followup import in_conversation

        kb = knowledge_base()
        understood = in_conversation(body.question, body.previous) if body.use_previous else None
        result = answer(kb, understood or body.question, k=body.k, filters=_filters(body)).to_dict()
        result["question"] = body.question  # as it was asked; understood_as says how it was read
        return with_stale(kb, {**result, "understood_as": understood})

    @app.post(
        "/v1/export",
        dependencies=v1,
        response_class=Response,
        responses={
            200: {
                "content": {f.mime: {"schema": {"type": "string", "format": "binary"}} for f in _formats()}
            },
            **errors(*READ, 404, 413),
        },
    )
    def export_excerpts(body: ExportBody) -> Response:
        """Clauses (by id, each with a note and the answer it was cited in) → a DOCX, Markdown, CSV or JSON
        file with full references, as the app's basket and `policykb export` write it."""
        from policykb.ui.export import Excerpt, export

        kb = knowledge_base()
        excerpts = []
        for item in body.excerpts:
            c = kb.clause(item.clause_id)
            if c is None:
                raise HTTPException(404, f"no clause {item.clause_id!r}")
            e = Excerpt.from_clause(c, note=item.note, question=item.question, answer=item.answer)
            excerpts.append(e.with_document(kb.document(c.doc_id)))
        data, mime, ext = export(excerpts, body.format, redact=body.redact)
        return Response(
            data,
            media_type=mime,
            headers={"Content-Disposition": f'attachment; filename="policykb-excerpts.{ext}"'},
        )

    @app.get("/v1/documents", dependencies=v1, responses=errors(*READ))
    def documents() -> dict[Any, Any]:
        return {"documents": [d.to_dict() for d in knowledge_base().documents()]}

    @app.get("/v1/documents/{doc_id}", dependencies=v1, responses=errors(*READ, 404))
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

    @app.post("/v1/documents", dependencies=write, responses=errors(*WRITE, 404, 415))
    def upload_documents(
        files: Annotated[list[UploadFile], File(description="notices: .txt .md .pdf .docx .html .htm")],
        replace: Annotated[
            str | None, Form(description="the document the one file is a new version of")
        ] = None,
    ) -> JSONResponse:
        """Notices → the knowledge base, with the same checks as the app's upload page (size, type by magic
        bytes, safe names); the ingest report. Nothing added: 415 when every file is of a type policykb
        does not read, 413 when one was over the size limit, else 422."""
        from policykb.ui.uploads import ingest_uploads

        kb = knowledge_base()
        if replace is not None and kb.document(replace) is None:
            raise HTTPException(404, f"no document {replace!r} to replace")
        uploads = [Uploaded(f.filename or "upload", f.file.read()) for f in files]
        result = ingest_uploads(kb, uploads, replace, max_chars=settings.max_clause_chars)
        body = {
            "added": result.added,
            "report": result.report.to_dict() if result.report else None,
            "text": result.text,
            "generation": kb.generation,
        }
        status = 200
        if not result.added:
            body["detail"] = f"nothing was added: {result.text}"
            kinds = result.problems()
            status = 415 if kinds == {"type"} else 413 if "size" in kinds else 422
        return JSONResponse(body, status_code=status)

    @app.delete("/v1/documents/{doc_id}", dependencies=write, responses=errors(*WRITE, 404))
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

    @app.patch("/v1/documents/{doc_id}", dependencies=write, responses=errors(*WRITE, 404))
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

    @app.get("/v1/clauses/{clause_id}", dependencies=v1, responses=errors(*READ, 404))
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

    if settings.api_cors_origins:  # added last: outermost, so a 413 or 429 carries the CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
        )
    return app
