"""The native-speaker annotation kit (guidelines, templates, schema, example), shipped as package data."""
