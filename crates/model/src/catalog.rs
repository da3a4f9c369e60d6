//! Regions and zones (see catalog task).
