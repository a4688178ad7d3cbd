// Validates AsyncAPI documents with the official parser (@asyncapi/parser).
// Usage: node validate-asyncapi.mjs FILE...  (a FILE of `-` is read from stdin)
// Prints one JSON line per document: {"file", "diagnostics": [{severity, code, message, path}]}.
// Exits 1 when any document has a diagnostic of severity error.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");

const SEVERITY = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([k, v]) => [v, k]));

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  const { document, diagnostics } = await parser.parse(text, { source: file });
  const reported = diagnostics.map((d) => ({
    severity: SEVERITY[d.severity] ?? String(d.severity),
    code: String(d.code),
    message: d.message,
    path: d.path.join("."),
  }));
  if (document === undefined || diagnostics.some((d) => d.severity === DiagnosticSeverity.Error)) {
    failed = true;
  }
  console.log(JSON.stringify({ file, parsed: document !== undefined, diagnostics: reported }));
}
process.exit(failed ? 1 : 0);
