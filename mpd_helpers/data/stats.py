"""Statistics in the form of the dataset's own statistics program, and the full MPD's figures.

``mpd_stats.txt`` (shipped with the package) is that program's output over the whole
Million Playlist Dataset; :func:`against_reference` puts any directory's figures beside it, scaled
to the same number of playlists.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from mpd_helpers.data.slices import Part
from mpd_helpers.errors import MPDInputError, printable

REFERENCE = Path(__file__).with_name("mpd_stats.txt")
COUNTS = (
    "number of playlists",
    "number of tracks",
    "number of unique tracks",
    "number of unique albums",
    "number of unique artists",
    "number of unique titles",
    "number of playlists with descriptions",
    "number of unique normalized titles",
    "avg playlist length",
)
WRITE_UP_UNIQUE_PER_ENTRY = 189_583 / 945_712  # the write-up's 10,000-playlist sample plus challenge seeds
# The seconds that every pandas version can turn into a date (nanosecond timestamps: 1677 to 2262).
DATE_RANGE = (-(2**63 - 1) // 10**9 + 1, (2**63 - 1) // 10**9)
HISTOGRAMS = (
    "top playlist titles",
    "top tracks",
    "top artists",
    "numedits histogram",
    "last modified histogram",
    "playlist length histogram",
    "num followers histogram",
)


def normalize_title(name: pd.Series) -> pd.Series:
    """Titles as the dataset's statistics program compares them: lower case, punctuation to spaces."""
    out = name.str.lower().str.replace(r"[.,/#!$%^*;:{}=_`~()@]", " ", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


def compute(part: Part, top: int = 20) -> dict:
    """The statistics program's figures for playlists already read."""
    pl, tr = part.playlists, part.entries
    titles = normalize_title(pl["name"])
    track_label = tr["track_name"] + " by " + tr["artist_name"]
    days = _days(pl)
    figures = {
        "number of playlists": len(pl),
        "number of tracks": len(tr),
        "number of unique tracks": tr["track_uri"].nunique(),
        "number of unique albums": tr["album_uri"].nunique(),
        "number of unique artists": tr["artist_uri"].nunique(),
        "number of unique titles": pl["name"].nunique(),
        "number of playlists with descriptions": int(pl["description"].notna().sum()) if "description" in pl else 0,
        "number of unique normalized titles": titles.nunique(),
        "avg playlist length": len(tr) / max(len(pl), 1),
    }
    hists = {
        "top playlist titles": titles.value_counts(),
        "top tracks": track_label.value_counts(),
        "top artists": tr["artist_name"].value_counts(),
        "numedits histogram": pl["num_edits"].value_counts(),
        "last modified histogram": days.value_counts(),
        "playlist length histogram": pl["num_tracks"].value_counts(),
        "num followers histogram": pl["num_followers"].value_counts(),
    }
    figures.update({k: v.sort_values(ascending=False, kind="stable").head(top) for k, v in hists.items()})
    return figures


def _days(pl: pd.DataFrame) -> pd.Series:
    """Each playlist's ``modified_at`` as a day (YYYY-MM-DD); a time beyond the dates that
    can be shown is bad input, named by file, pid and field."""
    seconds = pl["modified_at"].to_numpy(np.int64)
    beyond = (seconds < DATE_RANGE[0]) | (seconds > DATE_RANGE[1])
    if beyond.any():
        row = int(np.flatnonzero(beyond)[0])
        raise MPDInputError(
            f"{seconds[row]} seconds is not a date between the years 1677 and 2262",
            file=pl["file"].iat[row] if "file" in pl else None,
            pid=int(pl["pid"].iat[row]),
            field="modified_at",
        )
    return pd.Series(pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%d"), index=pl.index)


def format_stats(figures: dict) -> str:
    """The figures laid out as the statistics program prints them."""
    lines = [f"{k} {figures[k]:g}" if isinstance(figures[k], float) else f"{k} {figures[k]}" for k in COUNTS]
    for k in HISTOGRAMS:
        lines += ["", k] + [
            f"{count:7d} {printable(str(label), keep_newlines=False)}"  # titles and names: untrusted
            for label, count in figures[k].items()
        ]
    return "\n".join(lines)


def read_reference(path: str | Path = REFERENCE) -> dict:
    """Parse the statistics program's output (by default, the full MPD's) back into figures."""
    figures, section = {}, None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        head = max((k for k in COUNTS if line.startswith(k + " ")), key=len, default=None)
        if head:
            figures[head] = float(line[len(head) :])
        elif line.strip() in HISTOGRAMS:
            section = line.strip()
            figures[section] = {}
        elif section:
            m = re.match(r"\s*(\d+) (.*)$", line)
            figures[section][m.group(2)] = int(m.group(1))
    for k in HISTOGRAMS:
        figures[k] = pd.Series(figures.get(k, {}), dtype=np.int64)
    return figures


def against_reference(figures: dict, reference: dict | None = None) -> pd.DataFrame:
    """Counts side by side with the reference's, scaled to the same number of playlists."""
    ref = reference or read_reference()
    scale = figures["number of playlists"] / ref["number of playlists"]
    rows = []
    for k in COUNTS:
        rows.append(
            {
                "figure": k,
                "this data": figures[k],
                "MPD scaled": ref[k] if k.startswith("avg") else ref[k] * scale,
                "MPD (1M playlists)": ref[k],
            }
        )
    # Distinct counts grow slower than linearly; at 10,000 playlists the write-up's sample
    # had 189,583 unique tracks in 945,712 entries, which is the figure to match here.
    rows.append(
        {
            "figure": "unique tracks per entry",
            "this data": figures["number of unique tracks"] / figures["number of tracks"],
            "MPD scaled": WRITE_UP_UNIQUE_PER_ENTRY,
            "MPD (1M playlists)": ref["number of unique tracks"] / ref["number of tracks"],
        }
    )
    rows.append(
        {
            "figure": "share of playlists with 1 follower",
            "this data": figures["num followers histogram"].get(1, 0) / figures["number of playlists"],
            "MPD scaled": np.nan,
            "MPD (1M playlists)": ref["num followers histogram"].get("1", 0) / ref["number of playlists"],
        }
    )
    return pd.DataFrame(rows).set_index("figure")
