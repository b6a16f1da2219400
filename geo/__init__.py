"""Public space: jurisdictions, areas, categories, reports and their workflow, spatial queries."""
