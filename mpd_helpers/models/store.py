"""Fitted recommenders saved as data only: their objects described in JSON, their numbers in an ``.npz``.

``pickle`` would save a model in one line, and would run whatever code a crafted file names
when it is loaded. Here a model is written as its graph of objects: ``model.json`` holds the
structure (each object of an allow-listed class by its attributes, lists, dicts, strings,
parameters) and ``arrays.npz`` every numeric array, uncompressed. The few foreign fitted
objects are kept by their data (a TF-IDF vectoriser by its parameters, vocabulary and IDF;
implicit's ALS by its parameters and factors; LightGBM's ranker by its model text) and
rebuilt with their libraries' own constructors. Loading builds only allow-listed classes,
finds callables only in an allow-list, never imports a name read from the folder, and reads
arrays with pickling off. An object reached twice (the utility matrix that every part of a
blend shares, a source model that is also a component of the first stage) is written once
and comes back as one object.

Anything wrong with a saved folder, however it is wrong, is :class:`StaleModel`: the cue to
refit.
"""

from __future__ import annotations

import functools
import math
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

from mpd_helpers.data import matrix
from mpd_helpers.models import base, blend, catalogue, factorization, neighbours, ranker, titles

FORMAT = 3  # bump when a saved folder would no longer load or mean the same
MODEL_FILE, ARRAYS_FILE = "model.json", "arrays.npz"


class StaleModel(Exception):
    """A saved model that cannot be loaded (missing, damaged, foreign or of another format): refit it."""


def _name(obj: Callable) -> str:
    """``module.qualname`` of a class or function of this package (``neighbours.ItemKNN``)."""
    return f"{obj.__module__.rpartition('.')[2]}.{obj.__qualname__}"


# The only classes ever built on loading, and the only callables a saved model may name.
CLASSES: dict[str, type] = {
    _name(c): c
    for c in (
        base.Popularity,
        neighbours.ItemKNN,
        neighbours.RP3beta,
        neighbours.PlaylistKNN,
        neighbours.Successors,
        titles.TitleModel,
        titles.SameTitle,
        factorization.ALS,
        factorization.DotScorer,
        blend.Blend,
        blend.SeedWeights,
        ranker.LearnedRanker,
        ranker.Averaged,
        ranker.Counts,
        matrix.PlaylistOrder,
    )
}
FUNCTIONS: dict[str, Callable] = {_name(f): f for f in (catalogue.first_stage, blend.seed_weights)}
_CALLABLES: dict[str, Callable] = {**CLASSES, **FUNCTIONS}
_CALLABLE_NAMES: dict[int, str] = {id(f): name for name, f in _CALLABLES.items()}

_ARRAY_KINDS = "biufcmMSU"  # numbers, booleans, dates and fixed-width text: never objects
_JSON_SCALARS = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float)}  # NumPy scalars kept in the JSON
_SPARSE: dict[str, type] = {
    c.__name__: c
    for c in (
        sp.csr_matrix,
        sp.csc_matrix,
        sp.coo_matrix,
        sp.dia_matrix,
        sp.csr_array,
        sp.csc_array,
        sp.coo_array,
        sp.dia_array,
    )
}
_SPARSE_PARTS = {
    "csr": ("data", "indices", "indptr"),
    "csc": ("data", "indices", "indptr"),
    "coo": ("data", "row", "col"),
    "dia": ("data", "offsets"),
}
_FOREIGN = {
    "sklearn.feature_extraction.text.TfidfVectorizer": "tfidf",
    "implicit.cpu.als.AlternatingLeastSquares": "implicit-als",
    "lightgbm.sklearn.LGBMRanker": "lightgbm",
    "lightgbm.basic.Booster": "lightgbm",
}
_ALS_PARAMS = (
    "factors",
    "regularization",
    "alpha",
    "dtype",
    "use_native",
    "use_cg",
    "iterations",
    "calculate_training_loss",
    "num_threads",
    "random_state",
)


