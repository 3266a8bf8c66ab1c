#!/usr/bin/env python3
"""Regenerates the analysis fixtures (run offline; outputs are committed):
correlation.json (NumPy/SciPy Pearson and Spearman), smoothing.json (scipy.ndimage.gaussian_filter1d),
mds.json and community.json (scikit-learn smacof / MDS / silhouette_score)."""
import json
import warnings

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.stats import spearmanr
from sklearn.manifold import MDS, smacof
from sklearn.metrics import silhouette_score

rng = np.random.default_rng(1234)


def dump(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, separators=(",", ":"))


# Correlation: 60 samples, 9 features (ReLU-like, so with ties at 0), 3 variables.
n, l, p = 60, 9, 3
z = rng.standard_normal((n, l)).astype(np.float32)
v = rng.standard_normal((n, p)).astype(np.float32)
z[:, 2] += 2 * v[:, 0]
z[:, 5] -= 1.5 * v[:, 1]
z = np.maximum(z, 0).astype(np.float32)
z[:, 7] = np.round(z[:, 7])  # heavy ties
pear = np.corrcoef(z.astype(np.float64).T, v.astype(np.float64).T)[:l, l:]
spear = spearmanr(z.astype(np.float64), v.astype(np.float64)).statistic[:l, l:]
dump("correlation.json", {"n": n, "features": l, "variables": p, "z": z.ravel().tolist(), "v": v.ravel().tolist(),
                          "pearson": pear.ravel().tolist(), "spearman": spear.ravel().tolist()})

# Smoothing, including kernels longer than the input.
cases = []
for length, sigma in [(1, 0.5), (3, 2.0), (10, 0.5), (10, 1.0), (17, 2.5), (80, 0.5), (5, 7.0)]:
    x = rng.standard_normal(length)
    cases.append({"x": x.tolist(), "sigma": sigma, "expected": gaussian_filter1d(x, sigma, mode="reflect", truncate=4.0).tolist()})
dump("smoothing.json", cases)

# MDS on 15 nodes in 3 communities (noisy 4-D points), Euclidean dissimilarities.
labels = np.repeat(np.arange(3), 5)
centres = rng.standard_normal((3, 4)) * 3
pts = centres[labels] + rng.standard_normal((15, 4))
d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
init = rng.uniform(size=(15, 2))
x1, s1, it1 = smacof(d, metric=True, n_components=2, init=init.copy(), n_init=1, max_iter=300, eps=1e-6,
                     normalized_stress=False, return_n_iter=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    m = MDS(n_components=2, metric_mds=True, metric="precomputed", n_init=8, init="random", random_state=0,
            max_iter=300, eps=1e-6, normalized_stress=False)
    emb = m.fit_transform(d)
dump("mds.json", {"n": 15, "dissimilarity": d.ravel().tolist(), "init": init.ravel().tolist(),
                  "single": {"coordinates": x1.ravel().tolist(), "stress": float(s1), "iterations": int(it1)},
                  "best": {"coordinates": emb.ravel().tolist(), "stress": float(m.stress_)}})

iu = np.triu_indices(15, 1)
same = labels[iu[0]] == labels[iu[1]]
dump("community.json", {"distance": d.ravel().tolist(), "labels": labels.tolist(),
                        "within": float(d[iu][same].mean()), "between": float(d[iu][~same].mean()),
                        "silhouette": float(silhouette_score(d, labels, metric="precomputed"))})
