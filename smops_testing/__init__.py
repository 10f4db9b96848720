"""Test scaffolding for jupyter_smops: not part of the wheel (only ``jupyter_smops/`` is).

``smops_testing.fakes`` holds the fault-injecting endpoints backend and the registry seeder used
by the tests, the Galata server and the panel bench. It is importable from a source checkout
(the editable install puts the repository root on ``sys.path``; the test and server configs
add it themselves otherwise).
"""
