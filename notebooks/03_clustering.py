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
# # 2.2 Clustering
#
# With NeuMF trained, the write-up does not score every track for every challenge
# playlist. It groups playlists whose MLP embeddings lie close together with k-means
# (250 clusters) and calls the members of a playlist's cluster its *neighbours*: their
# tracks become the candidates that NeuMF ranks in the next chapter. Here is that step,
# with `mpd_helpers.models.clustering`, and a look at whether the neighbours mean anything.
#
# k-means {cite:p}`lloyd1982kmeans` places $K$ centres $\mathbf{c}_k$ to minimise the
# squared distance of every playlist's MLP embedding $\mathbf{p}^M_u$ (the playlist half of
# the input to {eq}`eq-mlp`) to its nearest centre,
#
# $$\min_{\mathbf{c}_1, \dots, \mathbf{c}_K} \sum_u \min_k \lVert \mathbf{p}^M_u - \mathbf{c}_k \rVert^2,$$ (eq-kmeans)
#
# starting from k-means++ centres {cite:p}`arthur2007kmeanspp`.
#
# | the write-up's step | here | what changed, and why |
# |---|---|---|
# | take the `mlp_user_embedding` weights | `neumf.load_embeddings` | read from the saved model in the work directory |
# | `KMeans(n_clusters=250, random_state=0)` | `clustering.fit_kmeans` | the same estimator {cite:p}`pedregosa2011sklearn`, seeded, one initialisation |
# | neighbours: every playlist with the same label, found by a loop over all labels | `NeuMFClusters.fit` ({doc}`/book/generated/04_application`) | one sparse cluster x track table, built once |

# %% tags=["parameters"]
work_dir = "../work"
n_clusters = 250  # the write-up's choice
seed = 0

# %% tags=["hide-input"]
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mpd_helpers import recorded
from mpd_helpers.data import dataset
from mpd_helpers.models import clustering, neumf

pd.set_option("display.width", 140, "display.max_colwidth", 60)
work = Path(work_dir)
ds = dataset.read_saved(work / "dataset")
tables = neumf.load_embeddings(work / "neumf")
user_latent = tables["mlp_user"]
print(f"MLP playlist embeddings: {user_latent.shape[0]:,} playlists x {user_latent.shape[1]} dimensions")

# %% [markdown]
# Every playlist has a row in the embedding table, but the title-only challenge playlists
# had no track to train on: their rows are still the random initial vectors. They are
# clustered with the rest, as in the write-up, but the application chapter serves them from
# their titles instead. The clustering itself is one call of scikit-learn's estimator,
# which minimises {eq}`eq-kmeans`:
#
# ```{literalinclude} /mpd_helpers/models/clustering.py
# :pyobject: fit_kmeans
# :caption: mpd_helpers/models/clustering.py
# ```

# %%
start = time.perf_counter()
kmeans = clustering.fit_kmeans(user_latent, n_clusters=n_clusters, seed=seed)
labels = kmeans.labels_
print(f"k-means with {n_clusters} clusters; took {time.perf_counter() - start:.1f} s")
np.savez(work / "clusters.npz", labels=labels, centers=kmeans.cluster_centers_)

# %% [markdown]
# The write-up needed 35.3 s for this step on its machine. How large are the clusters? A
# playlist's candidates are all tracks of its cluster, so a very large cluster means many
# candidates to score, and a tiny one means few (and more popular-track filling).

# %% tags=["nbval-ignore-output"]
sizes = np.bincount(labels, minlength=n_clusters)
record = recorded.Record("03_clustering")
for name, value in {"min": sizes.min(), "median": np.median(sizes), "max": sizes.max()}.items():
    record.add(f"{name} cluster size", value, "cluster size")
record.add("singletons", (sizes == 1).sum(), "singletons")
print(f"cluster sizes: min {sizes.min()}, median {int(np.median(sizes))}, max {sizes.max()}; "
      f"{(sizes == 1).sum()} singletons")

# %% tags=["hide-input"]
proj = clustering.project_2d(user_latent, seed=seed)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.5, 3.4))
ax1.hist(sizes, bins=40, color="tab:blue")
ax1.set(xlabel="playlists in the cluster", ylabel="clusters", title="Cluster sizes")
sample = np.random.default_rng(seed).choice(len(proj), size=min(4000, len(proj)), replace=False)
ax2.scatter(proj[sample, 0], proj[sample, 1], c=labels[sample] % 20, cmap="tab20", s=3)
ax2.set(title="Embeddings (PCA), by cluster", xticks=[], yticks=[])
plt.tight_layout()
plt.show()

# %% [markdown]
# What does a cluster hold? Its most common titles and artists show whether neighbours
# share a theme. The largest clusters:

# %% tags=["nbval-ignore-output"]
summary = clustering.describe(ds, labels)
summary.sort_values("playlists", ascending=False, kind="stable").head(8)

# %% [markdown]
# A simple number for "do clusters mean something": the share of titled playlists whose
# title is the most common one of their cluster, against the same figure with the cluster
# labels shuffled 20 times (the same cluster sizes, no meaning): a permutation test. The
# verdict below is computed from these numbers.

# %% tags=["nbval-ignore-output"]
purity = clustering.title_purity(ds, labels)
rng = np.random.default_rng(seed)
shuffled = np.array([clustering.title_purity(ds, rng.permutation(labels)) for _ in range(20)])
record.add("title purity", purity, "share").add("title purity, shuffled labels", shuffled[0], "share").save(work)
print(f"title purity: {purity:.3f} with k-means clusters; {shuffled.min():.3f} to {shuffled.max():.3f} "
      f"with the labels shuffled ({len(shuffled)} times)")
above = (shuffled >= purity).sum()
if above == 0:
    print(f"No shuffle reaches the clusters' purity (p < {1 / (len(shuffled) + 1):.2f}): the clusters group "
          f"playlists by what they are about, {purity / shuffled.mean():.1f}x as often as chance. But weakly: "
          f"{(1 - purity) * 100:.0f} % of titled playlists do not carry their cluster's most common title.")
else:
    print(f"{above} of {len(shuffled)} shuffles reach the clusters' purity: on this data the clusters group "
          "playlists by title no better than chance.")
