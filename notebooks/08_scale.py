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
# # Appendix: the whole MPD on one machine
#
# The write-up trained on 10,000 playlists, a hundredth of the MPD. This appendix measures
# what the main job costs as the data grows to the whole of it: 1,000 slices, 1,000,000
# playlists, 66 M entries. The job is the one the `recommend` command runs, with the
# chapters' own code: read the slices and the challenge set, fit a system, recommend 500
# tracks for each challenge playlist, write the submission and verify it by the
# challenge's rules. Two systems of {doc}`/book/generated/07_beyond` are measured: the
# neighbour blend (item-kNN, playlist-kNN, the title model for playlists with one seed or
# none) and the two-stage pipeline (a first stage of neighbours, iALS and titles, ordered
# by the learned ranker), the book's best. NeuMF is not part of either:
# {doc}`/book/generated/02_neumf` gives what training it on the whole MPD costs.
#
# The data is the embedded generator's at several sizes, from 10 slices to the full 1,000
# (the tables below list the sizes measured), each with a challenge set built by the
# official recipe (1,000 playlists per category from 50 slices on, 100 below). At 1,000
# slices the generator's catalogue is calibrated to the MPD's own counts (see the last
# table). The figures below were measured by
#
# ```bash
# .venv/bin/python benchmarks/bench_scale.py --slices 10 100 300 1000 --method blend --out book/scale_costs.csv
# .venv/bin/python benchmarks/bench_scale.py --slices 10 100 300 1000 --method two-stage --out book/scale_costs.csv
# ```
#
# on a machine of 2 cores and 24 GB: each size runs in a fresh process, and each stage
# reports its wall time and its peak resident memory (with that of the processes it
# started). Other work sometimes shared the two cores while they ran, so the times are
# upper bounds; the memory is each process's own.

# %% tags=["parameters"]
cost_table = "../book/scale_costs.csv"  # written by benchmarks/bench_scale.py

# %% tags=["hide-input"]
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from mpd_helpers import plots, scale
from mpd_helpers.data import stats

pd.set_option("display.width", 160)
JOB = ["load", "fit", "recommend", "write", "verify"]  # from the slices to a verified submission
costs = pd.read_csv(cost_table) if Path(cost_table).is_file() else None
if costs is None:
    print(f"{cost_table} is missing: benchmarks/bench_scale.py --out {cost_table} makes it.")
else:
    systems = list(dict.fromkeys(costs["method"]))
    print("systems measured: " + ", ".join(f"{m} at {', '.join(f'{n:,}' for n in sorted(part['slices'].unique()))} "
                                            "slices" for m, part in costs.groupby("method", sort=False)))

# %% [markdown]
# ## What each stage costs
#
# Seconds and peak memory (GiB) of each stage, by system and number of slices. `synth`
# (writing the synthetic slices) and `challenge` (building a challenge set from them) only
# make the test data, the same for both systems; a reader with the real MPD and the
# official challenge set starts at `load`.
#
# The two-stage rows are those of the pipeline that {doc}`/book/generated/07_beyond`
# grades, as `recommend` runs it by default: the first stage's 800, iALS's 500 and
# playlist-kNN's 200 best candidates of each playlist, ordered by a ranker of 400 trees over
# all seven groups of features.

# %% tags=["hide-input"]
if costs is not None:
    wide = costs.pivot_table(index=["method", "slices"], columns="stage", values=["seconds", "peak_gib"], sort=False)
    display(plots.readable(wide, 1))

# %% [markdown]
# On logarithmic axes a cost that grows in proportion to the data is a line of slope 1.
# Each stage has its colour; solid lines are the two-stage pipeline, dashed ones the blend;
# the thick lines are the whole job.

# %% tags=["hide-input"]
if costs is not None:
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 8.5), sharex=True, layout="constrained")
    colours = {stage: f"C{i}" for i, stage in enumerate(dict.fromkeys(costs["stage"]))}
    styles = {"two-stage": "-", "blend": "--"}
    for (method, stage), line in costs.groupby(["method", "stage"], sort=False):
        for ax, value in zip(axes, ["seconds", "peak_gib"]):
            ax.plot(line["playlists"], line[value], styles.get(method, ":"), marker="o", ms=4, color=colours[stage],
                    label=stage if method == systems[0] else None)
    for method, part in costs.groupby("method", sort=False):
        job = part[part["stage"].isin(JOB)].groupby("playlists")
        axes[0].plot(job["seconds"].sum(), styles.get(method, ":"), color="k", lw=2.5, label=f"the job, {method}")
    axes[0].axhline(3600, color="grey", ls=":", lw=1)
    axes[1].axhline(16, color="grey", ls=":", lw=1)
    axes[0].set(ylabel="wall time (s); dotted: 1 hour")
    axes[1].set(ylabel="peak memory (GiB); dotted: 16 GiB", xlabel="training playlists")
    for ax in axes:
        ax.set(xscale="log", yscale="log")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=4)
    plt.show()

