// Two ClickHouse servers (Debian's clickhouse-server 18.16) on 127.0.0.1 for
// the analysis tier: each a shard of cluster `fleet`, with its data in a
// temporary directory, ports above 1024 on loopback only, stopped by stop().
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SERVER = "/usr/sbin/clickhouse-server";
export const CLIENT = "/usr/bin/clickhouse-client";
export const CLUSTER = "fleet";
/** Rows from a newer modtrace may have columns an older table lacks. */
export const SKIP_UNKNOWN_FIELDS = ["--input_format_skip_unknown_fields=1"];

/** Why ClickHouse cannot run here, or undefined. */
export function clickhouseCannotRun(): string | undefined {
  if (!existsSync(SERVER) || !existsSync(CLIENT)) return "clickhouse-server and clickhouse-client are not installed (./build.sh test installs them)";
  return undefined;
}

const SHARD_PORTS = [{ tcp: 19000, http: 18123, interserver: 19009 }, { tcp: 29000, http: 28123, interserver: 29009 }];

function config(dir: string, ports: (typeof SHARD_PORTS)[number]): string {
  const shards = SHARD_PORTS.map((p) => `<shard><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`).join("");
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>${ports.tcp}</tcp_port>
  <http_port>${ports.http}</http_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <remote_servers><${CLUSTER}>${shards}</${CLUSTER}></remote_servers>
</yandex>
`;
}

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

export class ClickhouseFleet {
  private servers: ChildProcess[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), "modtrace-clickhouse-"));
  readonly ports = SHARD_PORTS.map((p) => p.tcp);

  async start(timeoutMs = 60_000) {
    // A server left running on these ports (another run's) would answer for
    // ours, with its own rows: refuse rather than test against it.
    for (const port of this.ports)
      if (this.query("SELECT 1", port).status === 0) throw new Error(`a ClickHouse server already listens on 127.0.0.1:${port} (left by another run?): stop it, then run again`);
    SHARD_PORTS.forEach((ports, i) => {
      const dir = join(this.dir, `shard${i + 1}`);
      for (const d of ["data", "tmp", "user_files", "format_schemas"]) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, "users.xml"), USERS);
      writeFileSync(join(dir, "config.xml"), config(dir, ports));
      const server = spawn(SERVER, [`--config-file=${join(dir, "config.xml")}`], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      server.stderr!.on("data", (d) => (stderr += d));
      server.on("exit", (code) => {
        if (code) process.stderr.write(`clickhouse shard ${i + 1} exited ${code}: ${stderr.slice(-2000)}\n`);
      });
      this.servers.push(server);
    });
    const deadline = Date.now() + timeoutMs;
    for (const port of this.ports) {
      const server = this.servers[this.ports.indexOf(port)];
      while (this.query("SELECT 1", port).status !== 0) {
        if (server.exitCode !== null) throw new Error(`ClickHouse on port ${port} exited ${server.exitCode} before it answered: ${this.log(port)}`);
        if (Date.now() > deadline) throw new Error(`ClickHouse on port ${port} did not answer within ${timeoutMs / 1000} s: ${this.log(port)}`);
        await Bun.sleep(250);
      }
    }
  }

  private log(port: number): string {
    const i = this.ports.indexOf(port);
    const file = join(this.dir, `shard${i + 1}`, "error.log");
    return existsSync(file) ? readFileSync(file, "utf8").slice(-2000) : "(no error log)";
  }

  /** Runs one statement with clickhouse-client; input goes to its stdin. */
  query(sql: string, port = this.ports[0], input?: string | Uint8Array, settings: string[] = []) {
    const r = spawnSync(CLIENT, ["--host", "127.0.0.1", "--port", String(port), ...settings, "--query", sql], { input, maxBuffer: 1 << 30 });
    return { status: r.status, out: r.stdout?.toString() ?? "", err: r.stderr?.toString() ?? "" };
  }

  /** Like query, but throws on failure. */
  run(sql: string, port = this.ports[0], input?: string | Uint8Array, settings: string[] = []): string {
    const r = this.query(sql, port, input, settings);
    if (r.status !== 0) throw new Error(`clickhouse-client on port ${port} failed (${r.status}) for: ${sql.slice(0, 200)}\n${r.err}`);
    return r.out;
  }

  /** Runs every statement of `modtrace schema --sql clickhouse --cluster fleet` on every server. */
  createTables(ddl: string) {
    const statements = ddl.split(/;\n/).map((s) => s.replace(/^--.*\n/gm, "").trim()).filter(Boolean);
    for (const port of this.ports) for (const s of statements) this.run(s, port);
  }

  /** Inserts JSONEachRow lines through the Distributed table, waiting until every shard has its rows. */
  insert(table: string, rows: string | Uint8Array) {
    this.run(`INSERT INTO ${table} FORMAT JSONEachRow`, this.ports[0], rows, [...SKIP_UNKNOWN_FIELDS, "--insert_distributed_sync=1"]);
  }

  async stop() {
    for (const s of this.servers) {
      if (s.exitCode === null) {
        s.kill("SIGTERM");
        await new Promise((resolve) => s.once("exit", resolve));
      }
    }
    this.servers = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}
