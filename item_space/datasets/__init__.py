"""Dataset loaders behind one registry.

    from recagora.item_space.datasets import load_dataset, list_datasets
    ds = load_dataset("ml-100k")                 # registered name
    ds = load_dataset("/data/my.csv", user="uid", item="movie")  # a path; format detected
    split = ds.split("loo", max_history=10)      # or "global_time", "given", "auto"

Registered names and formats live in `registry.py` (name -> "module:function").
"""

from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import cache_dir, shared_data_dir
from recagora.item_space.datasets.registry import (
    DATASETS,
    FORMATS,
    DatasetSource,
    dataset_source,
    detect_format,
    list_datasets,
    load_dataset,
)

__all__ = [
    "DATASETS",
    "FORMATS",
    "Dataset",
    "DatasetSource",
    "cache_dir",
    "dataset_source",
    "detect_format",
    "list_datasets",
    "load_dataset",
    "shared_data_dir",
]
