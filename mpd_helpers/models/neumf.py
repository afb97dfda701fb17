"""NeuMF: a GMF branch and an MLP branch over playlist and track embeddings, one sigmoid unit.

Playlists play the part of "users" and tracks the part of "items". Each branch owns its
embeddings: the GMF branch multiplies a playlist vector and a track vector element by element,
the MLP branch concatenates two wider vectors and passes them through ReLU layers, and a single
sigmoid neuron reads both results. Training pairs every playlist-track entry of the utility
matrix (label 1) with freshly drawn tracks the playlist does not contain (label 0) and minimises
binary cross-entropy with Adam.

How training is made fast, and what that changes
------------------------------------------------
Keras 3's ``Adam`` treats an embedding table like any other weight: every step it rewrites the
first and second moments and the values of *all* rows, although a batch touches at most a few
thousand of them. At the write-up's size (about 10,000 playlists, 180,000 tracks, 30 M
parameters) that full-table update dominates, and ``model.fit`` manages only a few thousand
samples per second on two CPU cores.

``Trainer`` therefore runs its own training step: a ``tf.function`` that loops over many
batches per call. The forward pass, the loss (the compiled binary cross-entropy plus any
regularisation terms, through ``model.compute_loss``) and the gradients are those of
``model.fit``. The gradients of the four embedding tables arrive as row slices; for them the
step applies Adam *lazily*: it sums the slices of rows that repeat within the batch and updates
the moments and values of those rows only, with Keras' rule (same ``beta_1``, ``beta_2``,
``epsilon``, and bias correction from the global step count). The dense layers get the ordinary
Adam update. The one difference from dense Adam: a row absent from a batch keeps its moments and
its value, whereas dense Adam would decay its moments and keep moving the row by its momentum.
On a step where every row appears the two coincide (the tests check this against Keras' Adam fed
the dense gradient). Keras' own Adam, given row slices directly, squares each slice before
adding up repeated rows, so its second moment is not quite dense Adam's either; this step uses
the summed gradient. A non-zero L2 penalty on an embedding makes that table's gradient dense;
the step then updates every row, correctly but without the speed-up.

Two more details serve speed without changing any number. The embedding layers
(``RowEmbedding``) gather rows straight from their variable: Keras' stock layer first reads the
whole table, and once a table is updated row by row TensorFlow copies it on every such read.
And throughput grows with the batch (on the shared 2-core machine, roughly 40-55 k samples/s at
batch 256 and about 100 k at 4096, against 3-5 k for ``model.fit`` at 2048; see
``benchmarks/bench_neumf.py``). A larger batch means fewer, larger Adam steps per epoch: the
model is the same, the path the optimiser takes is not.

Scoring (``score``) runs the same forward pass in numpy on the trained weights, in large
batches; ``model.predict`` and ``model(...)`` remain available and agree with it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

# TensorFlow sizes its thread pools by the cores it sees, and a reduction split over another
# number of threads adds in another order: the last bits of a sum, and after a few epochs the
# model, change. Fixed pool sizes (set before TensorFlow starts; the environment may override
# them) make training exactly repeatable on a machine whatever cores a process may use.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import keras  # noqa: E402  (after the thread settings above)
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import tqdm

from mpd_helpers import files
from mpd_helpers.errors import MPDInputError

EMBEDDING_NAMES = {
    "mf_user": "mf_user_embedding",
    "mf_item": "mf_item_embedding",
    "mlp_user": "mlp_user_embedding",
    "mlp_item": "mlp_item_embedding",
}
MODEL_FILE = "neumf.keras"
EMBEDDINGS_FILE = "neumf_embeddings.npz"
HISTORY_FILE = "neumf_history.json"


@dataclasses.dataclass
class NeuMFConfig:
    """Hyper-parameters of NeuMF training (defaults: the write-up's)."""

    latent_dim: int = 32
    dense_layers: Sequence[int] = (256, 128, 128, 64)
    learning_rate: float = 0.001
    n_negatives: int = 4
    epochs: int = 7
    batch_size: int = 256
    reg_layers: Sequence[float] = (0.0, 0.0, 0.0, 0.0)
    reg_mf: float = 0.0
    seed: int = 0
    # Train on this many playlists drawn at random (seeded), or on all of them (None). Every
    # playlist keeps its row; the rows of the others stay at their initial values.
    sample_playlists: int | None = None


# --------------------------------------------------------------------------- the model


@keras.saving.register_keras_serializable(package="mpd_helpers")
class RowEmbedding(keras.layers.Embedding):
    """An Embedding whose lookup reads only the requested rows of its table.

    Keras' own Embedding reads the whole table as a dense tensor before gathering from it;
    once a table is updated row-wise, TensorFlow copies it on every such read. Gathering
    straight from the variable reads only the rows in the batch. The result is the same.
    """

    def call(self, inputs):
        """The embedding rows of ``inputs``."""
        table = self.embeddings.value
        if isinstance(table, tf.Variable) and not self.quantization_mode:
            return tf.gather(table, tf.cast(inputs, "int32"))
        return super().call(inputs)


def _l2(strength: float) -> keras.regularizers.Regularizer | None:
    """An L2 regulariser, or None for a zero strength (so that no dense penalty is built)."""
    return keras.regularizers.L2(float(strength)) if strength else None


def build_model(
    n_playlists: int,
    n_tracks: int,
    latent_dim: int = 32,
    dense_layers: Sequence[int] = (256, 128, 128, 64),
    reg_layers: Sequence[float] = (0, 0, 0, 0),
    reg_mf: float = 0.0,
    seed: int = 0,
    learning_rate: float = 0.001,
    row_lookup: bool = True,
) -> keras.Model:
    """The compiled NeuMF model: inputs (playlist index, track index), output P(track in playlist).

    ``row_lookup=False`` uses Keras' stock Embedding layer (same numbers; for comparisons).

    Shown in the book: 02_neumf.
    """
    dense_layers = [int(d) for d in dense_layers]
    reg_layers = [float(r) for r in (reg_layers or ())]
    if len(reg_layers) != len(dense_layers):
        if any(reg_layers):  # an all-zero list of another length simply means "none"
            raise MPDInputError(
                f"reg_layers has {len(reg_layers)} entries, dense_layers {len(dense_layers)}", field="reg_layers"
            )
        reg_layers = [0.0] * len(dense_layers)
    if n_playlists < 1 or n_tracks < 1 or latent_dim < 1 or min(dense_layers) < 1:
        raise MPDInputError("sizes must be positive", field="n_playlists/n_tracks/latent_dim")
    mlp_dim = dense_layers[0] // 2
    seeds = iter(int(x) for x in np.random.SeedSequence(seed).generate_state(16) >> 1)

    def table(name: str, rows: int, dim: int, reg: float) -> keras.layers.Embedding:
        """One embedding table with a seeded normal initialiser."""
        layer = RowEmbedding if row_lookup else keras.layers.Embedding
        return layer(
            rows,
            dim,
            name=name,
            embeddings_initializer=keras.initializers.RandomNormal(seed=next(seeds)),
            embeddings_regularizer=_l2(reg),
        )

    user = keras.Input(shape=(1,), dtype="int32", name="user_input")
    item = keras.Input(shape=(1,), dtype="int32", name="item_input")
    flat = keras.layers.Flatten
    mf_user = flat()(table("mf_user_embedding", n_playlists, latent_dim, reg_mf)(user))
    mf_item = flat()(table("mf_item_embedding", n_tracks, latent_dim, reg_mf)(item))
    mlp_user = flat()(table("mlp_user_embedding", n_playlists, mlp_dim, reg_layers[0])(user))
    mlp_item = flat()(table("mlp_item_embedding", n_tracks, mlp_dim, reg_layers[0])(item))

    mf_vector = keras.layers.Multiply(name="mf_latent")([mf_user, mf_item])
    mlp_vector = keras.layers.Concatenate(name="mlp_latent")([mlp_user, mlp_item])
    for k in range(1, len(dense_layers)):
        mlp_vector = keras.layers.Dense(
            dense_layers[k],
            activation="relu",
            name=f"layer{k}",
            kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
            activity_regularizer=_l2(reg_layers[k]),
        )(mlp_vector)
    joined = keras.layers.Concatenate(name="predict_vector")([mf_vector, mlp_vector])
    result = keras.layers.Dense(
        1, activation="sigmoid", name="result", kernel_initializer=keras.initializers.LecunUniform(seed=next(seeds))
    )(joined)

    model = keras.Model(inputs=[user, item], outputs=result, name="neumf")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="binary_crossentropy", metrics=["accuracy"]
    )
    return model


