"""The researchers' coding workspace in GraphQL: codebooks (readable by every role), codings,
reconciliation and agreement (researchers only). Rules: services/gateway/research."""
