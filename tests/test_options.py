import pytest

import gancli
from gancli.errors import GancliError
from gancli.options import parse_pairs, resolve, schema, to_kwargs


class Demo(gancli.Options):
    lambda_: float = gancli.field(10.0, help="weight", min=0.0)
    steps: int = gancli.field(3, help="count", min=1, max=9)
    mode: str = gancli.field("a", help="mode", choices=("a", "b"))
    flag: bool = gancli.field(False, help="switch")


def test_schema_names_drop_trailing_underscore():
    infos = schema(Demo)
    assert [i.name for i in infos] == ["lambda", "steps", "mode", "flag"]
    assert infos[0].attr == "lambda_" and infos[0].type is float and infos[0].help == "weight"


def test_resolve_converts_strings_and_fills_defaults():
    values = resolve(Demo, parse_pairs(["lambda=2.5", "steps=4", "mode=b", "flag=yes"]), "demo")
    assert values == {"lambda": 2.5, "steps": 4, "mode": "b", "flag": True}
    assert to_kwargs(Demo, values)["lambda_"] == 2.5
    assert resolve(Demo, {}, "demo") == {"lambda": 10.0, "steps": 3, "mode": "a", "flag": False}


@pytest.mark.parametrize("pairs, message", [
    (["lamda=1"], 'did you mean "lambda"'),
    (["steps=x"], "must be int"),
    (["steps=0"], "at least 1"),
    (["steps=10"], "at most 9"),
    (["mode=c"], "one of a, b"),
    (["flag=maybe"], "must be bool"),
    (["lambda=-1"], "at least 0.0"),
])
def test_bad_values_are_refused_with_a_reason(pairs, message):
    with pytest.raises(GancliError, match=message):
        resolve(Demo, parse_pairs(pairs), "demo")


def test_pairs_need_an_equals_sign():
    with pytest.raises(GancliError, match="key=value"):
        parse_pairs(["oops"])


def test_integral_float_from_toml_is_accepted_for_int():
    assert resolve(Demo, {"steps": 5.0}, "demo")["steps"] == 5
