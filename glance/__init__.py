"""OpenStack Image service, split into glance-api and glance-stream."""
