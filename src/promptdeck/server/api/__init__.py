"""JSON API routers, one per resource."""
