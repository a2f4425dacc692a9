// Drives the connector with the official TypeScript SDK's MCP client, which checks every answer
// against its own schemas (zod). Run by tests/test_mcp_other_client.py:
//   node client.mjs http URL KEY CALLS_JSON
//   node client.mjs stdio CALLS_JSON COMMAND ARG...      (environment passed through)
// CALLS_JSON is a list of {"name": tool, "arguments": {...}}. Prints one JSON object: the server's
// name and negotiated version, the tool names, each call's result (or its protocol error), a ping.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [mode, ...rest] = process.argv.slice(2);
let transport, calls;
if (mode === "http") {
  const [url, key, callsJson] = rest;
  calls = JSON.parse(callsJson);
  transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
} else {
  const [callsJson, command, ...args] = rest;
  calls = JSON.parse(callsJson);
  transport = new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" });
}

const client = new Client({ name: "connector-tests", version: "1.0.0" });
await client.connect(transport);
const out = {
  server: client.getServerVersion(),
  protocolVersion: transport.protocolVersion ?? null,
  instructions: client.getInstructions() ?? null,
  tools: (await client.listTools()).tools.map((tool) => tool.name),
  calls: [],
};
for (const call of calls) {
  try {
    out.calls.push({ result: await client.callTool(call) });
  } catch (error) {
    out.calls.push({ error: { code: error.code ?? null, message: String(error.message) } });
  }
}
out.ping = await client.ping();
await client.close();
process.stdout.write(JSON.stringify(out) + "\n");
