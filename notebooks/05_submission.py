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
# # 4 Preparation for submission
#
# The challenge took a CSV file: a `team_info` line, then one line per challenge playlist
# with its pid and its 500 track URIs, uploaded gzipped. The write-up wrote its 4,000
# predictions with Python's `csv` module and submitted them. Here `mpd_helpers.grading.submission`
# writes the file (to a temporary file renamed into place, so a crash never leaves half a
# submission) and checks it against every rule of Spotify's verifier before anyone uploads
# it. The pids are the challenge set's own (1,000,000 onwards), not the dense row numbers
# used for training.
#
# | the write-up's step | here | what changed, and why |
# |---|---|---|
# | `csv.writer(f).writerows(final_list_to_csv)` | `submission.write` | the `team_info` line added, the challenge's own pids, written whole or not at all, gzipped beside it |
# | uploaded, and graded by Spotify | `submission.verify` | every rule of Spotify's verifier checked here first; the grade itself is {doc}`/book/generated/06_evaluation` |

# %% [markdown]
# The `team_info` line has two forms. The challenge's current rules (the open continuation
# of the 2018 challenge) want `team_info,<team name>,<contact email>`, and that is what is
# written here; the 2018 challenge's form named the track between them,
# `team_info,<team name>,<main|creative>,<contact email>`, and `submission.write(...,
# track="main")` writes it. Both forms are accepted by the verifier below, which says
# which one it saw. Lines starting with `#` are comments: a submission written by the
# command line records in one what it answers.
#
# The writer checks the team fields and every pid, then writes the plain file and the
# gzipped one together, each to a temporary file renamed into place:
#
# ```{literalinclude} /mpd_helpers/grading/submission.py
# :pyobject: write
# :caption: mpd_helpers/grading/submission.py
# ```

# %% tags=["parameters"]
work_dir = "../work"
team_name = "literate-neumf"
contact_email = "team@example.org"

# %% tags=["hide-input"]
from pathlib import Path

import pandas as pd

from mpd_helpers import recorded
from mpd_helpers.data import challenge_set, dataset
from mpd_helpers.grading import submission

work = Path(work_dir)
challenge = challenge_set.read(dataset.read_source(work / "dataset")["challenge_path"])  # the set the predictions answer
predictions = pd.read_parquet(work / "predictions" / "neumf_kmeans.parquet")
pids = predictions["pid"].unique()
tracks = predictions["track_uri"].to_numpy().reshape(len(pids), -1)
path = submission.write(work / "submission.csv", pids, tracks, team_name, contact_email)
# (the gzipped size depends on which tracks were recommended, so it is left out of the exact output)
print(f"wrote {path.name} ({path.stat().st_size / 2**20:.1f} MiB) and {path.name}.gz: "
      f"{len(pids):,} playlists x {tracks.shape[1]} tracks")

# %% tags=["nbval-ignore-output"]
with open(path) as f:
    for line in f.readlines()[:3]:
        print(line[:150] + (" ..." if len(line) > 150 else ""))

# %% [markdown]
# ## Verifying it
#
# Spotify's verifier rejected a submission with a missing `team_info` line, a pid that is
# not an integer or not in the challenge set, a line without exactly 500 tracks, a
# repeated track, a seed track of that playlist, a malformed track URI, an unknown track,
# or a number of playlists other than the challenge set's. `submission.verify` applies
# each of these rules (the command line: `python -m mpd_helpers verify challenge_set.json
# submission.csv`). The rules for each line:
#
# ```{literalinclude} /mpd_helpers/grading/submission.py
# :pyobject: _check_tracks
# :caption: mpd_helpers/grading/submission.py
# ```
#
# and for the file as a whole:
#
# ```{literalinclude} /mpd_helpers/grading/submission.py
# :pyobject: verify
# :caption: mpd_helpers/grading/submission.py
# ```

# %%
print(submission.format_report(submission.verify(challenge, path), submission.team_info_form(path)))

# %% [markdown]
# And on a deliberately broken copy: one playlist repeats a track, one is given one of its
# own seed tracks, one has a malformed URI, one has 499 tracks, and one line is missing.

# %% tags=["nbval-ignore-output"]
given = challenge.part  # the challenge playlists and their seed tracks
seed_of = given.entries.groupby("row")["track_uri"].first()  # rows of playlists with seeds
seeded_pid = int(given.playlists["pid"].iat[seed_of.index[0]])
lines = path.read_text().splitlines()
broken = [lines[0]]
for line in lines[1:]:
    fields = line.split(", ")
    pid = int(fields[0])
    if pid == pids[0]:
        fields[-1] = fields[1]  # a repeated track
    elif pid == seeded_pid:
        fields[-1] = seed_of.iloc[0]  # a seed track
    elif pid == pids[-1]:
        fields[-1] = "spotify:track:not-a-track"
    elif pid == pids[-2]:
        fields = fields[:-1]  # 499 tracks
    elif pid == pids[-3]:
        continue  # a missing playlist
    broken.append(", ".join(fields))
broken_path = work / "broken_submission.csv"
broken_path.write_text("\n".join(broken) + "\n")
problems = submission.verify(challenge, broken_path)
recorded.Record("05_submission").add("problems in the broken copy", len(problems), "exact").save(work)
print(submission.format_report(problems))
