// Preloaded before every test file (bunfig.toml). cbor-x would load its
// optional native accelerator, cbor-extract, a Node addon that aborts the
// Bun 1.4 process; the pure-JS decoder is the one the modtrace binary uses.
process.env.CBOR_NATIVE_ACCELERATION_DISABLED = "true";
