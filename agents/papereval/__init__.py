"""PaperEval deployment roles: the daily feed's post writer and subscribers."""
