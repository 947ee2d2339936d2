// The baseline binary: the rows code without a Parquet writer.
import { makeRows } from "./rows";

if (process.argv[2] !== "noop") console.log(makeRows(process.argv[2], Number(process.argv[3])).length);
