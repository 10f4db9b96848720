"""``python -m jupyter_smops.core.serving run SPEC`` (one endpoint) or ``zygote ROOT FP``."""
import json
import sys


def main(argv: list) -> None:
    if len(argv) == 2 and argv[0] == "run":
        # A restart with a requirements environment: it must shadow numpy & co. before they load.
        with open(argv[1]) as fh:
            sys.path[:0] = json.load(fh).get("extra_path") or []
        from .process import run_spec

        run_spec(argv[1])
    elif len(argv) == 3 and argv[0] == "zygote":
        from .zygote import main as zygote_main

        zygote_main(argv[1], argv[2])
    else:
        sys.exit("usage: python -m jupyter_smops.core.serving run SPEC.json | zygote ROOT FINGERPRINT")


if __name__ == "__main__":
    main(sys.argv[1:])
