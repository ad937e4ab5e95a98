"""docs/api.md is generated from the API's signatures and docstrings, and says something of every public name."""

import subprocess
import sys

from gancli.api import docgen


def test_api_page_is_up_to_date():
    assert docgen.PAGE.read_text() == docgen.render(), "run: python -m gancli.api.docgen --write"


def test_every_function_class_method_and_property_of_the_api_is_documented():
    import gancli.api as api

    for name in docgen.FUNCTIONS:
        assert docgen._doc(getattr(api, name)), name
    for module, name in docgen.MORE:
        assert docgen._doc(getattr(__import__(module, fromlist=[name]), name)), name
    for name, cls in docgen._classes().items():
        assert docgen._doc(cls), name
        for member, _, documented in docgen._members(cls):
            assert docgen._doc(documented), f"{name}.{member} has no docstring"
    assert set(api.__all__) <= set(docgen.FUNCTIONS) | set(docgen._classes())


def test_the_page_renders_without_torch():
    code = "import sys, gancli.api.docgen as d; d.render(); assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
