"""The registered clinic scenario (`recagora run clinic`): medication lists for hospital
visits of the open MIMIC-IV demo, accuracy against drug-drug interaction safety (FLAME)."""

from __future__ import annotations

from recagora.agents.registry import parse_agent_spec, resolve
from recagora.environments.clinic.config import DEFAULT_AGENTS, ClinicConfig
from recagora.environments.clinic.graph import ClinicContext, ClinicState, build_clinic_graph
from recagora.environments.scenario import (
    Episode,
    MetricSpec,
    NodeContract,
    RunServices,
    ScenarioSpec,
)


def prepare_clinic(config: ClinicConfig, services: RunServices) -> Episode:
    """Visits, split, interaction graph and roles; `services.extras["data"]` may hold loaded visits."""
    from recagora.item_space.clinical import (
        build_interaction_graph,
        clinical_path,
        load_visits,
        patient_split,
    )

    data = services.extras.get("data") or load_visits(
        clinical_path(config.data), max_drugs=config.max_drugs
    )
    interactions = build_interaction_graph(data.drugs, clinical_path(config.interactions))
    train, valid, test = patient_split(data.visits, seed=config.seed)
    mix = parse_agent_spec(config.agents, DEFAULT_AGENTS)
    clinician = resolve("clinician", mix["clinician"])(
        data, train, valid, model=config.classifier, seed=config.seed
    )
    scores = tuple(clinician.scores(data, i) for i in test)
    context = ClinicContext(
        config, data, interactions, tuple(test), scores,
        tuple(clinician.propose(data, i) for i in test),
        resolve("pharmacist", mix["pharmacist"])(interactions),
        resolve("editor", mix["editor"])(config.alpha), services.sink,
    )  # fmt: skip
    state = {"round": 0, "lists": (), "flags": (), "removed": (), "events": [], "done": False}
    info = {
        "agents": mix.versions(),
        "threshold": clinician.threshold,
        "visits": {"train": len(train), "valid": len(valid), "test": len(test)},
        "data": data.report,
        "interactions": interactions.report,
        "licence": "derived from MIMIC demo data: ODbL (keep the source's LICENSE and notice)",
    }
    return Episode(context, state, info=info)


CLINIC = ScenarioSpec(
    name="clinic",
    version="clinic-v0",
    description="Medication lists (FLAME-style): a clinician proposes, a pharmacist flags drug interactions, an editor revises.",
    config_cls=ClinicConfig,
    build_graph=build_clinic_graph,
    prepare=prepare_clinic,
    state_schema=ClinicState,
    nodes={
        "begin_round": NodeContract(reads=("round",), writes=("lists", "events")),
        "check": NodeContract(reads=("lists",), writes=("flags",)),
        "revise": NodeContract(
            reads=("round", "lists", "flags"), writes=("lists", "removed", "events")
        ),
        "record_round": NodeContract(
            reads=("round", "lists", "flags", "removed", "events"), writes=("round", "done")
        ),
    },
    metrics=(
        MetricSpec("active_users", "Test visits", sweep=False),
        MetricSpec("jaccard", "Jaccard of the lists", plot=True),
        MetricSpec("f1", "F1 of the lists"),
        MetricSpec("precision", "Precision"),
        MetricSpec("recall", "Recall"),
        MetricSpec("ddi_rate", "Share of drug pairs that interact", plot=True),
        MetricSpec("list_length", "Drugs per list", plot=True),
        MetricSpec("edits", "Drugs removed this round"),
        MetricSpec("flagged_pairs", "Flagged pairs per list"),
        MetricSpec("proposed_jaccard", "Jaccard of the clinician's proposals"),
        MetricSpec("proposed_ddi_rate", "DDI rate of the proposals"),
        MetricSpec("truth_ddi_rate", "DDI rate of the real lists", sweep=False),
    ),
)
