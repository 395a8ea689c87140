"""The researchers' workspace at the gateway (national data): codebooks, independent coding
of meetings and memo passages, reconciliation into a consensus, agreement, Table 1, panel.

Tables: :mod:`.tables`; the first codebook (Wenger's 11 types): :mod:`.wenger`; the rules:
:mod:`.codebooks`, :mod:`.coding`, :mod:`.agreement`. GraphQL: services/gateway/graphql/coding.
"""
