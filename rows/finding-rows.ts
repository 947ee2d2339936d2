// A log's finding items (findings/format.ts's map) as rows of the
// findings table. The map's lists and the rule's details become JSON text,
// as the events table does with its lists, so every engine loads them.
import { basename } from "node:path";
import { asJson, RowBuilder, type LogContext, type Reporter, type Row } from "./flatten";
import { FINDING_COLUMNS } from "./schema";

const evidenceCallIds = (evidence: any[]) => evidence.filter((e) => e?.callId !== undefined && e?.callId !== null).map((e) => e.callId);

/** Stable across conversions: the same finding of the same boot on the same host gets the same id. */
function findingId(f: any, ctx: LogContext): string {
  return new Bun.CryptoHasher("sha256").update(asJson([ctx.host, ctx.bootTime, f])).digest("hex").slice(0, 32);
}

export class FindingRows {
  private rows: RowBuilder;

  constructor(reporter: Reporter) {
    this.rows = new RowBuilder(FINDING_COLUMNS, reporter);
  }

  /** The row of finding map f, read from log file `file` whose header gave ctx. */
  row(f: any, ctx: LogContext, file: string): Row {
    const evidence = Array.isArray(f.evidence) ? f.evidence : [];
    const fields: Record<string, unknown> = {
      file: basename(file),
      findingId: findingId(f, ctx),
      timestamp: f.timestamp,
      rule: f.eventName,
      severity: f.severity,
      techniques: asJson((f.techniques ?? []).map((t: any) => t?.id ?? t)),
      description: f.description ?? "",
      evidence: asJson(evidence),
      evidenceCallIds: asJson(evidenceCallIds(evidence)),
      moduleName: f.moduleName,
      hostProcessId: f.hostProcessId,
      processName: f.processName,
      executable_path: f.executable?.path,
      userId: f.userId,
      details: f.details === undefined ? null : asJson(f.details),
    };
    return this.rows.row(fields, ctx, `a ${f.eventName} finding`);
  }
}
