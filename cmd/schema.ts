// `modtrace schema`: the row schema as JSON for tools, or as an engine's DDL.
import { ddl, schemaJson, type Engine } from "../rows/ddl";
import { SCHEMA_VERSION } from "../rows/schema";

export function schemaCommand(o: { sql?: Engine; cluster?: string; database?: string }): string {
  if (o.sql) return ddl(o.sql, { cluster: o.cluster, database: o.database });
  return JSON.stringify(schemaJson(SCHEMA_VERSION), null, 2) + "\n";
}
