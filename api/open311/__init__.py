"""Open311 GeoReport v2: the standard face that existing municipal apps and integrations already speak."""
