"""RecAgora floor: training."""
