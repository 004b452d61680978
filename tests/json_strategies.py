"""Hypothesis strategies for JSON-like values, shared by the tests that feed learner-shaped
data to the judge."""

from __future__ import annotations

from hypothesis import strategies as st

# Small enough to print when a test fails: leaves, lists and string-keyed objects, nested.
small_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
