"""Typed errors. The library raises these; only the CLI turns them into one-line messages."""


class LatentExplorerError(Exception):
    """Base class: anything the CLI should report as `error: <message>` and exit non-zero."""


class DataError(LatentExplorerError):
    """Input data is unreadable or malformed. The message names the file and the problem."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ArgumentError(LatentExplorerError, ValueError):
    """A value given to a command or to the Python API is out of range or of the wrong shape."""


class TrainingError(LatentExplorerError):
    """Training cannot go on, e.g. the loss stopped being finite."""


class CheckpointError(LatentExplorerError):
    """A run folder or checkpoint is missing or not one of ours."""


class BundleError(LatentExplorerError):
    """A bundle folder or manifest is missing or malformed."""


class ExportValidationError(LatentExplorerError):
    """The exported ONNX graph does not match torch; the export is aborted."""

    def __init__(self, graph, failures):
        self.graph = str(graph)
        self.failures = list(failures)
        super().__init__(f"{self.graph}: export validation failed: " + "; ".join(self.failures))


class OutputNameError(ExportValidationError):
    """Input or output names differ from the declared ones."""


class ShapeError(ExportValidationError):
    """Output shapes differ between torch and onnxruntime."""


class AtolError(ExportValidationError):
    """Output values differ by more than the declared atol."""


class TokenMismatchError(ExportValidationError):
    """onnxruntime's greedy decoding yields other tokens than torch's for some coordinates."""
