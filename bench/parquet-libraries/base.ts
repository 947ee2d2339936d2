import { makeRows } from "./common";
if (process.argv[2] === "noop") process.exit(0);
const rows = makeRows(process.argv[2], Number(process.argv[3]));
console.log(rows.length);
