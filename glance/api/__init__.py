"""glance-api: the Images API v2 application and its middleware."""
