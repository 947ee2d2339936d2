// The record format's constants (struct mt_record's offsets, its enums and
// flags), generated from bpf/events.h into the decoder's tree, where the
// AssemblyScript side must have them. Everything outside the decoder takes
// them from here, so the record format has one door.
export * from "../decoder/assembly/generated/layout";
