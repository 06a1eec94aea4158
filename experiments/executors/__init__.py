"""Where runs execute: in this process (the default) or as tasks on a Ray cluster."""
