// Inbound webhooks of a workflow: create one (its signing secret is shown once, with how to sign), list them,
// revoke one.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { useAction, useNow, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import type { Webhook, WebhookCreated } from "../types-extra.ts";
import { CardTable } from "./data-table.tsx";
import { Field } from "./field.tsx";
import { SecretOnce } from "./secret-once.tsx";
import { ActionError, Card, ConfirmDialog, Empty, NotLoaded, Time } from "./ui.tsx";

/** The webhooks tab of a workflow. */
export function WebhooksPanel({ workflow }: { workflow: string }) {
  const { api, who } = useSession();
  const list = usePolled(() => api.listWebhooks(workflow, { limit: 100 }), [workflow]);
  const now = useNow(false);
  const action = useAction();
  const mayEdit = can(who.role, "webhook");
  const [description, setDescription] = useState("");
  const [created, setCreated] = useState<WebhookCreated | null>(null);
  const [revoking, setRevoking] = useState<Webhook | null>(null);
  const origin = window.location.origin;

  const create = (e: Event) => {
    e.preventDefault();
    void action
      .run("create", async () => setCreated(await api.createWebhook(workflow, description.trim() || undefined)))
      .then((ok) => {
        if (!ok) return;
        setDescription("");
        list.reload();
      });
  };

  return (
    <>
      {mayEdit ? (
        <Card titleId="new-webhook-title" title="New webhook" class="narrow">
          {created ? (
            <SecretOnce
              label={`Signing secret of ${created.webhookId}:`}
              value={created.secret}
              onDone={() => setCreated(null)}
              extra={
                <p class="small">
                  POST a JSON body of parameters to <code data-testid="webhook-url">{`${origin}${created.url}`}</code>,
                  signed with the Standard Webhooks headers (<code>webhook-id</code>, <code>webhook-timestamp</code>,{" "}
                  <code>webhook-signature</code>) or GitHub's <code>X-Hub-Signature-256</code>.
                </p>
              }
            />
          ) : (
            <form class="form" onSubmit={create} aria-label="New webhook">
              <Field id="webhook-description" label="Description" hint="Who calls it, e.g. GitHub push on main">
                <input
                  id="webhook-description"
                  type="text"
                  maxLength={500}
                  value={description}
                  onInput={(e) => setDescription(e.currentTarget.value)}
                />
              </Field>
              <ActionError error={action.busy === null ? action.failure : null} />
              <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled={action.busy !== null}>
                  {action.busy === "create" ? "Creating…" : "Create webhook"}
                </button>
              </div>
            </form>
          )}
        </Card>
      ) : null}
      <Card titleId="webhooks-title" title="Webhooks">
        <p class="muted small">Each webhook starts a run of {workflow}; its secret is never shown again.</p>
        {list.data === undefined ? (
          <NotLoaded loaded={list} what="webhooks" />
        ) : list.data.items.length === 0 ? (
          <Empty title="No webhooks." />
        ) : (
          <CardTable columns={["Webhook", "URL", "Description", "Created", { name: "Actions", hidden: true }]}>
            {list.data.items.map((w) => (
              <tr key={w.webhookId} data-webhook={w.webhookId}>
                <td data-label="Webhook" class="mono small">
                  {w.webhookId}
                </td>
                <td data-label="URL" class="mono small wrap">
                  {w.url}
                </td>
                <td data-label="Description">{w.description ?? <span class="muted">—</span>}</td>
                <td data-label="Created">
                  <Time iso={w.createdAt} now={now} /> <span class="muted">by {w.createdBy}</span>
                </td>
                <td data-label="">
                  {mayEdit ? (
                    <button
                      type="button"
                      class="btn btn-danger-outline btn-sm"
                      aria-label={`Revoke ${w.webhookId}`}
                      onClick={() => setRevoking(w)}
                    >
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </CardTable>
        )}
      </Card>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this webhook?"
        confirmLabel="Revoke webhook"
        danger
        busy={action.busy === "revoke"}
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          const w = revoking;
          if (!w) return;
          void action
            .run("revoke", () => api.revokeWebhook(workflow, w.webhookId))
            .then(() => {
              setRevoking(null);
              list.reload();
            });
        }}
      >
        <p>
          Requests to <code>{revoking?.url}</code> are refused from now on.
        </p>
      </ConfirmDialog>
    </>
  );
}
