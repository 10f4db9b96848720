"""The local inference server: the SageMaker scikit-learn container's contract on 127.0.0.1.

Serves from its own processes (``python -m jupyter_smops.core.serving``), never inside the
Jupyter server or a kernel; only ``contract``, ``leases``, ``zygote``'s client side and
``runtime_gateway``'s ``ensure`` are imported there. ``contract`` (the container's rules: finding
inference.py, which functions it accepts, content types, status codes; standard library only, so
validation imports it too), ``default_functions`` (the container's numpy input/predict/output
functions and loading a model with them), ``http`` (the HTTP/1.1 server), ``app`` (routes and
request logs), ``process`` (one endpoint's supervisor and workers), ``envs`` (requirements.txt
environments), ``zygote`` (the warm fork server that makes deploys fast) and ``leases`` (who still
needs it), ``runtime_gateway``, ``runtime_protocol`` and ``runtime_upstream`` (the SageMaker
Runtime address for every local endpoint), ``handoff`` and ``runtime_worker`` (its connections
passed to the endpoint's workers). ``endpoints/local.py`` drives them.
"""
