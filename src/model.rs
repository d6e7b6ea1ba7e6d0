//! Domain types shared by every layer: ids, change events.
