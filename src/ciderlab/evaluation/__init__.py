"""Evaluation: metrics, scoring the test objects, and the book's tables and figures."""
