"""LLM backends behind one spec string (floor 2). See `contract.py` for the API agents use."""
