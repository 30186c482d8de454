"""The named errors of policykb. Each message says what was wrong and what is allowed."""


class PolicyKBError(Exception):
    """Base class: every error policykb raises on purpose."""


class ConfigError(PolicyKBError):
    """A setting is unknown or has a value that is not allowed."""


class IngestError(PolicyKBError):
    """A file could not be turned into clauses. ``path`` names the file."""

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class UnsupportedFileError(IngestError):
    """The file's type is not one policykb reads."""


class InvalidFileError(IngestError):
    """The file claims a type but its bytes are not a valid file of that type."""


class EncryptedFileError(IngestError):
    """The file is password-protected."""


class TooLargeError(IngestError):
    """The file (or what it inflates to) exceeds a size, memory or time limit."""


class NeedsOCRError(IngestError):
    """The file has no text layer: it is a scan and needs OCR."""


class EmptyDocumentError(IngestError):
    """The file holds no text."""


class IndexError_(PolicyKBError):
    """The knowledge base on disk is missing, incomplete, corrupt or inconsistent."""


class IndexIncompleteError(IndexError_):
    """A generation on disk is incomplete or fails its checksums: rebuild with `policykb ingest`."""


class IndexMismatchError(IndexError_):
    """Clause store and vector store disagree (count, dimension or model): refuse to serve."""


class IndexWriteError(IndexError_):
    """Saving a new generation failed (disk full, permissions…); the previous generation stays live."""


class LockBusyError(PolicyKBError):
    """Another process is writing to the knowledge base."""
