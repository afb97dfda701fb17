"""The recommenders: the face they share (:mod:`.base`) and the ranking it relies on, popularity,
neighbours, titles, iALS, the write-up's NeuMF with its k-means neighbours, the blend and the
learned ranker; the catalogue of the book's named systems; and the store that saves a fitted
model as data."""
