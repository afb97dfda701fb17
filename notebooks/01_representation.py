# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1 Representing the information
#
# The write-up begins by reading the dataset's JSON slices and the challenge set into
# pandas, flattening them into one row per playlist-track entry, numbering the tracks, and
# arranging everything as a playlist x track *utility matrix*. This chapter does the same,
# with the logic in `mpd_helpers.data.dataset` and `mpd_helpers.data.matrix`.
#
# By default it runs on the embedded synthetic MPD (10 slices, 10,000 playlists, and a
# 1,000-playlist challenge set built from them by the official recipe; see the previous
# chapter). To run it on the real dataset, pass `-p data_dir /path/to/mpd/data` and
# `-p challenge_path /path/to/challenge_set.json` to papermill (or `make book DATA_DIR=...`).
#
# | the write-up's step | here | what changed, and why |
# |---|---|---|
# | read ten slices with `json.load` and `json_normalize`, `concat` them | `slices.read_slices` | every field pulled out as a whole typed column and checked; bad input named by file, playlist and field |
# | read `challenge_set.json`; drop the playlists without tracks | `challenge_set.read`, `dataset.load` | title-only playlists are kept and served from their titles ({doc}`/book/generated/04_application`) |
# | renumber the challenge pids after the training ones (`9000 + i`) | `dataset.load` | the same idea: one dense range of rows, training first; the original pid is kept for the submission |
# | `iterrows` over playlists to build `song_playlist_df` | `Dataset.entries` | one row per entry, built from whole arrays, no Python loop |
# | `astype('category').cat.codes` numbers the tracks | `Dataset.tracks`, `track_index` | the same numbering (sorted URIs); names kept once per track |
# | the utility matrix {eq}`eq-utility` | `matrix.utility_matrix` | stored sparse (CSR), never as a dense array |

# %% tags=["parameters"]
data_dir = None  # a directory of mpd.slice.*.json files; None: the embedded synthetic MPD
challenge_path = None  # challenge_set.json; None: the one built with the embedded data
truth_path = None  # held-out tracks of a built challenge set (None with the official one)
work_dir = "../work"  # where the chapters hand their results to each other
n_slices = 10  # size of the embedded data, in slices of 1,000 playlists
per_category = 100  # embedded challenge playlists per category
seed = 0

# %% tags=["hide-input"]
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mpd_helpers import plots
from mpd_helpers.data import challenge_set, dataset, embedded, matrix, slices, stats

pd.set_option("display.max_columns", 12, "display.width", 140, "display.max_colwidth", 40)
if data_dir is None:
    paths = embedded.ensure(n_slices=n_slices, per_category=per_category, seed=seed, progress=False)
    data_dir, challenge_path, truth_path = paths.mpd_dir, paths.challenge_path, paths.truth_path
work = Path(work_dir)
work.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1.1 Importing the data
#
# The MPD comes as 1,000 files `mpd.slice.<first>-<last>.json` of 1,000 playlists each.
# The write-up read its first ten with `json.load` and `pandas.json_normalize` (11.3 s on
# its machine) and kept the tracks nested inside each row. `slices.read_slices` parses
# each file once, pulls every field out as a whole column, checks its type, and checks
# every playlist's counts against its own track list, on two processes at once.

# %%
start = time.perf_counter()
train = slices.read_slices(data_dir, progress=False)
print(f"read {len(train.playlists):,} playlists and {len(train.entries):,} entries; took {time.perf_counter() - start:.1f} s")

# %%
train.playlists.drop(columns=["file", "n_entries"]).head(10)

# %% [markdown]
# Each playlist carries its title, whether it is collaborative, its pid, the last
# modification day (seconds since the epoch, rounded to midnight GMT), its numbers of
# tracks, albums, artists, followers and editing sessions, its total duration and, rarely,
# a description. The challenge set has a leaner form: `pid`, an optional `name`,
# `num_samples` seed tracks given, `num_holdouts` tracks hidden, `num_tracks` in all.

# %%
challenge = challenge_set.read(challenge_path).part
challenge.playlists.drop(columns=["file", "n_entries"]).iloc[::100]

