//! libjhot_shim.so — placeholder; see native/shim/README.md.
