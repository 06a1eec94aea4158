"""The learned user model (`user=learned`): a SASRec-style user response model stacked with
the v0 surrogate's features, fitted on the training split and calibrated on validation
(see `model.py`); `fit.py` fits and caches it, `agents/roles/user_learned.py` plays it in TriRec."""
