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
# # The embedded data
#
# The Million Playlist Dataset needs a registration and is 33 GB of JSON, and the
# challenge's hidden tracks were never published. So this book runs, by default, on data it
# makes itself: a synthetic MPD written by `mpd_helpers.data.synthetic` in the dataset's exact
# file format, and a challenge set cut from it by `mpd_helpers.data.challenge_set` with the official
# recipe, whose hidden tracks let every chapter grade itself. A reader with the real MPD
# points the same notebooks at it; nothing else changes.
#
# This page says how the data is made and how its statistics compare with the full MPD's,
# so that a reader knows what the synthetic numbers can and cannot say.

# %% tags=["parameters"]
n_slices = 10  # slices of 1,000 playlists
per_category = 100  # challenge playlists per category (1,000 is the official size)
seed = 0

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mpd_helpers import plots
from mpd_helpers.data import challenge_set, dataset, embedded, slices, stats

pd.set_option("display.width", 140, "display.max_colwidth", 40)
paths = embedded.ensure(n_slices=n_slices, per_category=per_category, seed=seed, progress=False)

# %% [markdown]
# ## How it is generated
#
# The generator draws a catalogue first and playlists second.
#
# * **Catalogue.** 24 genres (country, chill, rap, workout, oldies, christmas, ...), each
#   with 12 *scenes*; artists belong to one scene; each artist has a few albums of a few
#   tracks. Artist popularity is Zipf-like within a genre, and so is track popularity within
#   an artist (a few hits, many album tracks). The catalogue grows with the number of
#   playlists asked for, so that the distinct tracks, albums and artists the playlists use
#   follow the MPD's counts at its full size (the appendix {doc}`08_scale` shows them side
#   by side).
# * **Playlists.** A length is drawn from a log-normal fitted to the MPD's (mode near 20,
#   mean near 66, 5 to 250 tracks). A playlist mixes one to three genres, each through one
#   scene, and its mixture drifts from the first track to the last. Each pick is an artist
#   (from the playlist's scene, or from the whole genre) and one of that artist's tracks;
#   about a third of the picks start a run of 2-6 consecutive tracks of one album. So the
#   *first* tracks of a playlist say more about its next tracks than about its last ones,
#   as in the real data, and "first N" seeds differ from "random N" seeds.
# * **Slices.** Each slice of 1,000 playlists is drawn from a random stream of its own,
#   derived from the seed and the slice's number. Slices are drawn by several processes at
#   once, and come out the same whatever their number.
# * **Everything else.** Titles follow the leading genre, drawn with the MPD's top-title
#   frequencies and its case, emoji and spelling noise ("Country", "country 🤠", "coutry"),
#   plus generic titles ("jams", "vibes") and one-off ones; followers are Zipf-distributed
#   (three quarters have one); edits grow with length; modification days cluster in the
#   weeks before the snapshot of November 2017; 1.9 % of playlists have a description.
#
# Every playlist passes every rule of the dataset's checker (5-250 tracks, at least three
# artists and two albums, consistent counts and durations, one name per URI, 22-character
# base-62 URIs, ...), which the test suite verifies.
#
# The heart of it draws the tracks of many playlists at once, as whole arrays: each pick's
# genre from the playlist's drifting mixture, an artist and a track, the album runs, and
# each track kept once where it first comes:
#
# ```{literalinclude} /mpd_helpers/data/synthetic.py
# :pyobject: _draw_playlists
# :caption: mpd_helpers/data/synthetic.py
# ```

# %%
part = slices.read_slices(paths.mpd_dir, progress=False)
figures = stats.compute(part)
reference = stats.read_reference()
plots.readable(stats.against_reference(figures, reference))

# %% [markdown]
# Counts of distinct things (tracks, albums, artists, titles) do not scale linearly with
# the number of playlists: a sample of 10,000 real playlists has far more distinct tracks
# per entry than the whole MPD. The figure to match at this scale is the write-up's own
# sample: 189,583 distinct tracks in 945,712 entries (0.200 per entry).
#
# The most common titles, normalised as the statistics program does, side by side with the
# full MPD's (scaled to 10,000 playlists):

# %%
scale = figures["number of playlists"] / reference["number of playlists"]
titles = pd.DataFrame({
    "title (this data)": figures["top playlist titles"].index[:12],
    "playlists": figures["top playlist titles"].to_numpy()[:12],
    "title (MPD)": reference["top playlist titles"].index[:12],
    "MPD scaled": (reference["top playlist titles"].to_numpy()[:12] * scale).round(0).astype(int),
})
titles

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.2))
for ax, key, label in zip(axes, ["num followers histogram", "numedits histogram"], ["followers", "editing sessions"]):
    ours = figures[key].reindex(range(1, 16), fill_value=0)
    ref = reference[key].reindex([str(i) for i in ours.index]).fillna(0) * scale  # the MPD lists its top 20 only
    x = np.arange(len(ours))
    ax.bar(x - 0.2, ours.to_numpy(), width=0.4, label="this data")
    ax.bar(x + 0.2, ref.to_numpy(), width=0.4, color="black", alpha=0.6, label="full MPD (scaled)")
    ax.set_xticks(x, [str(i) for i in ours.index])
    ax.set(title=label, ylabel="playlists")
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The challenge set
#
# `mpd_helpers.data.recipe.build` applies the recipe of the official challenge set: ten
# categories of playlists, each with a given number of seed tracks (none, the first 1, 5,
# 10, 25 or 100, or 25 or 100 at random positions), with or without the title, within a
# range of lengths. Its playlists are removed from the training data, and every hidden
# track must still occur in what remains, so a recommender can in principle find it. At
# this small scale long playlists whose every hidden track occurs elsewhere are rare (the
# long tail again), so the builder takes the best-covered ones down to 90 % coverage and
# says so:

# %%
challenge = challenge_set.read(paths.challenge_path, paths.truth_path)
truth = challenge.truth.tracks
ds = dataset.load(paths.mpd_dir, challenge, progress=False)
train_tracks = set(ds.entries.loc[~ds.entries["pid"].isin(ds.challenge_rows), "trackid"])
truth["covered"] = truth["track_uri"].isin(train_tracks)
table = challenge_set.categories_frame()[["label", "min_tracks", "max_tracks"]]
per_pl = truth.groupby(["category", "pid"])["covered"].mean()
table["playlists"] = per_pl.groupby("category").size()
table["held-out tracks"] = truth.groupby("category").size()
table["covered in training"] = per_pl.groupby("category").mean().round(3)
table