def save(model: base.Recommender, folder: Path) -> None:
    """Write a fitted recommender into an existing, empty ``folder`` as model.json and arrays.npz."""
    if not isinstance(model, base.Recommender):
        raise ValueError(f"cannot store model: {type(model).__qualname__} is not a recommender")
    writer = _Writer()
    root = writer.value(model, "model")
    folder = Path(folder)
    np.savez(folder / ARRAYS_FILE, allow_pickle=False, **writer.arrays)
    (folder / MODEL_FILE).write_bytes(orjson.dumps({"format": FORMAT, "model": root}))


def load(folder: Path) -> base.Recommender:
    """The recommender saved in ``folder``; :class:`StaleModel` if anything about the folder is wrong."""
    folder = Path(folder)
    try:
        return _load(folder)
    except StaleModel:
        raise
    except Exception as err:  # whatever a damaged folder makes a reader raise: the same cue to refit
        detail = " ".join(str(err).split())[:120]
        raise StaleModel(f"saved model in {folder} is unreadable ({type(err).__name__}: {detail})") from err


def _load(folder: Path) -> base.Recommender:
    """:func:`load`, raising whatever it meets."""
    for name in (MODEL_FILE, ARRAYS_FILE):
        if not (folder / name).is_file():
            raise StaleModel(f"saved model in {folder} has no {name}")
    doc = orjson.loads((folder / MODEL_FILE).read_bytes())
    if not isinstance(doc, dict) or "model" not in doc:
        raise StaleModel(f"{folder / MODEL_FILE} is not a saved model")
    if type(doc.get("format")) is not int or doc["format"] != FORMAT:
        raise StaleModel(f"saved model in {folder} has format {doc.get('format')!r}, not {FORMAT}")
    arrays = np.load(folder / ARRAYS_FILE, allow_pickle=False)
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise StaleModel(f"{folder / ARRAYS_FILE} is not an .npz archive")
    with arrays:
        model = _Reader(arrays).value(doc["model"])
    if not isinstance(model, base.Recommender):
        raise StaleModel(f"saved model in {folder} holds a {type(model).__qualname__}, not a recommender")
    return model


# --- writing ---------------------------------------------------------------------------------


