"""Helpers for integration tests: test strategies, a simulator fixture, bot subprocesses."""
