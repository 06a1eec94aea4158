"""Run configs load with RecAgora's one config loader (`recagora.training.configs`).

Precedence: field defaults < `--config file.yaml` < explicit command-line flags <
`--set key=value`; see `recagora.training.configs` for the rules and errors. The
loader sits on the training floor so that `recagora train` (which may not import
experiments) and `recagora run` share it; this module is the runner's name for it.
"""

from __future__ import annotations

from recagora.training.configs import (
    build_config,
    config_to_dict,
    describe_fields,
    flatten_mapping,
    from_dict,
    load_config,
    parse_override,
    read_yaml,
    save_config,
    with_overrides,
)

__all__ = [
    "build_config",
    "config_to_dict",
    "describe_fields",
    "flatten_mapping",
    "from_dict",
    "load_config",
    "parse_override",
    "read_yaml",
    "save_config",
    "with_overrides",
]
