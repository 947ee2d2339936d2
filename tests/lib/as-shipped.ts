// Preloaded before every test file (bunfig.toml): the tests run the CBOR
// decoding that ships. cbor-x speeds up its decoder with the native
// cbor-extract addon wherever it can load it, which the compiled modtrace
// cannot (no .node file in the binary): there it is cbor-x's JavaScript
// alone. The addon also reads past the end of a truncated buffer (a log
// read in pieces, a header cut at 64 KiB) and has crashed bun test on it.
process.env.CBOR_NATIVE_ACCELERATION_DISABLED = "true";
