"""Fixtures for the ingest tests: PDF builders from ``tests/data/loaders/make_pdf.py``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


def _load_pdf_tools() -> ModuleType:
    spec = importlib.util.spec_from_file_location("policykb_test_make_pdf", DATA / "loaders" / "make_pdf.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PDF_TOOLS = _load_pdf_tools()


@pytest.fixture(scope="session")
def pdf_tools() -> ModuleType:
    """The whole helper module: make_pdf, expected_pages, image_only_pdf, bomb_pdf, assemble_pdf, ..."""
    return PDF_TOOLS


@pytest.fixture(scope="session")
def make_pdf() -> Callable[..., Path]:
    """``make_pdf(text, path, *, header="深圳市商务局文件", lines_per_page=30) -> Path``."""
    return PDF_TOOLS.make_pdf


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
