//! Browser journeys live in `tests/journeys/` (one test binary); this crate has no library code.
