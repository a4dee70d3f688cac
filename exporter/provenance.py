"""Library versions recorded in checkpoints and manifests, so a bundle says what made it."""
import platform


def versions():
    import numpy
    import onnx
    import onnxruntime
    import sklearn
    import torch
    return {"python": platform.python_version(), "torch": str(torch.__version__), "onnx": str(onnx.__version__),
            "onnxruntime": str(onnxruntime.__version__), "numpy": str(numpy.__version__),
            "scikit-learn": str(sklearn.__version__)}
