"""The commands, each a parser and a thin call into the part of the package that does the work.

Every command has ``<name>_arguments(parser)``, which declares its arguments, and
``run_<name>(args)``, which runs it and returns the exit status.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from mpd_helpers import files, parallel, pipeline
from mpd_helpers.cli.arguments import positive_int, seed, share
from mpd_helpers.data import challenge_set, embedded, recipe, rules, slices, stats, synthetic
from mpd_helpers.errors import MPDInputError, printable
from mpd_helpers.grading import metrics, submission

# --- data ------------------------------------------------------------------------------------


def synth_arguments(p: argparse.ArgumentParser) -> None:
    """``synth``: write synthetic slices."""
    p.add_argument("out_dir", help="directory to write mpd.slice.*.json into")
    p.add_argument("--slices", type=positive_int, default=10, help="number of 1,000-playlist slices (default 10)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="processes drawing slices (default: one per CPU); the files do not depend on it",
    )


def run_synth(args: argparse.Namespace) -> int:
    """Write the slices."""
    synthetic.generate(args.out_dir, args.slices, args.seed, workers=args.workers)
    return 0


def challenge_arguments(p: argparse.ArgumentParser) -> None:
    """``challenge``: build a challenge set from an MPD directory."""
    p.add_argument("mpd_dir")
    p.add_argument("out_dir", help="where challenge_set.json and challenge_truth.json go")
    p.add_argument(
        "--per-category", type=positive_int, default=100, help="playlists per category (1000 = official size)"
    )
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument(
        "--min-coverage",
        type=share,
        default=0.9,
        help="least share of a playlist's held-out tracks that must occur in training (default 0.9)",
    )


def run_challenge(args: argparse.Namespace) -> int:
    """Build the challenge set and print the coverage table."""
    result = recipe.build(args.mpd_dir, args.out_dir, args.per_category, args.seed, args.min_coverage)
    print(result.coverage.to_string(float_format="{:.3f}".format))
    print(f"wrote {result.challenge_path} and {result.truth_path}")
    return 0


def embedded_arguments(p: argparse.ArgumentParser) -> None:
    """``embedded``: make the embedded data if it is missing and print where it is."""
    p.add_argument("--root", default=None, help=f"data directory (default {embedded.DEFAULT_ROOT})")
    p.add_argument("--slices", type=positive_int, default=10)
    p.add_argument("--per-category", type=positive_int, default=100)
    p.add_argument("--seed", type=seed, default=0)


def run_embedded(args: argparse.Namespace) -> int:
    """Make the embedded data and print its paths."""
    paths = embedded.ensure(args.root, args.slices, args.per_category, args.seed)
    print(f"mpd_dir={paths.mpd_dir}\nchallenge={paths.challenge_path}\ntruth={paths.truth_path}")
    return 0


def check_arguments(p: argparse.ArgumentParser) -> None:
    """``check``: read a directory strictly and report the first problem or a summary."""
    p.add_argument("mpd_dir")
    p.add_argument("--challenge", help="a challenge_set.json to check as well")
    p.add_argument("--lenient", action="store_true", help="skip malformed playlists and say how many")


def run_check(args: argparse.Namespace) -> int:
    """Check the slices (and the challenge set) and print what was read and every rule broken."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        part = slices.read_slices(args.mpd_dir, lenient=args.lenient)
        problems = rules.check_rules(part)
        read = list(pd.unique(part.playlists["file"]))
        n_challenge = None
        if args.challenge:
            challenge = challenge_set.read(args.challenge, lenient=args.lenient).part
            n_challenge = len(challenge.playlists)
            problems += rules.check_challenge_rules(challenge)
            read.append(str(args.challenge))
        # keys given twice, which the reader cannot see: each file parsed again, one per process
        with parallel.pool(parallel.count(len(read), most=4)) as pool:
            problems += [line for lines in pool.map(rules.duplicate_keys, read) for line in lines]
    for w in caught:
        print(f"warning: {printable(str(w.message))}")
    root = Path(args.mpd_dir).resolve()
    for left in files.leftovers(root) + [
        p for p in files.leftovers(root.parent) if p.name.startswith(f".{root.name}.")
    ]:
        print(
            f"warning: {printable(str(left), keep_newlines=False)} was left by an interrupted writer; "
            "it is not read, and can be removed"
        )
    for problem in problems[:50]:
        print(problem)
    print(
        f"{len(part.playlists)} playlists, {len(part.entries)} entries read"
        + (f", {n_challenge} challenge playlists" if n_challenge is not None else "")
        + f"; {part.skipped} playlists and {len(part.skipped_files)} files skipped; "
        f"{len(problems)} rule violation(s)"
    )
    return 1 if problems else 0