class _Writer:
    """Turns an object graph into JSON nodes and a dict of arrays; each object once, then by reference."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: dict[int, int] = {}  # id(object) -> its number
        self.alive: list[object] = []  # every numbered object, so that no id is reused while writing
        self.open_tuples: set[int] = set()

    def number(self, obj: object | None = None) -> int:
        """A new number; remember ``obj`` under it."""
        n = len(self.alive)
        self.alive.append(obj)
        if obj is not None:
            self.seen[id(obj)] = n
        return n

    def value(self, obj: Any, path: str) -> Any:
        """The JSON node of any supported value (``path`` names it in errors)."""
        t = type(obj)
        if obj is None or t is bool or t is str:
            return obj
        if t is int:
            if not -(2**63) <= obj < 2**64:
                raise ValueError(f"cannot store {path}: the integer {obj} exceeds 64 bits")
            return obj
        if t is float:
            return obj if math.isfinite(obj) else {"$": "float", "v": repr(obj)}
        if id(obj) in self.seen:
            return {"$": "ref", "id": self.seen[id(obj)]}
        if t is list:
            n = self.number(obj)
            return {"$": "list", "id": n, "items": [self.value(x, f"{path}[{i}]") for i, x in enumerate(obj)]}
        if t is tuple:
            return self.tuple(obj, path)
        if t is dict:
            n = self.number(obj)
            items = [[self.value(k, f"{path} key {k!r}"), self.value(v, f"{path}[{k!r}]")] for k, v in obj.items()]
            return {"$": "dict", "id": n, "items": items}
        if t is np.ndarray:
            return self.array(obj, path, remember=True)
        if isinstance(obj, np.generic):
            return self.scalar(obj, path)
        if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
            return self.dtype(obj, path)
        if CLASSES.get(_name(t)) is t:
            n = self.number(obj)
            return {
                "$": "object",
                "id": n,
                "class": _name(t),
                "state": {k: self.value(v, f"{path}.{k}") for k, v in vars(obj).items()},
            }
        if isinstance(obj, (type, types.FunctionType)) and id(obj) in _CALLABLE_NAMES:
            return {"$": "callable", "name": _CALLABLE_NAMES[id(obj)]}
        if t is functools.partial:
            return self.partial(obj, path)
        if t.__name__ in _SPARSE and _SPARSE[t.__name__] is t:
            return self.sparse(obj, path)
        if t in (pd.Series, pd.Index, pd.RangeIndex, pd.DataFrame):
            return self.pandas(obj, path)
        codec = _FOREIGN.get(f"{t.__module__}.{t.__qualname__}")
        if codec is not None:
            return getattr(self, codec.replace("-", "_"))(obj, path)
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            raise ValueError(
                f"cannot store {path}: {getattr(obj, '__module__', '?')}.{obj.__qualname__} is not "
                f"an allow-listed function or class"
            )
        raise ValueError(f"cannot store {path}: {t.__module__}.{t.__qualname__} is not a supported type")

    def tuple(self, obj: tuple, path: str) -> dict:
        """A tuple, numbered once its items are written (a tuple cannot hold itself)."""
        if id(obj) in self.open_tuples:
            raise ValueError(f"cannot store {path}: a tuple that contains itself")
        self.open_tuples.add(id(obj))
        items = [self.value(x, f"{path}[{i}]") for i, x in enumerate(obj)]
        self.open_tuples.discard(id(obj))
        return {"$": "tuple", "id": self.number(obj), "items": items}

    def array(self, a: np.ndarray, path: str, remember: bool = False) -> dict:
        """An array of numbers (or booleans, dates, fixed-width text), written to the .npz under its number."""
        if a.dtype.kind not in _ARRAY_KINDS or a.dtype.fields is not None:
            raise ValueError(
                f"cannot store {path}: an array of dtype {a.dtype} is not data "
                f"(only numbers, booleans, dates and fixed-width text are)"
            )
        n = self.number(a if remember else None)
        self.arrays[f"a{n}"] = a
        return {"$": "array", "id": n, "key": f"a{n}", "dtype": a.dtype.str, "shape": list(a.shape)}

    def scalar(self, x: np.generic, path: str) -> dict:
        """A NumPy scalar: by value when JSON keeps it exactly, else as a 0-d array."""
        if x.dtype.kind in "biuf" and x.dtype.itemsize <= 8:
            return {"$": "scalar", "dtype": x.dtype.str, "v": self.value(x.item(), path)}
        return {"$": "scalar", "array": self.array(np.asarray(x), path)}

    def dtype(self, d: np.dtype | type, path: str) -> dict:
        """A NumPy dtype, or a scalar type such as ``np.float32``."""
        dtype = np.dtype(d)
        if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
            raise ValueError(f"cannot store {path}: the dtype {dtype} is not data")
        return {"$": "dtype", "dtype": dtype.str, "type": not isinstance(d, np.dtype)}

    def partial(self, obj: functools.partial, path: str) -> dict:
        """``functools.partial`` of an allow-listed callable."""
        if id(obj.func) not in _CALLABLE_NAMES or vars(obj):
            raise ValueError(f"cannot store {path}: a partial of {obj.func!r}, which is not allow-listed")
        return {
            "$": "partial",
            "id": self.number(obj),
            "func": self.value(obj.func, f"{path}.func"),
            "args": [self.value(a, f"{path}.args[{i}]") for i, a in enumerate(obj.args)],
            "keywords": {k: self.value(v, f"{path}.keywords[{k!r}]") for k, v in obj.keywords.items()},
        }

    def sparse(self, m: sp.spmatrix | sp.sparray, path: str) -> dict:
        """A SciPy sparse matrix or array (CSR, CSC, COO, DIA), by its component arrays."""
        if m.ndim != 2:
            raise ValueError(f"cannot store {path}: a sparse array of {m.ndim} dimensions")
        n = self.number(m)
        parts = {p: self.value(getattr(m, p), f"{path}.{p}") for p in _SPARSE_PARTS[m.format]}
        return {"$": "sparse", "id": n, "class": type(m).__name__, "shape": list(m.shape), "parts": parts}

    def pandas(self, obj: pd.Series | pd.Index | pd.DataFrame, path: str) -> dict:
        """A Series, Index or DataFrame: numeric columns as arrays, text columns as JSON lists."""
        n = self.number(obj)
        if isinstance(obj, pd.DataFrame):
            return {
                "$": "frame",
                "id": n,
                "index": self.value(obj.index, f"{path}.index"),
                "columns": self.value(obj.columns, f"{path}.columns"),
                "data": [self.column(obj.iloc[:, j], f"{path}.iloc[:, {j}]") for j in range(obj.shape[1])],
            }
        name = self.value(obj.name, f"{path}.name")
        if isinstance(obj, pd.RangeIndex):
            return {"$": "range", "id": n, "range": [obj.start, obj.stop, obj.step], "name": name}
        if isinstance(obj, pd.Index):
            return {"$": "index", "id": n, "values": self.column(obj, path), "name": name}
        return {
            "$": "series",
            "id": n,
            "values": self.column(obj, path),
            "index": self.value(obj.index, f"{path}.index"),
            "name": name,
        }

    def column(self, values: pd.Series | pd.Index, path: str) -> dict:
        """The values of a Series or Index: an array, or a list of strings (null where missing)."""
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind != "O":
            return self.array(values.to_numpy(), path)
        if isinstance(dtype, pd.StringDtype):
            kind = {"storage": dtype.storage, "na": "nan" if dtype.na_value is np.nan else "NA"}
        elif isinstance(dtype, np.dtype):  # object: strings, checked below
            kind = "object"
        else:
            raise ValueError(f"cannot store {path}: the pandas dtype {dtype} is not supported")
        missing = pd.isna(values)
        items = [None if gone else x for x, gone in zip(values.tolist(), missing.tolist())]
        if not all(type(x) is str for x, gone in zip(items, missing.tolist()) if not gone):
            raise ValueError(f"cannot store {path}: an object column that holds more than strings")
        return {"$": "strings", "dtype": kind, "values": items}

    def tfidf(self, v: Any, path: str) -> dict:
        """scikit-learn's fitted ``TfidfVectorizer``: its parameters, vocabulary and IDF."""
        if not v.use_idf or not hasattr(v, "vocabulary_"):
            raise ValueError(f"cannot store {path}: only a fitted TF-IDF vectoriser with use_idf=True")
        params = {k: self.value(x, f"{path}.{k}") for k, x in v.get_params(deep=False).items()}
        return {
            "$": "tfidf",
            "id": self.number(v),
            "params": params,
            "terms": list(v.vocabulary_),
            "columns": self.array(
                np.fromiter(v.vocabulary_.values(), np.int64, len(v.vocabulary_)), f"{path}.vocabulary_"
            ),
            "fixed": bool(v.fixed_vocabulary_),
            "idf": self.value(v.idf_, f"{path}.idf_"),
        }

    def implicit_als(self, model: Any, path: str) -> dict:
        """implicit's CPU ``AlternatingLeastSquares``: its parameters, factors and cached Gram matrices."""
        if model.user_factors is None or model.item_factors is None:
            raise ValueError(f"cannot store {path}: an ALS model not fitted")
        if model.fit_callback is not None or type(model.random_state) not in (int, type(None)):
            raise ValueError(f"cannot store {path}: an ALS model with a callback or a random generator")
        return {
            "$": "implicit-als",
            "id": self.number(model),
            "params": {k: self.value(getattr(model, k), f"{path}.{k}") for k in _ALS_PARAMS},
            "cg_steps": self.value(model.cg_steps, f"{path}.cg_steps"),
            **{
                k: self.value(getattr(model, k), f"{path}.{k}")
                for k in ("user_factors", "item_factors", "_YtY", "_XtX")
            },
        }

    def lightgbm(self, model: Any, path: str) -> dict:
        """LightGBM's ``LGBMRanker`` (or a ``Booster``): the booster's model text."""
        booster = getattr(model, "booster_", model)
        return {"$": "lightgbm", "id": self.number(model), "model": booster.model_to_string()}


