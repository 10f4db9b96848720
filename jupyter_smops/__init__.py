"""jupyter_smops: SageMaker MLOps without leaving JupyterLab.

Entry points are kept import-light: loading the server extension, the IPython extension or
the CLI does not import boto3, sagemaker or scikit-learn until an operation needs them.
"""
from .core.version import __version__


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-smops"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyter_smops"}]


def _load_jupyter_server_extension(server_app):
    """Register the REST API (``/smops/api/...``)."""
    from .handlers import setup_handlers

    setup_handlers(server_app)
    server_app.log.info("jupyter_smops server extension loaded")


def load_ipython_extension(ipython):
    """``%load_ext jupyter_smops`` registers ``%smops``."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython):
    pass