def stats_arguments(p: argparse.ArgumentParser) -> None:
    """``stats``: print the statistics program's figures for a directory."""
    p.add_argument("mpd_dir")
    p.add_argument("--compare", action="store_true", help="also print the figures beside the full MPD's, scaled")


def run_stats(args: argparse.Namespace) -> int:
    """Print the figures (and, asked to, the full MPD's beside them)."""
    figures = stats.compute(slices.read_slices(args.mpd_dir))
    if args.compare and not figures["number of tracks"]:
        raise MPDInputError("holds no playlist entries: nothing to compare with the MPD", file=args.mpd_dir)
    print(stats.format_stats(figures))
    if args.compare:
        print("\n" + stats.against_reference(figures).to_string(float_format="{:,.3f}".format))
    return 0


# --- grading ---------------------------------------------------------------------------------


def verify_arguments(p: argparse.ArgumentParser) -> None:
    """``verify``: check a submission against the challenge's rules."""
    p.add_argument("challenge_set", metavar="CHALLENGE_SET", help="challenge_set.json")
    p.add_argument("submission", metavar="SUBMISSION", help="submission CSV (optionally .gz)")
    p.add_argument("--mpd", metavar="MPD_DIR", help="MPD directory; when given, tracks not in it are reported")


def run_verify(args: argparse.Namespace) -> int:
    """Verify a submission and print the report; 0 when valid, 1 otherwise."""
    challenge = challenge_set.read(args.challenge_set)
    known = None
    if args.mpd:
        known = set(slices.read_slices(args.mpd, progress=False).entries["track_uri"].unique().tolist())
    problems = submission.verify(challenge, args.submission, known_tracks=known)
    target = Path(args.submission).resolve()
    for left in files.leftovers(target.parent):
        if left.name.startswith(f".{target.name.removesuffix('.gz')}"):
            print(f"warning: {left} was left by an interrupted writer; it can be removed", file=sys.stderr)
    print(submission.format_report(problems, submission.team_info_form(args.submission)))
    return 1 if problems else 0