# %% [markdown]
# The job from the slices to a verified submission, what dominates it, and its grade on
# the held-out tracks:

# %% tags=["hide-input"]
if costs is not None:
    job = costs[costs["stage"].isin(JOB)]
    keys = ["method", "slices"]
    summary = job.groupby(keys, sort=False).agg(playlists=("playlists", "first"), seconds=("seconds", "sum"),
                                                peak_gib=("peak_gib", "max"))
    longest = job.loc[job.groupby(keys, sort=False)["seconds"].idxmax()].set_index(keys)
    summary["longest stage"] = longest["stage"] + " (" + (longest["seconds"] / summary["seconds"] * 100) \
        .round(0).astype(int).astype(str) + " %)"
    grades = costs.groupby(keys, sort=False)[["challenge", "r_precision", "ndcg", "clicks"]].first()
    display(plots.readable(summary.join(grades), {"seconds": 0, "peak_gib": 2, "r_precision": 4, "ndcg": 4,
                                                   "clicks": 2}))

# %% [markdown]
# What the table says, read from it, system by system (the grades are means over other
# challenge playlists at each size, with no interval, so a move of a few thousandths says
# nothing; the stages that handle only the challenge playlists are fitted per challenge
# playlist, whose number is the same from 100 slices on):

# %% tags=["hide-input"]
if costs is not None:
    for method, part in costs.groupby("method", sort=False):
        print(f"{method}:")
        for line in scale.findings(part, JOB):
            print(f"  {line}")
    both = costs.groupby(["slices", "method"])[["r_precision", "ndcg", "clicks"]].first().unstack("method")
    if {"blend", "two-stage"} <= set(systems):
        for slices, row in both.dropna().iterrows():
            r, n = (row[(m, "two-stage")] / row[(m, "blend")] for m in ["r_precision", "ndcg"])
            print(f"{slices:,} slices: two-stage against the blend, R-precision {r:.2f}x, NDCG {n:.2f}x, "
                  f"clicks {row[('clicks', 'two-stage')]:.2f} against {row[('clicks', 'blend')]:.2f}")

# %% [markdown]
# ## How it stays within one machine
#
# Nothing in either job holds a dense array of playlists by tracks, or of playlists by
# playlists, and no playlist costs more as the data grows.
#
# * **Loading** ({doc}`01_representation`) keeps an entry as three integers; each track's
#   URI and names are kept once, in the track table. Two processes read and check the
#   slices; the main one only numbers the tracks. The training rows of the utility matrix
#   are cut once and shared by every model.
# * **Playlist-kNN** takes, for a batch of 200 challenge playlists, the sparse product of
#   their seeds with the training playlists, and keeps each row's 150 best.
# * **Item-kNN** in the blend computes its scores as two sparse products through the
#   training playlists that hold a seed. A popular track is in tens of thousands of them
#   at the full scale, and its cost would grow with the data. So a seed reaches at most
#   `reach` = 1,000 of its playlists, drawn once at random, each weighted to stand for the
#   ones left out: the similarity stays an unbiased estimate, and a playlist's cost is
#   bounded however large the data. At 10 slices no track is in more than 1,000 training
#   playlists, so the book's chapters are unchanged by it.
# * **Item-kNN** in the two-stage pipeline goes further: each track's 100 most similar
#   tracks are computed once, in blocks of tracks whose products add up to a fixed budget,
#   on both cores. A playlist then costs its seeds times 100 products.
# * **iALS** runs on every core; each playlist's and track's factors are solved on their
#   own, so the factors are the same bits whatever the number of cores. A new playlist's
#   factors are solved from its seeds.
# * **The ranker** computes its features 200 playlists at a time, in the fit as in the
#   recommendations. Its sources are fitted once, on the training playlists with the
#   validation challenge's playlists cut to their seeds, whenever those are at most 5 % of
#   the training playlists ({doc}`/book/generated/07_beyond` measures what that costs when
#   they are a fifth).
#
# ```{literalinclude} /mpd_helpers/data/matrix.py
# :pyobject: sample_per_row
# :caption: mpd_helpers/data/matrix.py
# ```
#
# ```{literalinclude} /mpd_helpers/models/neighbours.py
# :pyobject: ItemKNN._most_similar
# :caption: mpd_helpers/models/neighbours.py
# ```
#
# iALS's seconds per iteration, as measured in each fit:

