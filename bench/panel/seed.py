"""Fill a SMOPS_HOME with 1,000 registry versions and 200 (fake) endpoints for the panel bench.

Usage: python seed.py SMOPS_HOME [VERSIONS] [ENDPOINTS]. One real iris package is built and
validated once, then stored as every version (the local registry copies and hashes it each
time, as a real push does); endpoints come from the fault-injecting fake backend, so no
processes are started.
"""
import os
import sys
import tempfile
from pathlib import Path

MODELS = 20


def main() -> None:
    home = Path(sys.argv[1])
    versions = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    endpoints = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    os.environ.update(SMOPS_HOME=str(home), SMOPS_BACKEND="local", SMOPS_OWNER="bench",
                      SMOPS_ENDPOINTS_CLASS="smops_testing.fakes.FakeEndpoints")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # smops_testing/ is not in the wheel
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from jupyter_smops.core.api import Smops
    from smops_testing.fakes import seed_registry

    work = Path(tempfile.mkdtemp(prefix="smops-bench-"))
    iris = load_iris()
    joblib.dump(DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target), work / "iris.joblib")
    smops = Smops()
    package = smops.package(str(work / "iris.joblib"), sample={"instances": [[5.1, 3.5, 1.4, 0.2]]},
                            out=str(work / "model.tar.gz"))
    pushed = seed_registry(smops.registry, package, models=MODELS, versions=versions // MODELS, owner="bench")
    smops.endpoints.seed(endpoints, "model-000", 1, "bench")
    print(f"seeded {pushed} versions and {endpoints} endpoints in {home}")


if __name__ == "__main__":
    main()
