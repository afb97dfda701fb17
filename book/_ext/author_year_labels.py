"""Author–year labels in the references list, to match the author–year citations in the text.

pybtex's styles label a bibliography entry by number ([1]) or by initials and year
([CLSZ18]), while the chapters cite by author and year ("Chen et al. [2018]"). This Sphinx
extension registers the bibliography style ``author_year``: pybtex's ``unsrt`` formatting,
sorted by author and year, each entry labelled "Chen et al., 2018" (with a, b, ... where two
entries would share a label). ``_config.yml`` makes it the default style.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    """A person's last name as plain text (LaTeX braces and accents resolved)."""
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabels(BaseLabelStyle):
    """'Frederickson, 2016', 'Hu and Koren, 2008', 'Chen et al., 2018'."""

    def format_label(self, entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_surname(p) for p in people]
        if not names:
            who = entry.fields.get("organization", entry.key)
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields['year']}" if "year" in entry.fields else who

    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] == 1:
                yield label
            else:
                yield label + chr(ord("a") + seen[label])
                seen[label] += 1


class AuthorYearStyle(UnsrtStyle):
    """unsrt's entries, sorted by author and year, labelled by author and year."""

    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
