"""RecAgora floor: experiments."""