# %% [markdown]
# Some challenge playlists come with no track at all, only a title: the write-up dropped
# them (it served 9,000 of the 10,000). We keep them; the application chapter serves them
# from their titles.
#
# When the embedded challenge set was built, its playlists were taken *out* of the training
# slices, exactly as Spotify took the official ones out of the MPD; `dataset.load` reads
# that list (`truth_path`) and leaves them out, then appends the challenge playlists.

# %%
ds = dataset.load(data_dir, challenge_set.read(challenge_path, truth_path), progress=False)
counts = ds.playlists.groupby("is_challenge").agg(playlists=("mpd_pid", "size"), seed_tracks=("num_samples", "sum"))
counts.index = counts.index.map({False: "training", True: "challenge"})
plots.readable(counts)

# %% [markdown]
# ## 1.2 Understanding the form of the dataset
#
# The challenge pids start at 1,000,000, so playlists are renumbered into one dense range
# `0 .. n-1`: training playlists first, challenge playlists after them. The write-up did the
# same (its challenge playlists became 9,000 onwards) so that a pid can index a row of the
# utility matrix and of an embedding table. `playlists.mpd_pid` keeps the original pid for
# the submission file.

# %%
ds.playlists.loc[ds.challenge_rows[:5]]

# %% [markdown]
# The tracks, nested inside each playlist in the JSON, become one row per playlist-track
# entry: the write-up's `song_playlist_df`. Every distinct track URI gets a dense integer
# `track_index`: its position among the sorted URIs, which is what the write-up's
# `astype('category').cat.codes` gives.

# %%
print(ds.entries.shape)
ds.entries.head(10)

# %%
print(f"{ds.n_tracks:,} distinct tracks in {len(ds.entries):,} entries "
      f"({ds.n_tracks / len(ds.entries):.3f} per entry; the write-up's sample: 189,583 in 945,712, "
      f"{189_583 / 945_712:.3f})")

# %% [markdown]
# The track table keeps each track's names and URIs once, indexed by `track_index`.

# %%
ds.tracks.head()

# %% [markdown]
# The entries' names look like strings, but they are categorical columns: each distinct
# name is stored once, and an entry holds only integer codes. The full MPD has 66.3 M
# entries; with their strings repeated, this frame alone would take many gigabytes (below,
# scaled to that size by the number of entries). The slices are read this way from the start: each reading process checks its slice and
# sends back its entries as integers and its distinct tracks once, and no frame of
# per-entry strings is ever built.
#
# ```{literalinclude} /mpd_helpers/data/slices.py
# :pyobject: read_lean
# :caption: mpd_helpers/data/slices.py
# ```

# %%
as_strings = ds.entries.astype({c: object for c in ["trackid", "artist_name", "track_name"]})
for label, frame in (("as stored", ds.entries), ("with a string per entry", as_strings)):
    size = frame.memory_usage(deep=True).sum()
    print(f"entries {label}: {size / 2**20:.1f} MiB here, {size * 66.3e6 / len(frame) / 2**30:.1f} GiB "
          f"at the full MPD's 66.3 M entries")

# %% [markdown]
# ## 1.3 The utility matrix
#
# Call playlists *users* and tracks *items*. The utility matrix $M$ has one row per playlist
# and one column per track, with $M_{ij} = 1$ when track $j$ is in playlist $i$ and 0
# otherwise. The write-up's example has three playlists and five tracks:
#
# $$
# M = \begin{pmatrix} 1 & 0 & 0 & 1 & 0 \\ 0 & 1 & 0 & 1 & 0 \\ 1 & 1 & 0 & 0 & 1 \end{pmatrix}
# $$ (eq-utility)
#
# so $P_1 = \{T_1, T_4\}$, $P_2 = \{T_2, T_4\}$ and $P_3 = \{T_1, T_2, T_5\}$.
# Collaborative filtering reads similarity off the shared ones: $P_1$ and $P_2$ share $T_4$,
# so $T_2$ is a candidate for $P_1$ and $T_1$ for $P_2$. In matrix terms, $M M^\top$ counts
# the tracks two playlists share, and $(M M^\top) M$ scores every track for every playlist
# by how often it occurs in similar playlists:

# %%
M = np.array([[1, 0, 0, 1, 0], [0, 1, 0, 1, 0], [1, 1, 0, 0, 1]])
names = dict(index=["P1", "P2", "P3"], columns=["T1", "T2", "T3", "T4", "T5"])
shared = M @ M.T
np.fill_diagonal(shared, 0)
scores = pd.DataFrame(np.where(M == 1, np.nan, shared @ M), **names)  # known entries left out
scores

