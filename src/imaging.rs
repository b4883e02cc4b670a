//! Bytes <-> pixels: sniff, decode with limits, thumbnail, PNG text metadata.
