"""Legacy Word (.doc, Word 97-2003, an OLE2 compound file) → text, through Debian's antiword (or catdoc).

antiword writes each paragraph on one line with ``-w 0`` and UTF-8 with ``-m UTF-8.txt``; a table comes
out as rows of ``|``-separated cells, which become row lines for the layout (``loaders.table_row``). catdoc
reads what antiword refuses (Word 6/95 files, some fast-saved ones). Both run as child processes under the
time limit of a PDF parse. ``scripts/setup.sh`` installs them.

>>> doc_text(Path("notice.doc"), "notice.doc", timeout_s=60)  # doctest: +SKIP
'深圳市商务局关于…的通知\\n…'
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from policykb.errors import EncryptedFileError, InvalidFileError, TooLargeError

TOOLS = (
    ("antiword", ["-m", "UTF-8.txt", "-w", "0"]),
    ("catdoc", ["-d", "utf-8", "-w"]),
)
TABLE_LINE = "|"


def doc_text(file: Path, name: str, *, timeout_s: float) -> str:
    """The text of a .doc; each table row as ``\\tcell\\tcell``. Errors name the file and the problem."""
    found = [(tool, args) for tool, args in TOOLS if shutil.which(tool)]
    if not found:
        raise InvalidFileError(name, "a Word 97-2003 .doc needs Debian antiword or catdoc (scripts/setup.sh)")
    problems = []
    for tool, args in found:
        try:
            proc = subprocess.run(
                [tool, *args, str(file)], capture_output=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise TooLargeError(name, f"{tool} took longer than the limit of {timeout_s:g} s") from None
        err = proc.stderr.decode("utf-8", "replace").strip()
        if "encrypted" in err.lower():
            raise EncryptedFileError(name, "encrypted .doc: a password is needed to read it")
        text = proc.stdout.decode("utf-8", "replace")
        if proc.returncode == 0 and text.strip():
            return "\n".join(_row(line) for line in text.split("\n"))
        problems.append(f"{tool}: {err.splitlines()[-1] if err else f'exit status {proc.returncode}'}")
    raise InvalidFileError(name, f"not a readable Word .doc ({'; '.join(problems)})"[:300])


def _row(line: str) -> str:
    """antiword's table row "|a    |b   |" → "\\ta\\tb"; any other line as it is."""
    stripped = line.strip()
    if len(stripped) > 1 and stripped.startswith(TABLE_LINE) and stripped.endswith(TABLE_LINE):
        from policykb.ingest.loaders import table_row

        return table_row([cell.strip() for cell in stripped[1:-1].split(TABLE_LINE)])
    return line
