"""RecAgora floor: agents."""