# %% tags=["hide-input"]
if costs is not None and "ials_seconds_per_iteration" in costs:
    per_iteration = costs.dropna(subset=["ials_seconds_per_iteration"]).groupby(["method", "slices"])[
        ["n_entries", "ials_seconds_per_iteration"]].first()
    display(plots.readable(per_iteration, {"ials_seconds_per_iteration": 1}))

# %% [markdown]
# The job itself, as the `recommend` command runs it:
#
# ```{literalinclude} /mpd_helpers/pipeline.py
# :pyobject: recommend_all
# :caption: mpd_helpers/pipeline.py
# ```
#
# ## Past one machine, on paper
#
# Each stage's time and memory, carried to 10 and 100 times the MPD by the exponents
# fitted above (the challenge's 10,000 playlists throughout). These are extrapolations of
# a straight line on log-log axes through the sizes measured, not measurements; a stage's
# memory is the whole process's peak while it runs, with what the earlier stages hold:

# %% tags=["hide-input"]
if costs is not None:
    for method, part in costs.groupby("method", sort=False):
        if part["slices"].nunique() < 2:
            continue
        ahead = scale.beyond(part, JOB)
        print(f"{method}: {scale.first_outgrown(ahead)}")
        display(plots.readable(ahead, {c: (2 if "exponent" in c else 0 if "seconds" in c else 1)
                                       for c in ahead.columns}))

# %% [markdown]
# Where one machine stops, existing engines take over, each for one stage, with nothing
# distributed written here:
#
# * **The factorisation.** Spark MLlib's ALS {cite:p}`spark2024als` fits the same
#   implicit-feedback model, with playlists and tracks partitioned into blocks across a
#   cluster.
# * **The neighbour lists and the playlist-kNN join.** Both are joins of the entries with
#   themselves on the track (then on the playlist), grouped and cut to the best per key: a
#   large-to-large join by shuffled partitions, as in Dask's DataFrame {cite:p}`dask2024joins`
#   or Spark SQL.
# * **The ranker.** LightGBM's own distributed training {cite:p}`lightgbm2024distributed`
#   (data-parallel for many rows and few features, as here), or its Dask interface.
# * **Loading and the recommendations** are embarrassingly parallel: slices and batches
#   of challenge playlists are independent.
#
# ## The data at the full MPD's size
#
# The generator's training playlists (the challenge playlists left out) against the full
# MPD's counts:

# %% tags=["hide-input"]
if costs is not None:
    mpd = stats.read_reference()
    data = costs.groupby("slices")[["n_playlists", "n_entries", "n_tracks", "n_albums", "n_artists"]].first()
    data.loc["the MPD"] = [mpd[f"number of {k}"] for k in ("playlists", "tracks", "unique tracks",
                                                            "unique albums", "unique artists")]
    data.columns = ["playlists", "entries", "distinct tracks", "albums", "artists"]
    data["tracks per entry"] = (data["distinct tracks"] / data["entries"]).round(3)
    display(plots.readable(data.astype({c: "int64" for c in data.columns[:-1]})))

# %% [markdown]
# ## Running it on the real MPD
#
# With the MPD's slices in `MPD_DIR` (the `data/` folder of the download) and the official
# challenge set:
#
# ```bash
# .venv/bin/python -m mpd_helpers recommend MPD_DIR challenge_set.json --out submission.csv
# ```
#
# runs the two-stage pipeline (`--method` picks another system), prints each stage's time
# and peak memory as above and writes `submission.csv` (and a gzipped copy) for the
# challenge's site. With a challenge set built locally (`python -m mpd_helpers challenge
# MPD_DIR OUT --per-category 1000`), `--truth OUT/challenge_truth.json` grades it too.
