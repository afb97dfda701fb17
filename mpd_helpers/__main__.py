"""``python -m mpd_helpers``: the command line."""

from mpd_helpers.cli import main

raise SystemExit(main())