def evaluate_arguments(p: argparse.ArgumentParser) -> None:
    """``evaluate``: grade a submission against held-out tracks."""
    p.add_argument("submission", metavar="SUBMISSION", help="submission CSV (optionally .gz)")
    p.add_argument("--truth", required=True, help="challenge_truth.json with the held-out tracks")
    p.add_argument("--challenge", help="the challenge_set.json, to report recommended seed tracks")
    p.add_argument(
        "--partial", action="store_true", help="grade a submission that covers only some playlists (the rest score 0)"
    )
    p.add_argument(
        "--ndcg",
        choices=metrics.NDCG_VARIANTS,
        default="spotify",
        help="NDCG variant: Spotify's code, which the book reports, or the rules page's formula (default: spotify)",
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """Grade a submission file against held-out tracks: say what was graded, print the table."""
    truth = challenge_set.read_truth(args.truth)
    metrics.check_answers(args.submission, truth)
    recommendations = submission.read(args.submission)
    seeds = challenge_set.read(args.challenge, truth).seeds() if args.challenge else None
    report = metrics.coverage(recommendations, truth.tracks, seeds)
    n = truth.tracks["pid"].nunique()
    if report["missing"] and len(report["missing"]) == n and len(recommendations):
        raise MPDInputError(
            f"none of the submission's playlists is in the truth file {args.truth}: they answer another challenge set",
            file=args.submission,
            field="pid",
        )
    notes = {
        "missing": "{k} of the {n} playlists with held-out tracks have no line in the submission (graded 0)",
        "short": "{k} playlists have fewer than 500 distinct tracks",
        "unknown": "{k} playlists of the submission are not in the truth file (not graded)",
        "with seeds": "{k} playlists recommend seed tracks of their own playlist",
    }
    for key, pids in report.items():
        if pids:
            shown = ", ".join(map(str, pids[:5])) + (" ..." if len(pids) > 5 else "")
            print(f"warning: {notes[key].format(k=len(pids), n=n)}: {shown}", file=sys.stderr)
    per_playlist = metrics.evaluate(recommendations, truth.tracks, ndcg=args.ndcg)
    print(f"NDCG variant: {args.ndcg}")
    print(metrics.format_table(metrics.summarize(per_playlist)))
    if report["missing"] and not args.partial:
        print(
            f"error: the submission does not cover the truth ({len(report['missing'])} of {n} playlists "
            "missing); pass --partial to grade a partial run",
            file=sys.stderr,
        )
        return 1
    return 0


# --- the job ---------------------------------------------------------------------------------


# The whole job (load to verify) at 1,000 slices on 2 cores, as the appendix on scale measured it
# (book/scale_costs.csv): minutes and peak GiB.
FULL_SIZE = {"two-stage": (27, 14.4), "blend": (47, 10.4)}


def _full_size(method: str) -> str:
    """'22 min, 14.1 GiB'."""
    minutes, gib = FULL_SIZE[method]
    return f"{minutes} min, {gib:.1f} GiB"


def _methods() -> str:
    """Each method with what it is, from the catalogue."""
    return " ".join(f"{name}: {system.about}." for name, system in pipeline.METHODS.items())


def recommend_arguments(p: argparse.ArgumentParser) -> None:
    """``recommend``: the whole job, from the slices to a verified (and graded) submission."""
    p.add_argument("mpd_dir", help="directory of mpd.slice.*.json files")
    p.add_argument("challenge", help="challenge_set.json")
    p.add_argument(
        "--method",
        choices=list(pipeline.METHODS),
        default="two-stage",
        help="the system; default two-stage, the book's best, which grades highest at every size measured. "
        f"At the MPD's full size on 2 cores it took {_full_size('two-stage')} "
        f"(the blend: {_full_size('blend')}; the book's appendix on scale). " + _methods(),
    )
    p.add_argument("--out", default="submission.csv", help="the CSV to write (default submission.csv)")
    p.add_argument(
        "--truth",
        help="held-out tracks of a built challenge set: leave its source playlists "
        "out of training, and grade the result",
    )
    p.add_argument(
        "--train-on-sources",
        action="store_true",
        help="with a built challenge set and no --truth: train on every playlist, the whole "
        "playlists the challenge set was cut from included (a grade is then inflated)",
    )
    p.add_argument("--workers", type=positive_int, help="processes reading the slices (default: CPUs, <= 4)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_recommend(args: argparse.Namespace) -> int:
    """Run the job; print a table of stages and, given a truth, the grade."""
    run = pipeline.recommend_all(
        args.mpd_dir,
        args.challenge,
        args.method,
        args.out,
        args.truth,
        args.workers,
        progress=not args.quiet,
        train_on_sources=args.train_on_sources,
    )
    total = run.stages["seconds"].sum()
    print(f"wrote {args.out} ({args.method}); {total:.1f} s in all, peak {run.stages['peak_gib'].max():.2f} GiB")
    if run.grade is not None:
        print(metrics.format_table(run.grade))
    return 0


def continue_arguments(p: argparse.ArgumentParser) -> None:
    """``continue``: the next tracks of one new playlist."""
    p.add_argument("mpd_dir", help="directory of mpd.slice.*.json files")
    p.add_argument("--title", help="the playlist's title")
    p.add_argument(
        "--track", action="append", metavar="URI", help="a seed track URI; repeat for several, in playlist order"
    )
    p.add_argument("-n", type=positive_int, default=20, help="how many tracks (default 20)")
    p.add_argument(
        "--method",
        choices=list(pipeline.METHODS),
        default="playlist-knn",
        help="the system; default playlist-knn: of the systems that need no training, the one that grades "
        "highest in the book. " + _methods(),
    )
    p.add_argument("--model-dir", help="where to keep the fitted model (default: a user cache folder)")
    p.add_argument("--workers", type=positive_int, help="processes reading the slices (default: CPUs, <= 4)")
    p.add_argument("--uris", action="store_true", help="also print the track URIs")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_continue(args: argparse.Namespace) -> int:
    """Print the continuation of one new playlist."""
    model, tracks = pipeline.fitted_model(args.mpd_dir, args.method, args.model_dir, args.workers, not args.quiet)
    table = pipeline.continue_playlist(model, tracks, args.title, args.track or [], args.n)
    with pd.option_context("display.max_colwidth", 40, "display.width", 160):
        print(table.drop(columns="uri" if not args.uris else []).to_string())
    return 0
