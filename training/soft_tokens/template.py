"""A prompt template with soft-token placeholders."""

from __future__ import annotations

from dataclasses import dataclass

from recagora.item_space.errors import ConfigError

PLACEHOLDER = "<soft>"


@dataclass(frozen=True)
class SoftTemplate:
    """`text` with `{field}` slots and one or more PLACEHOLDER marks; each mark is k rows.

    Raises:
        ConfigError: k < 1, or no placeholder in the text.
    """

    text: str
    k: int = 1

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ConfigError(f"soft-token count must be at least 1 (got {self.k})")
        if PLACEHOLDER not in self.text:
            raise ConfigError(
                f"prompt template has no {PLACEHOLDER} placeholder for the soft tokens: {self.text[:60]!r}"
            )

    @property
    def slots(self) -> int:
        """How many placeholder marks the text holds."""
        return self.text.count(PLACEHOLDER)

    @property
    def rows(self) -> int:
        """Soft rows per prompt: slots x k."""
        return self.slots * self.k

    def pieces(self, **fields: str) -> list[str]:
        """The filled text cut at the placeholders (slots + 1 pieces)."""
        try:
            filled = self.text.format(**fields)
        except KeyError as error:
            raise ConfigError(f"prompt template needs the field {error.args[0]!r}") from None
        return filled.split(PLACEHOLDER)
