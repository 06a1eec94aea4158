"""RecAgora floor: item_space."""
