"""The dashboard: a static page at ``/dashboard`` that draws the national GraphQL API's data."""