# --- reading ---------------------------------------------------------------------------------


def _expect(node: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    """``node[key]``, which must be of ``kind``."""
    if key not in node or not isinstance(node[key], kind) or (kind is int and type(node[key]) is bool):
        raise StaleModel(f"malformed saved model: a {node.get('$')!r} node without a valid {key!r}")
    return node[key]


class _Reader:
    """Builds the object graph back from JSON nodes and the .npz, each numbered object once."""

    def __init__(self, arrays: np.lib.npyio.NpzFile):
        self.arrays = arrays
        self.objects: dict[int, object] = {}

    def remember(self, node: dict, obj: object) -> object:
        """Note ``obj`` under the node's number."""
        n = _expect(node, "id", int)
        if n in self.objects:
            raise StaleModel(f"malformed saved model: object {n} defined twice")
        self.objects[n] = obj
        return obj

    def value(self, node: Any) -> Any:
        """The value a JSON node stands for."""
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is not dict or type(node.get("$")) is not str:
            raise StaleModel("malformed saved model: a value that is not a node")
        read = getattr(self, f"read_{node['$'].replace('-', '_')}", None)
        if read is None:
            raise StaleModel(f"malformed saved model: unknown node {node['$'][:40]!r}")
        return read(node)

    def read_float(self, node: dict) -> float:
        """A float that JSON cannot hold: nan, inf or -inf."""
        text = _expect(node, "v", str)
        if text not in ("nan", "inf", "-inf"):
            raise StaleModel(f"malformed saved model: the float {text[:20]!r}")
        return float(text)

    def read_ref(self, node: dict) -> object:
        """An object read before."""
        n = _expect(node, "id", int)
        if n not in self.objects:
            raise StaleModel(f"malformed saved model: a reference to object {n}, not read before")
        return self.objects[n]

    def read_list(self, node: dict) -> list:
        """A list."""
        out = self.remember(node, [])
        out.extend(self.value(x) for x in _expect(node, "items", list))
        return out

    def read_tuple(self, node: dict) -> tuple:
        """A tuple."""
        return self.remember(node, tuple(self.value(x) for x in _expect(node, "items", list)))

    def read_dict(self, node: dict) -> dict:
        """A dict, from its (key, value) pairs."""
        out = self.remember(node, {})
        for pair in _expect(node, "items", list):
            if type(pair) is not list or len(pair) != 2:
                raise StaleModel("malformed saved model: a dict item that is not a pair")
            out[self.value(pair[0])] = self.value(pair[1])
        return out

    def read_object(self, node: dict) -> object:
        """An instance of an allow-listed class, its attributes restored (no constructor runs)."""
        name = _expect(node, "class", str)
        if name not in CLASSES:
            raise StaleModel(f"saved model names an unknown class {name[:60]!r}")
        cls = CLASSES[name]
        obj = self.remember(node, cls.__new__(cls))
        for key, value in _expect(node, "state", dict).items():
            if not key.isidentifier() or key.startswith("__"):
                raise StaleModel(f"malformed saved model: the attribute {key[:40]!r}")
            obj.__dict__[key] = self.value(value)
        return obj

    def read_callable(self, node: dict) -> Callable:
        """An allow-listed class or function, by name."""
        name = _expect(node, "name", str)
        if name not in _CALLABLES:
            raise StaleModel(f"saved model names an unknown callable {name[:60]!r}")
        return _CALLABLES[name]

    def read_partial(self, node: dict) -> functools.partial:
        """``functools.partial`` of an allow-listed callable."""
        func = self.value(_expect(node, "func", dict))
        if id(func) not in _CALLABLE_NAMES:
            raise StaleModel("malformed saved model: a partial of something not allow-listed")
        args = [self.value(a) for a in _expect(node, "args", list)]
        keywords = {k: self.value(v) for k, v in _expect(node, "keywords", dict).items()}
        return self.remember(node, functools.partial(func, *args, **keywords))

    def read_array(self, node: dict) -> np.ndarray:
        """An array of the .npz, which must have the dtype and shape the JSON says."""
        key, dtype = _expect(node, "key", str), np.dtype(_expect(node, "dtype", str))
        shape = _expect(node, "shape", list)
        a = self.arrays[key]
        if dtype.kind not in _ARRAY_KINDS or a.dtype != dtype or a.dtype.str != dtype.str or list(a.shape) != shape:
            raise StaleModel(f"saved array {key[:20]} is {a.dtype.str} {list(a.shape)}, expected {dtype.str} {shape}")
        return self.remember(node, a)

    def array_in(self, node: dict, key: str, kinds: str, ndim: int) -> np.ndarray:
        """The array that ``node[key]`` stands for, which must be of one of ``kinds`` and ``ndim`` dimensions."""
        a = self.value(_expect(node, key, dict))
        if type(a) is not np.ndarray or a.dtype.kind not in kinds or a.ndim != ndim:
            raise StaleModel(f"malformed saved model: {key!r} is not an array of the expected kind")
        return a

    def read_scalar(self, node: dict) -> np.generic:
        """A NumPy scalar."""
        if "array" in node:
            a = self.array_in(node, "array", _ARRAY_KINDS, 0)
            return a[()]
        dtype = np.dtype(_expect(node, "dtype", str))
        v = self.value(node.get("v"))
        if dtype.kind not in _JSON_SCALARS or type(v) not in _JSON_SCALARS[dtype.kind]:
            raise StaleModel(f"malformed saved model: a {dtype} scalar of {type(v).__name__}")
        return dtype.type(v)

    def read_dtype(self, node: dict) -> np.dtype | type:
        """A NumPy dtype, or a scalar type."""
        dtype = np.dtype(_expect(node, "dtype", str))
        if dtype.kind not in _ARRAY_KINDS:
            raise StaleModel(f"malformed saved model: the dtype {dtype}")
        return dtype.type if _expect(node, "type", bool) else dtype

    def read_sparse(self, node: dict) -> sp.spmatrix | sp.sparray:
        """A SciPy sparse matrix or array, checked against its shape."""
        name = _expect(node, "class", str)
        if name not in _SPARSE:
            raise StaleModel(f"saved model names an unknown sparse class {name[:40]!r}")
        cls, shape = _SPARSE[name], tuple(_expect(node, "shape", list))
        if len(shape) != 2 or not all(type(s) is int and s >= 0 for s in shape):
            raise StaleModel("malformed saved model: a sparse shape")
        fmt = name[:3]
        parts = _expect(node, "parts", dict)
        data = self.array_in(parts, "data", "biufc", 2 if fmt == "dia" else 1)
        if fmt in ("csr", "csc"):
            indices, indptr = (self.array_in(parts, k, "i", 1) for k in ("indices", "indptr"))
            m = cls((data, indices, indptr), shape=shape)
            m.indices, m.indptr = indices, indptr  # as saved, should the constructor have narrowed them
            m.check_format(full_check=True)  # indices within the shape, pointers in order
        elif fmt == "coo":
            row, col = (self.array_in(parts, k, "i", 1) for k in ("row", "col"))
            m = cls((data, (row, col)), shape=shape)
        else:
            offsets = self.array_in(parts, "offsets", "i", 1)
            m = cls((data, offsets), shape=shape)
        return self.remember(node, m)

    def read_range(self, node: dict) -> pd.RangeIndex:
        """A ``RangeIndex``."""
        start, stop, step = _expect(node, "range", list)
        return self.remember(node, pd.RangeIndex(start, stop, step, name=self.value(node.get("name"))))

    def read_index(self, node: dict) -> pd.Index:
        """An ``Index`` of numbers or strings."""
        values, dtype = self.column(_expect(node, "values", dict))
        return self.remember(node, pd.Index(values, dtype=dtype, name=self.value(node.get("name")), copy=False))

    def read_series(self, node: dict) -> pd.Series:
        """A ``Series`` of numbers or strings."""
        values, dtype = self.column(_expect(node, "values", dict))
        index = self.index(node)
        return self.remember(
            node, pd.Series(values, index=index, dtype=dtype, name=self.value(node.get("name")), copy=False)
        )

    def read_frame(self, node: dict) -> pd.DataFrame:
        """A ``DataFrame``, column by column."""
        index, columns = self.index(node), self.index(node, "columns")
        data = [self.column(c) for c in _expect(node, "data", list)]
        if len(data) != len(columns):
            raise StaleModel("malformed saved model: a data frame's columns and names differ in number")
        frame = pd.DataFrame(
            {j: pd.Series(v, index=index, dtype=d, copy=False) for j, (v, d) in enumerate(data)}, index=index
        )
        frame.columns = columns
        return self.remember(node, frame)

    def index(self, node: dict, key: str = "index") -> pd.Index:
        """A node's index (or columns), which must be a pandas Index."""
        index = self.value(_expect(node, key, dict))
        if not isinstance(index, pd.Index):
            raise StaleModel(f"malformed saved model: the {key} of a {node['$']!r} node")
        return index

    def column(self, node: dict) -> tuple[np.ndarray | list, Any]:
        """The values of a Series or Index and their dtype (None: the array's own)."""
        if node.get("$") == "array":
            return self.read_array(node), None
        if node.get("$") != "strings":
            raise StaleModel("malformed saved model: a column that is neither numbers nor strings")
        items = _expect(node, "values", list)
        if not all(x is None or type(x) is str for x in items):
            raise StaleModel("malformed saved model: a column of strings holds something else")
        kind = node.get("dtype")
        if kind == "object":
            return items, object
        if (
            type(kind) is not dict
            or kind.get("na") not in ("nan", "NA")
            or kind.get("storage") not in ("python", "pyarrow")
        ):
            raise StaleModel("malformed saved model: the dtype of a column of strings")
        return items, pd.StringDtype(kind["storage"], na_value=np.nan if kind["na"] == "nan" else pd.NA)

    def read_tfidf(self, node: dict) -> Any:
        """A fitted ``TfidfVectorizer``, built afresh and given its vocabulary and IDF."""
        params = {k: self.value(v) for k, v in _expect(node, "params", dict).items()}
        terms = _expect(node, "terms", list)
        columns = self.array_in(node, "columns", "i", 1)
        idf = self.array_in(node, "idf", "f", 1)
        if (
            not all(type(t) is str for t in terms)
            or len(set(terms)) != len(terms)
            or len(columns) != len(terms)
            or not np.array_equal(np.sort(columns), np.arange(len(terms)))
            or len(idf) != len(terms)
        ):
            raise StaleModel("malformed saved model: a TF-IDF vocabulary")
        v = TfidfVectorizer(**params)
        v.vocabulary_ = dict(zip(terms, columns.tolist()))
        v.idf_ = idf
        v.fixed_vocabulary_ = _expect(node, "fixed", bool)
        v._tfidf.n_features_in_ = len(terms)
        return self.remember(node, v)

    def read_implicit_als(self, node: dict) -> Any:
        """implicit's ``AlternatingLeastSquares``, built afresh and given its factors."""
        params = {k: self.value(v) for k, v in _expect(node, "params", dict).items()}
        with threadpool_limits(1, "blas"):  # as the model was built: no warning about BLAS threads
            model = factorization.AlternatingLeastSquares(**params)
        users, items = (self.array_in(node, k, "f", 2) for k in ("user_factors", "item_factors"))
        if (
            users.shape[1] != model.factors
            or items.shape[1] != model.factors
            or users.dtype != model.dtype
            or items.dtype != model.dtype
        ):
            raise StaleModel("malformed saved model: ALS factors that do not fit its parameters")
        model.user_factors, model.item_factors = users, items
        model.cg_steps = _expect(node, "cg_steps", int)
        for key in ("_YtY", "_XtX"):
            if node.get(key) is not None:
                gram = self.array_in(node, key, "f", 2)
                if gram.shape != (model.factors, model.factors):
                    raise StaleModel("malformed saved model: an ALS Gram matrix of the wrong shape")
                setattr(model, key, gram)
        return self.remember(node, model)

    def read_lightgbm(self, node: dict) -> Any:
        """A LightGBM ``Booster`` from its model text (it predicts as the ranker did)."""
        import lightgbm

        return self.remember(node, lightgbm.Booster(model_str=_expect(node, "model", str)))
