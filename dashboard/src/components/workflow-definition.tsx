// A workflow's definition as stored, in JSON or YAML (the CLI reads both), with a copy button. YAML is
// loaded only when asked for, so the page bundle stays small.
import { useEffect, useState } from "preact/hooks";
import type { WorkflowDefinition } from "../types.ts";
import { Card } from "./ui.tsx";

type Format = "json" | "yaml";

/** The definition in the chosen format. */
export function DefinitionView({ definition, hash }: { definition: WorkflowDefinition; hash: string }) {
  const [format, setFormat] = useState<Format>("json");
  const [yaml, setYaml] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const json = JSON.stringify(definition, null, 2);
  useEffect(() => {
    if (format !== "yaml" || yaml !== null) return;
    let live = true;
    void import("yaml").then((m) => {
      if (live) setYaml(m.stringify(definition));
    });
    return () => {
      live = false;
    };
  }, [format, yaml, definition]);
  const text = format === "json" ? json : (yaml ?? "");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Refused (insecure origin): the text is still selectable.
    }
  };
  return (
    <Card
      titleId="definition-title"
      title="Definition"
      aside={
        <div class="segmented">
          {(["json", "yaml"] as const).map((f) => (
            <button
              key={f}
              type="button"
              class={`btn btn-sm ${format === f ? "btn-primary" : "btn-secondary"}`}
              aria-pressed={format === f}
              onClick={() => setFormat(f)}
            >
              {f.toUpperCase()}
            </button>
          ))}
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => void copy()}>
            {copied ? "Copied" : "Copy"}
          </button>
        </div>
      }
    >
      <p class="muted small wrap-anywhere">
        The canonical JSON of this definition hashes to <code>{hash}</code>.
      </p>
      <pre class="code definition" data-testid="definition" data-format={format}>
        {format === "yaml" && yaml === null ? "Loading…" : text}
      </pre>
    </Card>
  );
}
