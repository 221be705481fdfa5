"""Configuration for all tests."""

pytest_plugins = ["pytester"]
