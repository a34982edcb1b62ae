"""Exceptions raised by dsv4: one class per status of the C library."""


class Error(Exception):
    """Base class of every dsv4 error. ``status`` is the C status code."""

    status = 9

    def __init__(self, message: str = "", status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    """An argument was invalid: a NULL, out-of-range token id, bad option..."""
    status = 1


class IOError(Error, OSError):  # noqa: A001 - mirrors DSV4_STATUS_IO
    """A file could not be opened or read."""
    status = 2


class FormatError(Error, ValueError):
    """A file was malformed: bad safetensors header, config.json, DSML markup..."""
    status = 3


class UnsupportedError(Error):
    """The model or option is not supported by this build."""
    status = 4


class OutOfMemoryError(Error, MemoryError):
    """Memory could not be allocated, or the memory budget would be exceeded."""
    status = 5


class ContextFullError(Error):
    """The session's context limit was reached."""
    status = 6


class CancelledError(Error):
    """The call was cancelled (abort callback or Session.cancel())."""
    status = 7


class BackendError(Error):
    """The compute backend failed."""
    status = 8


class InternalError(Error):
    """A bug in dsv4: please report it with the message."""
    status = 9


_BY_STATUS = {cls.status: cls for cls in (InvalidArgumentError, IOError, FormatError, UnsupportedError,
                                          OutOfMemoryError, ContextFullError, CancelledError, BackendError,
                                          InternalError)}


def error_for_status(status: int, message: str) -> Error:
    """The exception instance for a C status code (used by the extension)."""
    return _BY_STATUS.get(status, Error)(message, status)
