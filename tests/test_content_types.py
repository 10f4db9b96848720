"""The content types a model's inference.py reads and writes, found at packaging and kept with the version."""
from __future__ import annotations

import ast
import json
import textwrap

import pytest

from jupyter_smops.core.packaging.content_types import DEFAULT_TYPES, handled_types
from jupyter_smops.core.packaging.default_inference import render

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
LOADER = "import os, joblib\ndef model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n"
# The case: an input_fn that only reads JSON (the panel offered CSV anyway).
JSON_ONLY = LOADER + textwrap.dedent('''
    import json
    import numpy as np

    def input_fn(request_body, request_content_type):
        if request_content_type != "application/json":
            raise ValueError(f"This model reads JSON only, not {request_content_type}")
        return np.array(json.loads(request_body)["instances"])
''')


def types_of(source: str):
    return handled_types(ast.parse(textwrap.dedent(source)))


def test_without_handlers_the_containers_defaults_json_csv_npy():
    assert types_of("def model_fn(d):\n    return d\n") == (list(DEFAULT_TYPES), list(DEFAULT_TYPES))
    assert DEFAULT_TYPES == (JSON, CSV, NPY)


def test_the_generated_inference_reads_and_writes_json_and_csv():
    # Through an alias (content_type = (request_content_type or ...).split(";")[0].lower()).
    assert types_of(render("model.joblib")) == ([JSON, CSV], [JSON, CSV])


def test_a_json_only_input_fn_accepts_json_only():
    accepts, produces = types_of(JSON_ONLY)
    assert accepts == [JSON]
    assert produces == list(DEFAULT_TYPES)  # no output_fn: the container's encoder


@pytest.mark.parametrize("body, expected", [
    # == and in, JSON put first (the panel offers the first)
    ('if ct == "text/csv": return 1\nelif ct in ("application/json", "application/jsonlines"): return 2',
     [JSON, CSV, "application/jsonlines"]),
    # startswith with full types; parameters stripped by an alias
    ('kind = ct.split(";")[0].strip().lower()\nif kind.startswith(("text/csv", "application/json")): return 1',
     [JSON, CSV]),
    # the keys of a module-level dict indexed by the type
    ('return DECODERS[ct](body)', [JSON, "text/plain"]),
    ('fn = DECODERS.get(ct)\nreturn fn(body)', [JSON, "text/plain"]),
    # a tuple constant
    ('if ct not in SUPPORTED: raise ValueError(ct)\nreturn body', [CSV]),
    # match statement
    ('match ct:\n    case "application/json" | "text/csv":\n        return 1', [JSON, CSV]),
    # a helper of this module that compares it
    ('return _decode(body, ct.lower())', [NPY]),
    # the toolkit's constants, and falling back to the container's decoder
    ('if ct == content_types.JSON: return 1\nreturn encoders.decode(body, ct)', [JSON, CSV, NPY]),
    # the type never looked at: what the body is parsed with
    ('return json.loads(body)', [JSON]),
])
def test_user_input_fn_types_from_its_comparisons(body, expected):
    source = (LOADER + 'import json\nfrom sagemaker_containers.beta.framework import encoders, content_types\n'
              'DECODERS = {"application/json": json.loads, "text/plain": str}\nSUPPORTED = ("text/csv",)\n'
              'def _decode(b, kind):\n    if kind == "application/x-npy":\n        return b\n'
              'def input_fn(body, ct):\n' + textwrap.indent(body, "    ") + "\n")
    assert types_of(source)[0] == expected


@pytest.mark.parametrize("body", [
    'return mylib.parse(body, ct)',  # handed to code we cannot read
    'if "json" in ct: return 1',  # a fragment, not a type
    'if ct.startswith("text/"): return 1',
    'match ct:\n    case "text/csv":\n        return 1\n    case _:\n        return 2',  # everything else too
    'return body',  # never looks at it, and parses nothing we know
    'if ct == OTHER: return 1',  # compared with something not a literal
    'return DECODERS.get(ct, mylib.parse)(body)',  # every other type goes to a fallback
])
def test_unknown_when_it_cannot_tell(body):
    source = (LOADER + 'import mylib\nOTHER = compute()\nDECODERS = {"application/json": mylib.parse}\n'
              'def input_fn(body, ct):\n' + textwrap.indent(body, "    ") + "\n")
    assert types_of(source)[0] is None


def test_reporting_the_type_in_an_error_does_not_make_it_unknown():
    assert types_of(LOADER + textwrap.dedent('''
        import logging
        log = logging.getLogger(__name__)
        def input_fn(body, ct):
            log.info("reading %s", ct)
            if ct == "text/csv":
                return body
            if ct == "application/json":
                return body
            print("unsupported", ct)
            raise ValueError("Unsupported content type {}".format(ct))
    '''))[0] == [JSON, CSV]


def test_output_fn_and_transform_fn():
    out = LOADER + textwrap.dedent('''
        import json
        def output_fn(prediction, accept):
            return json.dumps(prediction.tolist()), "application/json"
    ''')
    assert types_of(out)[1] == [JSON]
    transform = LOADER.replace("model_fn", "_load") + textwrap.dedent('''
        def model_fn(d):
            return _load(d)
        def transform_fn(model, body, content_type, accept):
            if content_type != "text/csv":
                raise ValueError(content_type)
            return "x", accept
    ''')
    assert types_of(transform) == ([CSV], None)  # accept is passed through: unknown
    assert handled_types(None) == (None, None)


def test_push_records_accepts_and_an_old_version_has_none(smops_home, iris_model, tmp_path):
    from jupyter_smops.core.api import Smops
    from jupyter_smops.core.config import SmopsConfig

    smops = Smops(SmopsConfig())
    inference = tmp_path / "inference.py"
    inference.write_text(JSON_ONLY)
    mv = smops.push(iris_model, name="iris", inference=str(inference))
    assert (mv.accepts, mv.produces) == ([JSON], list(DEFAULT_TYPES))
    meta_path = smops_home / "registry" / "iris" / "v1" / "smops.json"
    meta = json.loads(meta_path.read_text())
    assert meta["accepts"] == [JSON]
    generated = smops.push(iris_model, name="iris")
    assert generated.accepts == [JSON, CSV]
    # Pushed by a release that did not record it: no fact, so every type is offered.
    del meta["accepts"], meta["produces"]
    meta_path.write_text(json.dumps(meta))
    listed = {v.version: v for v in smops.models("iris")[0].versions}
    assert listed[1].accepts is None and listed[1].to_dict()["accepts"] is None
    assert listed[2].accepts == [JSON, CSV]


def test_a_type_only_logged_leaves_the_guess_from_the_body():
    # It reads JSON whatever the type says; logging the type is not looking at it.
    assert types_of(LOADER + textwrap.dedent('''
        import json, logging
        log = logging.getLogger(__name__)
        def input_fn(body, ct):
            log.info("a request of %s", ct)
            print("type:", ct)
            return json.loads(body)
    '''))[0] == [JSON]
