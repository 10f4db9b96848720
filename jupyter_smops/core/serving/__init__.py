"""The local inference server: the SageMaker scikit-learn container's contract on 127.0.0.1.

Runs only in its own processes (``python -m jupyter_smops.core.serving``), never inside the
Jupyter server or a kernel: ``handlers`` (finding inference.py, default handlers, status
codes), ``http`` (the HTTP/1.1 server), ``app`` (routes and request logs), ``process`` (one
endpoint's supervisor and workers), ``envs`` (requirements.txt environments), ``zygote`` (the
warm fork server that makes deploys fast). ``endpoints/local.py`` drives them.
"""
