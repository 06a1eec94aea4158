"""PumaConfig: data subsample, backbones, stage-1 and migration settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.item_space.errors import ConfigError
from recagora.training.soft_tokens.template import SoftTemplate

# The paper's rating template in MovieLens wording, reordered so the user's soft token
# comes late (the text before it runs once, without gradients: see SoftTokenLM.logits);
# the prompt ends where the digit goes.
RATING_TEMPLATE = (
    'Predict the rating (an integer from 1 to 5) that a user gives to the movie "{title}". '
    "The user's preferences are encoded in the feature <soft>. Rating: "
)
ADAPTERS = ("mlp", "identity")


@dataclass
class PumaConfig:
    """`recagora train puma` settings (defaults sized for a shared 2-core CPU)."""

    backbone_a: str = field(default="smollm2", metadata={"help": "Source LM: smollm2, gemma3-270m or a local folder."})
    backbone_b: str = field(default="gemma3-270m", metadata={"help": "Target LM of the migration."})
    n_users: int = field(default=80, metadata={"help": "ML-100K users drawn (seeded) for the run; 0 = all 943."})
    max_train_per_user: int = field(default=12, metadata={"help": "A user's most recent training ratings kept."})
    max_test_per_user: int = field(default=4, metadata={"help": "A user's first held-out ratings kept."})
    val_per_user: int = field(default=2, metadata={"help": "A user's latest training ratings held out to choose epochs (0 = none)."})
    test_share: float = field(default=0.2, metadata={"help": "Each user's latest share of ratings held out (chronological)."})
    epochs: int = field(default=3, metadata={"help": "Most epochs of stage 1 and of full retraining."})
    migrate_epochs: int = field(default=2, metadata={"help": "Most epochs of adapter training on the selected users."})
    patience: int = field(default=2, metadata={"help": "Epochs without a better validation RMSE before a fit stops (best kept)."})
    selection_seeds: int = field(default=1, metadata={"help": "Seeds of the group vs random selection comparison."})
    bootstrap: int = field(default=2000, metadata={"help": "Resamples of users for paired RMSE-difference intervals."})
    budget: int = field(default=16, metadata={"help": "Users the migration adapter trains on."})
    clusters: int = field(default=4, metadata={"help": "K-means clusters over the source prompts (paper: 15)."})
    variance_bins: int = field(default=5, metadata={"help": "Rating-variance quantile bins per cluster (paper: 5)."})
    min_per_cluster: int = field(default=2, metadata={"help": "First pass: users taken from each cluster (paper: 50)."})
    adapter_width: int = field(default=512, metadata={"help": "Hidden width of the adapter's MLPs (paper: 4096)."})
    lr_prompt: float = field(default=5e-3, metadata={"help": "Learning rate of the soft prompts and the rating head."})
    lr_adapter: float = field(default=1e-3, metadata={"help": "Learning rate of the adapter and the target head."})
    ce_weight: float = field(default=0.2, metadata={"help": "Loss = ce_weight * CE(digits) + (1 - ce_weight) * MSE(head)."})
    batch_size: int = field(default=16, metadata={"help": "Ratings per optimizer step."})
    seed: int = field(default=0, metadata={"help": "Seed of the user draw, inits, batches and selection."})
    output_dir: str = field(default="runs/train/puma", metadata={"help": "Folder of report.json and the prompts."})
    template: str = field(default=RATING_TEMPLATE, metadata={"help": "Rating prompt: {title} and one <soft> placeholder."})
    adapter: str = field(default="mlp", metadata={"help": "Migration adapter: mlp (PUMA's) or identity (same-width backbones)."})
    source_prompts: str = field(default="", metadata={"help": "prompts.pt of an earlier run: reuse its A prompts, skip stage 1."})

    def __post_init__(self) -> None:
        SoftTemplate(self.template, k=1)  # a template without <soft> is refused here, before any load
        if "{title}" not in self.template:
            raise ConfigError("PUMA's rating template needs a {title} field")
        if self.adapter not in ADAPTERS:
            raise ConfigError(f"adapter {self.adapter!r} is unknown; use one of {', '.join(ADAPTERS)}")
