# %% [markdown]
# # Scratch chapter
#
# A throw-away notebook that exercises the book machine: $E = mc^2$.

# %% tags=["parameters"]
data_dir = "../data"
work_dir = "../work"
seed = 0
n = 5

# %%
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

rng = np.random.default_rng(seed)
df = pd.DataFrame({"x": np.arange(n), "y": rng.integers(0, 10, n)})
df

# %%
print(df.describe().round(3))
t0 = time.perf_counter()
time.sleep(0.01)
print(f"took {time.perf_counter() - t0:.2f} s")

# %%
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(df.x, df.y, marker="o")
plt.show()

# %%
total = 0
for i in tqdm(range(200), desc="loop"):
    time.sleep(0.005)
    total += i
print(total)

# %%
for i in tqdm(range(50), desc="to stdout", file=sys.stdout):
    time.sleep(0.005)

# %%
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
import keras
import tensorflow as tf

keras.utils.set_random_seed(seed)
x = rng.normal(size=(256, 4)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy")
history = model.fit(x, y, epochs=2, batch_size=32, verbose=1)
print(f"final loss {history.history['loss'][-1]:.4f}")

# %%
model.fit(x, y, epochs=2, batch_size=32, verbose=2);

# %%
# %time _ = sum(range(10**5))
