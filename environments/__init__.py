"""RecAgora floor: environments."""
