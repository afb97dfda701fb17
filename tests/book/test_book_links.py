"""The book and the package point at each other: every object a chapter shows names that
chapter in its docstring, and every object that names a chapter is shown there."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from mpd_data import ROOT, included, package_object

import mpd_helpers

MARK = re.compile(r"Shown in the book: ([\w, ]+)\.")
BARE = re.compile(r"\b[Cc]hapters? \d")  # "chapter 4", "Chapter 2.1", "chapters 5 and 6"


def _named_chapters(obj: object) -> list[str]:
    """The chapters an object's own docstring says show it."""
    found = MARK.findall(inspect.getdoc(obj) or "")
    return [chapter.strip() for chapters in found for chapter in chapters.split(",")]


def _package_objects() -> dict[str, object]:
    """Every class, function and method defined in the package, by ``module.qualname``."""
    found = {}
    for info in pkgutil.walk_packages(mpd_helpers.__path__, "mpd_helpers."):
        if info.name == "mpd_helpers.__main__":  # running it is what importing it does
            continue
        module = importlib.import_module(info.name)
        short = info.name.removeprefix("mpd_helpers.")
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == info.name:
                found[f"{short}.{name}"] = obj
                if inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if inspect.isfunction(member):
                            found[f"{short}.{name}.{attr}"] = member
    return found


def test_the_chapters_show_package_code():
    shown = included()
    assert len(shown) >= 20 and all(chapters for chapters in shown.values())


def test_every_object_a_chapter_shows_names_that_chapter():
    wrong = {
        name: (_named_chapters(package_object(name)), chapters)
        for name, chapters in included().items()
        if sorted(_named_chapters(package_object(name))) != sorted(chapters)
    }
    assert not wrong, f"docstrings that do not name the chapters showing them (named, shown): {wrong}"


def test_every_object_that_names_a_chapter_is_shown_there():
    shown = included()
    objects = _package_objects()
    claims = {name: _named_chapters(obj) for name, obj in objects.items() if MARK.search(obj.__doc__ or "")}
    assert {name.split(".")[0] for name in claims} >= {"data", "models", "grading", "pipeline"}, sorted(claims)
    wrong = {name: chapters for name, chapters in claims.items() if sorted(chapters) != sorted(shown.get(name, []))}
    assert not wrong, f"docstrings naming chapters that do not show them: {wrong}"


def test_the_book_refers_to_its_chapters_by_link_not_by_number():
    """A hand-typed chapter number drifts when chapters move; a {doc} link is resolved by Sphinx."""
    pages = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")) + sorted((ROOT / "book").glob("*.md"))
    bare = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in pages
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BARE.search(line)
    ]
    assert len(pages) > 9 and not bare, "\n".join(bare)
