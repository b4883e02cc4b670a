//! Parsing every response and error shape of the wire contract.