def parameter_count(
    n_playlists: int, n_tracks: int, latent_dim: int = 32, dense_layers: Sequence[int] = (256, 128, 128, 64)
) -> int:
    """The number of trainable parameters of ``build_model`` for these sizes."""
    mlp_dim = dense_layers[0] // 2
    total = (n_playlists + n_tracks) * (latent_dim + mlp_dim)
    width = 2 * mlp_dim
    for units in dense_layers[1:]:
        total += width * units + units
        width = units
    return total + latent_dim + width + 1


# --------------------------------------------------------------------------- negatives


def positive_pairs(matrix: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (int32) of the stored non-zero entries of a utility matrix."""
    if not sp.issparse(matrix) or matrix.ndim != 2:
        raise MPDInputError("the utility matrix must be a 2-D scipy.sparse matrix", field="matrix")
    csr = sp.csr_matrix(matrix, copy=True)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    users = np.repeat(np.arange(csr.shape[0], dtype=np.int32), np.diff(csr.indptr))
    return users, csr.indices.astype(np.int32)


def sample_negatives(
    matrix: sp.csr_matrix, n_negatives: int = 4, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All positives (label 1) plus ``n_negatives`` absent tracks per positive (label 0).

    Shown in the book: 02_neumf.
    """
    if n_negatives < 0:
        raise MPDInputError("n_negatives must be >= 0", field="n_negatives")
    rng = np.random.default_rng(rng)
    users, items = positive_pairs(matrix)
    n_tracks = matrix.shape[1]
    if n_negatives and np.any(np.bincount(users, minlength=matrix.shape[0]) >= n_tracks):
        raise MPDInputError("a playlist contains every track: no negative can be drawn", field="matrix")
    keys = users.astype(np.int64) * n_tracks + items  # sorted: CSR rows, sorted columns
    neg_users = np.repeat(users, n_negatives)
    neg_items = rng.integers(0, n_tracks, size=neg_users.size, dtype=np.int64)
    todo = np.arange(neg_users.size)
    while todo.size:
        probe = neg_users[todo].astype(np.int64) * n_tracks + neg_items[todo]
        slot = np.minimum(np.searchsorted(keys, probe), max(keys.size - 1, 0))
        todo = todo[keys[slot] == probe] if keys.size else todo[:0]
        neg_items[todo] = rng.integers(0, n_tracks, size=todo.size, dtype=np.int64)
    labels = np.concatenate([np.ones(users.size, np.float32), np.zeros(neg_users.size, np.float32)])
    return (np.concatenate([users, neg_users]), np.concatenate([items, neg_items.astype(np.int32)]), labels)


# --------------------------------------------------------------------------- training


class Trainer:
    """Binary cross-entropy training of a NeuMF model with Adam, lazy on embedding rows.

    The two playlist tables share their lookups, and so do the two track tables; each pair
    keeps its Adam moments side by side in one variable, so that a step gathers and scatters
    the moments of a batch's rows once per pair.
    """

    def __init__(
        self,
        model: keras.Model,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
    ):
        self.model = model
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = (learning_rate, beta_1, beta_2, epsilon)
        self.variables = list(model.trainable_variables)
        position = {id(v): k for k, v in enumerate(self.variables)}
        self.groups = []  # (indices into self.variables, widths, moments variable)
        for side in ("user", "item"):
            tables = [model.get_layer(f"{kind}_{side}_embedding").embeddings for kind in ("mf", "mlp")]
            widths = [int(t.shape[1]) for t in tables]
            moments = tf.Variable(
                tf.zeros((tables[0].shape[0], 2 * sum(widths))), trainable=False, name=f"{side}_moments"
            )
            self.groups.append(([position[id(t)] for t in tables], widths, moments))
        grouped = {k for members, _, _ in self.groups for k in members}
        self.dense = [
            (
                k,
                tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False),
                tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False),
            )
            for k, v in enumerate(self.variables)
            if k not in grouped
        ]
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
        signature = [
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None, None], tf.float32),
        ]
        self._run = tf.function(self._run_batches, input_signature=signature)

    def _apply(self, grads: list) -> None:
        """One Adam step (Keras' rule); embedding tables update only the rows in the batch.

        Shown in the book: 02_neumf.
        """
        step = tf.cast(self.iterations + 1, tf.float32)
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        b1_power, b2_power = tf.pow(b1, step), tf.pow(b2, step)
        alpha = self.learning_rate * tf.sqrt(1.0 - b2_power) / (1.0 - b1_power)
        for members, widths, moments in self.groups:
            parts = [grads[k] for k in members]
            if all(isinstance(g, tf.IndexedSlices) for g in parts):
                indices = parts[0].indices  # both tables are looked up with the same input
                values = tf.concat([g.values for g in parts], axis=1)
            else:  # an L2 penalty made a gradient dense: update every row
                indices = tf.range(tf.shape(moments)[0])
                values = tf.concat([tf.convert_to_tensor(g) for g in parts], axis=1)
            rows, where = tf.unique(indices)
            g = tf.math.unsorted_segment_sum(values, where, tf.shape(rows)[0])
            m, v = tf.split(tf.gather(moments, rows), 2, axis=1)
            m = m + (g - m) * (1.0 - b1)
            v = v + (tf.square(g) - v) * (1.0 - b2)
            moments.scatter_update(tf.IndexedSlices(tf.concat([m, v], axis=1), rows))
            deltas = tf.split(m * alpha / (tf.sqrt(v) + eps), widths, axis=1)
            for k, delta in zip(members, deltas):
                self.variables[k].value.scatter_sub(tf.IndexedSlices(delta, rows))
        for k, m, v in self.dense:  # the fused kernel of the same rule
            tf.raw_ops.ResourceApplyAdam(
                var=self.variables[k].value.handle,
                m=m.handle,
                v=v.handle,
                beta1_power=b1_power,
                beta2_power=b2_power,
                lr=tf.constant(self.learning_rate, tf.float32),
                beta1=tf.constant(b1, tf.float32),
                beta2=tf.constant(b2, tf.float32),
                epsilon=tf.constant(eps, tf.float32),
                grad=grads[k],
            )
        self.iterations.assign_add(1)

    def _run_batches(self, users: tf.Tensor, items: tf.Tensor, labels: tf.Tensor):
        """Train on each row of (n_batches, batch) arrays; return the summed loss and hits."""
        loss_sum = tf.constant(0.0)
        hits = tf.constant(0.0)
        for k in tf.range(tf.shape(users)[0]):
            x = [tf.expand_dims(users[k], 1), tf.expand_dims(items[k], 1)]
            y = tf.expand_dims(labels[k], 1)
            with tf.GradientTape() as tape:
                pred = self.model(x, training=True)
                loss = self.model.compute_loss(x=x, y=y, y_pred=pred, training=True)
            self._apply(tape.gradient(loss, self.variables))
            size = tf.cast(tf.shape(y)[0], tf.float32)
            loss_sum += loss * size
            hits += tf.reduce_sum(tf.cast(tf.equal(tf.cast(pred > 0.5, tf.float32), y), tf.float32))
        return loss_sum, hits

    def fit_arrays(
        self,
        users: np.ndarray,
        items: np.ndarray,
        labels: np.ndarray,
        batch_size: int = 256,
        chunk: int | None = None,
        bar: tqdm | None = None,
    ) -> tuple[float, float]:
        """One pass over the samples in the given order; returns (mean loss, accuracy)."""
        n = len(labels)
        if n == 0:
            return float("nan"), float("nan")
        chunk = chunk or max(1, 65536 // batch_size)
        full = n // batch_size * batch_size
        loss_sum = hits = 0.0
        pieces = [(s, min(s + chunk * batch_size, full), batch_size) for s in range(0, full, chunk * batch_size)]
        if full < n:
            pieces.append((full, n, n - full))
        for start, stop, width in pieces:
            shape = (-1, width)
            out = self._run(
                users[start:stop].reshape(shape).astype(np.int32, copy=False),
                items[start:stop].reshape(shape).astype(np.int32, copy=False),
                labels[start:stop].reshape(shape).astype(np.float32, copy=False),
            )
            loss_sum += float(out[0])
            hits += float(out[1])
            if bar is not None:
                bar.update(stop - start)
                bar.set_postfix(loss=f"{loss_sum / stop:.4f}", accuracy=f"{hits / stop:.4f}")
        return loss_sum / n, hits / n


def sample_rows(matrix: sp.csr_matrix, n: int | None, rng: np.random.Generator) -> tuple[sp.csr_matrix, int]:
    """The utility matrix with only ``n`` random non-empty rows kept (all for None), and their number."""
    filled = np.flatnonzero(matrix.getnnz(axis=1))
    if n is None or n >= len(filled):
        return matrix, int(len(filled))
    if n < 1:
        raise MPDInputError(f"sample_playlists must be at least 1, got {n}", field="sample_playlists")
    keep = np.zeros(matrix.shape[0], np.float32)
    keep[rng.choice(filled, size=n, replace=False)] = 1.0
    sampled = (sp.diags(keep) @ matrix).tocsr()
    sampled.eliminate_zeros()
    return sampled, n


def train(matrix: sp.csr_matrix, config: NeuMFConfig | None = None, progress: bool = True) -> tuple[keras.Model, dict]:
    """Build and train NeuMF on a utility matrix; returns the model and per-epoch history.

    Shown in the book: 02_neumf.
    """
    config = config or NeuMFConfig()
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(
        matrix.shape[0],
        matrix.shape[1],
        config.latent_dim,
        config.dense_layers,
        config.reg_layers,
        config.reg_mf,
        seed=config.seed,
        learning_rate=config.learning_rate,
    )
    trainer = Trainer(model, config.learning_rate)
    rng = np.random.default_rng(config.seed)
    matrix, history_rows = sample_rows(matrix, config.sample_playlists, rng)
    history: dict = {"loss": [], "accuracy": [], "seconds": [], "samples": [], "trained_playlists": history_rows}
    for epoch in range(config.epochs):
        start = time.perf_counter()
        users, items, labels = sample_negatives(matrix, config.n_negatives, rng)
        order = rng.permutation(len(labels))
        with tqdm(
            total=len(labels),
            desc=f"epoch {epoch + 1}/{config.epochs}",
            unit="sample",
            unit_scale=True,
            disable=not progress,
        ) as bar:
            loss, accuracy = trainer.fit_arrays(users[order], items[order], labels[order], config.batch_size, bar=bar)
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
        history["seconds"].append(time.perf_counter() - start)
        history["samples"].append(len(labels))
    history["config"] = dataclasses.asdict(config)
    history["config"]["dense_layers"] = list(config.dense_layers)
    history["config"]["reg_layers"] = list(config.reg_layers)
    return model, history


# --------------------------------------------------------------------------- scoring


def embeddings(model: keras.Model) -> dict[str, np.ndarray]:
    """The four embedding tables: mf_user, mf_item, mlp_user, mlp_item (numpy arrays)."""
    return {key: model.get_layer(name).embeddings.numpy() for key, name in EMBEDDING_NAMES.items()}


def _rows(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rows of a table (``np.take``: several times faster than fancy indexing here)."""
    return np.take(table, index, axis=0)


class Scorer:
    """The NeuMF forward pass in numpy on a snapshot of a model's weights.

    With ``project=True`` (the default) the first MLP layer's product is computed once per
    playlist and once per track (its input is the concatenation of the two embeddings, so it
    splits into a playlist part and a track part); each pair then only adds the two. That removes
    the largest matrix product per pair (about 1.5x faster per pair at the write-up's size) and
    pays off once a scorer serves more pairs than there are playlists and tracks.
    """

    def __init__(self, model: keras.Model, project: bool = True):
        self.tables = embeddings(model)
        self.dense = []
        k = 1
        while any(layer.name == f"layer{k}" for layer in model.layers):
            self.dense.append(tuple(model.get_layer(f"layer{k}").get_weights()))
            k += 1
        self.out_kernel, self.out_bias = model.get_layer("result").get_weights()
        self.projections = None
        if project and self.dense:
            kernel, bias = self.dense[0]
            split = self.tables["mlp_user"].shape[1]
            self.projections = (
                self.tables["mlp_user"] @ kernel[:split] + bias,
                self.tables["mlp_item"] @ kernel[split:],
            )

    def _first_layer(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """The MLP vector after the first ReLU layer (or the bare concatenation without one)."""
        t = self.tables
        if self.projections is not None:
            h = _rows(self.projections[0], u) + _rows(self.projections[1], i)
        elif self.dense:
            kernel, bias = self.dense[0]
            split = t["mlp_user"].shape[1]
            h = _rows(t["mlp_user"], u) @ kernel[:split]
            h += _rows(t["mlp_item"], i) @ kernel[split:]
            h += bias
        else:
            return np.concatenate([_rows(t["mlp_user"], u), _rows(t["mlp_item"], i)], axis=1)
        return np.maximum(h, 0.0, out=h)

    def __call__(self, users: np.ndarray, items: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """P(item in playlist) for each (user, item) pair, as float32."""
        users = np.asarray(users).reshape(-1)
        items = np.asarray(items).reshape(-1)
        if users.shape != items.shape:
            raise MPDInputError("users and items must have the same length", field="items")
        for name, index in (("users", users), ("items", items)):
            rows = self.tables["mf_user" if name == "users" else "mf_item"].shape[0]
            if index.size and (index.min() < 0 or index.max() >= rows):
                raise MPDInputError(f"{name} must lie in 0..{rows - 1}", field=name)
        out = np.empty(users.size, np.float32)
        mf_width = self.tables["mf_user"].shape[1]
        for s in range(0, users.size, batch_size):
            u, i = users[s : s + batch_size], items[s : s + batch_size]
            h = self._first_layer(u, i)
            for kernel, bias in self.dense[1:]:
                h = h @ kernel
                h += bias
                np.maximum(h, 0.0, out=h)
            mf = _rows(self.tables["mf_user"], u) * _rows(self.tables["mf_item"], i)
            z = mf @ self.out_kernel[:mf_width] + h @ self.out_kernel[mf_width:]
            out[s : s + batch_size] = 1.0 / (1.0 + np.exp(-(z[:, 0] + self.out_bias[0])))
        return out


def score(model: keras.Model, users: np.ndarray, items: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Predicted probabilities for (playlist, track) pairs, computed in large numpy batches."""
    n_rows = sum(model.get_layer(name).input_dim for name in ("mlp_user_embedding", "mlp_item_embedding"))
    project = np.size(users) >= n_rows  # projecting every row costs about that many pairs
    return Scorer(model, project=project)(users, items, batch_size)


# --------------------------------------------------------------------------- files


def save(model: keras.Model, history: dict, workdir: str | Path) -> dict[str, Path]:
    """Write neumf.keras, the embeddings (.npz) and the history (.json) into ``workdir``."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    paths = {"model": workdir / MODEL_FILE, "embeddings": workdir / EMBEDDINGS_FILE, "history": workdir / HISTORY_FILE}
    files.write_with(paths["model"], model.save, suffix=".keras")
    tables = embeddings(model)
    files.write_files(
        [
            (paths["embeddings"], lambda handle: np.savez(handle, **tables)),
            (paths["history"], lambda handle: handle.write(json.dumps(history, indent=2, default=float).encode())),
        ]
    )
    return paths


def load(workdir: str | Path) -> tuple[keras.Model, dict]:
    """The model and history that ``save`` wrote into ``workdir``."""
    workdir = Path(workdir)
    # The training step keeps its own optimiser state, so the file holds no Adam moments;
    # loading uncompiled and compiling afresh avoids Keras' warning about the mismatch.
    model = keras.models.load_model(workdir / MODEL_FILE, compile=False)
    history = json.loads((workdir / HISTORY_FILE).read_text())
    rate = history.get("config", {}).get("learning_rate", NeuMFConfig.learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss="binary_crossentropy", metrics=["accuracy"])
    return model, history


def load_embeddings(workdir: str | Path) -> dict[str, np.ndarray]:
    """The embedding tables that ``save`` wrote, without loading TensorFlow's model."""
    with np.load(Path(workdir) / EMBEDDINGS_FILE) as data:
        return {key: data[key] for key in data.files}
