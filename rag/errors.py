"""Errors a user can act on. Each carries a one-line message and the CLI exit code for it."""


class RagError(Exception):
    """Base class: `str(err)` is one line saying what is wrong and how to fix it."""

    exit_code = 1


class UsageError(RagError):
    exit_code = 2


class IndexMissingError(RagError):
    exit_code = 3


class IndexCorruptError(RagError):
    exit_code = 4


class ModelMissingError(RagError):
    exit_code = 5


class ModelCrashError(ModelMissingError):
    """The model file is there, but llama.cpp crashed or failed running it (seen in a child process)."""


class ConfigError(RagError):
    exit_code = 6


class InputError(RagError):
    """Bad articles: nothing readable, a path that does not exist, a file too large."""

    exit_code = 7


class QuestionError(RagError):
    """An empty question, or one too long for the model's context."""

    exit_code = 2


class GenerationError(RagError):
    exit_code = 8


class IndexBusyError(RagError):
    """Another `rag index` is writing the same index folder and did not finish within the wait."""

    exit_code = 9


class IndexWriteError(RagError):
    """The index folder cannot be written (full disk, read-only folder); the last index is unchanged."""

    exit_code = 10


class ModelInstallError(RagError):
    """`rag models install` could not fetch the parts, or what they join to is not the pinned file."""

    exit_code = 11  # 9 and 10 are taken by the index writer's errors (busy, cannot write)
