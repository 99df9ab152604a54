//! libjhot_jni.so — placeholder; see native/README.md.
