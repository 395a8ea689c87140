"""The groups service of a regional node: core groups and their member micro-enterprises."""
