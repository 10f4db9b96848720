"""Administration of a SageMaker Studio domain for jupyter_smops users (no Jupyter imports).

- ``lcc_script``: the JupyterLab on-start script and SageMaker's 16,384-character check;
- ``lifecycle``: create / attach / detach / delete that lifecycle configuration;
- ``policies``: the execution role's trust policy and the ABAC policy;
- ``bootstrap``: role, bucket, domain, user profiles, IAM users, ABAC (and ``status``);
- ``teardown`` (+ ``owned``): apps -> spaces -> user profiles -> domain, then what bootstrap made;
- ``studio``: domain lookup and presigned URLs;
- ``calls`` / ``plan``: every AWS call goes through a caller, live or recorded (``--dry-run``).
"""
