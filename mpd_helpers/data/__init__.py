"""The data: the MPD's slice format and the challenge set's, each read and checked by one module
(:mod:`.slices`, :mod:`.challenge_set`); the synthetic generator and the challenge recipe that
make the embedded data; the :class:`~.dataset.Dataset` the models are fitted on, with its
utility matrix; the dataset checker's rules and the MPD's statistics."""
