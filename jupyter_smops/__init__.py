"""jupyter_smops: SageMaker MLOps without leaving JupyterLab.

Entry points are kept import-light: loading the server extension, the IPython extension or
the CLI does not import boto3, sagemaker or scikit-learn until an operation needs them.
"""
from .core.version import __version__


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-smops"}]


def _jupyter_server_extension_points():
    """The server extension is an ``ExtensionApp`` (imported only when Jupyter Server asks)."""
    from .extension import SmopsApp

    return [{"module": "jupyter_smops", "app": SmopsApp}]


def load_ipython_extension(ipython):
    """``%load_ext jupyter_smops`` registers ``%smops``."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython):
    pass
