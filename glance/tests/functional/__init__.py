"""Functional tests: real servers on loopback. Every response they receive is checked for
backend secrets (glance.tests.functional.secrets_scan)."""

from glance.tests.functional import secrets_scan

secrets_scan.install()
