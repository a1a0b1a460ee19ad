"""The package version, from pbr metadata."""

import pbr.version

version_info = pbr.version.VersionInfo('glance-split')


def version_string():
    try:
        return version_info.version_string()
    except Exception:  # running from a tree that was never installed
        return '0.0.0'
