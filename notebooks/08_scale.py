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
# chapters' own code: read the slices and the challenge set, fit the neighbour blend of
# {doc}`/book/generated/07_beyond` (item-kNN, playlist-kNN, the title model for playlists with one seed or
# none), recommend 500 tracks for each challenge playlist, write the submission and verify
# it by the challenge's rules. NeuMF is not part of it: {doc}`/book/generated/02_neumf` gives what training it
# on the whole MPD costs.
#
# The data is the embedded generator's at several sizes, from 10 slices to the full 1,000
# (the tables below list the sizes measured), each with a challenge set built by the
# official recipe (1,000 playlists per category from 50 slices on, 100 below). At 1,000
# slices the generator's catalogue is calibrated to the MPD's own counts (see the last
# table). The figures below were measured by
#
# ```bash
# .venv/bin/python benchmarks/bench_scale.py --slices 10 100 1000 --out book/scale_costs.csv
# ```
#
# on a machine of 2 cores and 24 GB: each size runs in a fresh process, and each stage
# reports its wall time and its peak resident memory (with that of the processes it
# started). Other work shared the two cores while they ran, so the times are upper
# bounds; the memory is each process's own.

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

# %% [markdown]
# ## What each stage costs
#
# Seconds and peak memory (GiB) of each stage, by number of slices. `synth` (writing the
# synthetic slices) and `challenge` (building a challenge set from them) only make the
# test data; a reader with the real MPD and the official challenge set starts at `load`.

# %% tags=["hide-input"]
if costs is not None:
    wide = costs.pivot_table(index="slices", columns="stage", values=["seconds", "peak_gib"], sort=False)
    display(plots.readable(wide, 1))

# %% [markdown]
# On logarithmic axes a cost that grows in proportion to the data is a line of slope 1.
# The dotted line is that slope, through the job's cost at the smallest size.

# %% tags=["hide-input"]
if costs is not None:
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 8), sharex=True, layout="constrained")
    for stage, line in costs.groupby("stage", sort=False):
        for ax, value in zip(axes, ["seconds", "peak_gib"]):
            ax.plot(line["playlists"], line[value], marker="o", label=stage)
    job = costs[costs["stage"].isin(JOB)].groupby("playlists")
    end_to_end = pd.DataFrame({"seconds": job["seconds"].sum(), "peak_gib": job["peak_gib"].max()})
    axes[0].plot(end_to_end.index, end_to_end["seconds"], "k-", lw=2.5, label="the job (load to verify)")
    sizes = end_to_end.index.to_numpy()
    axes[0].plot(sizes, end_to_end["seconds"].iloc[0] * sizes / sizes[0], "k:", label="proportional")
    axes[0].axhline(3600, color="grey", ls="--", lw=1)
    axes[1].axhline(16, color="grey", ls="--", lw=1)
    axes[0].set(ylabel="wall time (s); dashed: 1 hour")
    axes[1].set(ylabel="peak memory (GiB); dashed: 16 GiB", xlabel="playlists")
    for ax in axes:
        ax.set(xscale="log", yscale="log")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=3)
    plt.show()

# %% [markdown]
# The job from the slices to a verified submission, what dominates it, and its grade on
# the held-out tracks:

# %% tags=["hide-input"]
if costs is not None:
    job = costs[costs["stage"].isin(JOB)]
    summary = job.groupby("slices").agg(playlists=("playlists", "first"), seconds=("seconds", "sum"),
                                        peak_gib=("peak_gib", "max"))
    longest = job.loc[job.groupby("slices")["seconds"].idxmax()].set_index("slices")
    summary["longest stage"] = longest["stage"] + " (" + (longest["seconds"] / summary["seconds"] * 100) \
        .round(0).astype(int).astype(str) + " %)"
    grades = costs.groupby("slices")[["challenge", "r_precision", "ndcg", "clicks"]].first()
    display(plots.readable(summary.join(grades), {"seconds": 0, "peak_gib": 2, "r_precision": 4, "ndcg": 4,
                                                   "clicks": 2}))

# %% [markdown]
# What the table says, read from it (the grades are means over other challenge playlists at
# each size, with no interval, so a move of a few thousandths says nothing; the times of
# the stages that handle only the challenge playlists, whose number is the same from 100
# slices on, should not grow at all):

# %% tags=["hide-input"]
if costs is not None:
    for line in scale.findings(costs, JOB):
        print(line)

# %% [markdown]
# ## How it stays within one machine
#
# Nothing in the job holds a dense array of playlists by tracks, or of playlists by
# playlists.
#
# * **Loading** ({doc}`01_representation`) keeps an entry as three integers; each track's
#   URI and names are kept once, in the track table. Two processes read and check the
#   slices; the main one only numbers the tracks.
# * **Playlist-kNN** takes, for a batch of 200 challenge playlists, the sparse product of
#   their seeds with the training playlists, and keeps each row's 150 best.
# * **Item-kNN** computes its scores as two sparse products through the training
#   playlists that hold a seed. A popular track is in tens of thousands of them at the full
#   scale, and its cost would grow with the data. So a seed reaches at most `reach` = 1,000
#   of its playlists, drawn once at random, each weighted to stand for the ones left out:
#   the similarity stays an unbiased estimate, and a playlist's cost is bounded however
#   large the data. At 10 slices no track is in more than 1,000 training playlists, so the
#   book's chapters are unchanged by it.
#
# ```{literalinclude} /mpd_helpers/data/matrix.py
# :pyobject: sample_per_row
# :caption: mpd_helpers/data/matrix.py
# ```
#
# The job itself, as the `recommend` command runs it:
#
# ```{literalinclude} /mpd_helpers/pipeline.py
# :pyobject: recommend_all
# :caption: mpd_helpers/pipeline.py
# ```
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
# .venv/bin/python -m mpd_helpers recommend MPD_DIR challenge_set.json --method blend --out submission.csv
# ```
#
# prints each stage's time and peak memory as above and writes `submission.csv` (and a
# gzipped copy) for the challenge's site. With a challenge set built locally
# (`python -m mpd_helpers challenge MPD_DIR OUT --per-category 1000`), `--truth
# OUT/challenge_truth.json` grades it too. `--method two-stage` runs the best
# pipeline of {doc}`/book/generated/07_beyond` instead; its iALS and its ranker cost more than the blend, and were not
# measured at this size.
