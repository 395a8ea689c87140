"""Research views as GraphQL fields (ViewsQuery) and their types."""
