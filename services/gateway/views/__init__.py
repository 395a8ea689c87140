"""The research views: summary tables of the read model, kept per region (see refresh.py)."""