# %% [markdown]
# $P_1$'s best new track is $T_2$ (through $P_2$ and $P_3$), then $T_5$ (through $P_3$);
# $T_3$, in no playlist, scores nothing. Matrix factorisation learns the same thing by
# another road: it writes $M \approx P Q^\top$ with a short vector $\mathbf{p}_u$ per
# playlist and $\mathbf{q}_i$ per track, and predicts
#
# $$\hat{y}_{ui} = \mathbf{p}_u^\top \mathbf{q}_i = \sum_{k=1}^{K} p_{uk} q_{ik}.$$ (eq-mf)
#
# A rank-2 factorisation of the example (truncated SVD) already fills the zeros with
# graded guesses, as {eq}`eq-mf` predicts them:

# %%
U, s, Vt = np.linalg.svd(M.astype(float), full_matrices=False)
approx = (U[:, :2] * s[:2]) @ Vt[:2]
pd.DataFrame(approx.round(2), **names)

# %% [markdown]
# The next chapter replaces the inner product with NeuMF, which learns both a generalised
# matrix factorisation and a multi-layer perceptron over playlist and track embeddings.
#
# The real utility matrix is large and almost empty, so it is stored sparse (CSR: only the
# ones are kept). This is the whole of it:
#
# ```{literalinclude} /mpd_helpers/data/matrix.py
# :pyobject: utility_matrix
# :caption: mpd_helpers/data/matrix.py
# ```

# %%
M_full = matrix.utility_matrix(ds.entries, ds.n_playlists, ds.n_tracks)
print(f"shape {M_full.shape[0]:,} x {M_full.shape[1]:,}, {M_full.nnz:,} ones, sparsity {matrix.sparsity(M_full):.5f}")
print(f"dense it would take {M_full.shape[0] * M_full.shape[1] * 4 / 2**30:.1f} GiB; "
      f"sparse it takes {(M_full.data.nbytes + M_full.indices.nbytes + M_full.indptr.nbytes) / 2**20:.1f} MiB")

# %% [markdown]
# Two shapes matter to a recommender: how long playlists are, and how unevenly tracks
# are used. The full MPD's statistics program reports the twenty most common playlist
# lengths and the play counts of its twenty most popular tracks; scaled to this data's
# size they sit beside ours.

# %% tags=["hide-input"]
reference = stats.read_reference()
scale = ds.playlists["is_challenge"].eq(False).sum() / reference["number of playlists"]
train_pl = ds.playlists[~ds.playlists["is_challenge"]]
pop = np.sort(matrix.popularity(M_full[: len(train_pl)]))[::-1]
pop = pop[pop > 0]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.5, 3.6))
ax1.hist(train_pl["num_tracks"], bins=np.arange(0, 255, 5), color="tab:blue", alpha=0.7, label="this data")
ref_len = reference["playlist length histogram"]
ax1.scatter(ref_len.index.astype(int), ref_len.to_numpy() * scale * 5, color="black", s=12,
            label="MPD, top 20 (scaled)")
ax1.set(xlabel="tracks in playlist", ylabel="playlists per 5-track bin", title="Playlist length")
ax1.legend()
ax2.loglog(np.arange(1, len(pop) + 1), pop, label="this data")
ref_top = reference["top tracks"].to_numpy() * scale
ax2.loglog(np.arange(1, len(ref_top) + 1), ref_top, "k.", label="MPD, top 20 (scaled)")
ax2.set(xlabel="track rank", ylabel="playlists with the track", title="Track popularity")
ax2.legend()
plt.tight_layout()
plt.show()

# %%
print(f"mean length {train_pl['num_tracks'].mean():.1f} (full MPD 66.3); "
      f"tracks in one playlist only: {(pop == 1).mean():.1%}; "
      f"the top 1% of tracks hold {pop[: len(pop) // 100].sum() / pop.sum():.1%} of entries")

# %% [markdown]
# The next chapters read these results from the work directory rather than from this
# notebook's memory, so any of them can be re-run alone.

# %%
dataset.save(ds, work / "dataset", mpd_dir=data_dir, challenge_path=challenge_path, truth_path=truth_path)
print(sorted(p.name for p in (work / "dataset").iterdir() if not p.name.startswith(".")))
