"""The package exception hierarchy. Every error a user can cause is a ``BatonError``."""


class BatonError(Exception):
    """Base class for errors Baton reports to users (CLI line, API envelope, UI flash)."""

    code = "baton_error"


class ConfigError(BatonError):
    """A configuration file or setting is invalid."""

    code = "config_error"


class UnknownStageError(BatonError):
    """A stage name matched neither a buying stage nor a pipeline stage."""

    code = "unknown_stage"

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__(f"unknown stage {name!r}; known stages: {', '.join(known)}")


class ExtractionError(BatonError):
    """A file could not be read or its text extracted."""

    code = "extraction_error"


class MetadataError(BatonError):
    """Front matter or a sidecar is malformed or carries invalid values."""

    code = "metadata_error"


class ModelError(BatonError):
    """An embedding model or a trained artifact is missing, corrupt or incompatible."""

    code = "model_error"


class NotFittedError(BatonError):
    """A learned component was used before ``fit``."""

    code = "not_fitted"


class ValidationError(BatonError):
    """Input data (a CSV row, a JSON body, a rule) is invalid."""

    code = "validation_error"


class NotFoundError(BatonError):
    """The named record does not exist."""

    code = "not_found"


class ConflictError(BatonError):
    """The request conflicts with what is stored."""

    code = "conflict"
