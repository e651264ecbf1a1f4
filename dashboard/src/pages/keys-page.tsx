// API keys of the org (admin only): create one (the key is shown once), list them, revoke one.
import { useState } from "preact/hooks";
import { PagedTable } from "../components/data-table.tsx";
import { Field, FormActions, useFieldForm } from "../components/field.tsx";
import { SecretOnce } from "../components/secret-once.tsx";
import { ActionError, Card, ConfirmDialog, Empty, Time, usePager } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { useAction, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import type { ApiKey, KeyCreated } from "../types-extra.ts";

const ROLES: ApiKey["role"][] = ["viewer", "approver", "operator", "admin"];

export function KeysPage() {
  const { api, who } = useSession();
  usePageTitle("API keys");
  const pager = usePager("keys");
  const list = usePolled(() => api.listKeys({ cursor: pager.cursor, limit: 50 }), [pager.cursor]);
  const now = useNow(false);
  const action = useAction();
  const [created, setCreated] = useState<KeyCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  if (!can(who.role, "keys")) {
    return (
      <div class="state state-error">
        <h1>API keys</h1>
        <p>Only an admin may see and manage the org's keys; your role is {who.role}.</p>
      </div>
    );
  }
  return (
    <>
      <div class="page-head">
        <div>
          <h1>API keys</h1>
          <p class="lead">Each key has one role in org {who.orgId}. Keys are stored only as a hash.</p>
        </div>
      </div>
      <Card titleId="new-key-title" title="New key" class="narrow">
        {created ? (
          <SecretOnce
            label={`Key ${created.name} (${created.role}):`}
            value={created.key}
            onDone={() => setCreated(null)}
          />
        ) : (
          <NewKeyForm
            onCreated={(k) => {
              setCreated(k);
              list.reload();
            }}
          />
        )}
      </Card>
      <Card titleId="keys-title" title="Keys">
        <ActionError error={action.failure} />
        <PagedTable
          list={list}
          pager={pager}
          what="keys"
          empty={<Empty title="No keys besides the bootstrap key." />}
          columns={["Name", "Role", "Key id", "Created", { name: "Actions", hidden: true }]}
          row={(k) => (
            <tr key={k.keyId} data-key-id={k.keyId} data-key-name={k.name}>
              <td data-label="Name">{k.name}</td>
              <td data-label="Role">
                <span class="role-badge" data-role={k.role}>
                  {k.role}
                </span>
              </td>
              <td data-label="Key id" class="mono small">
                {k.keyId}
              </td>
              <td data-label="Created">
                <Time iso={k.createdAt} now={now} /> <span class="muted">by {k.createdBy}</span>
              </td>
              <td data-label="">
                {k.keyId === who.keyId || k.platform ? (
                  <span class="muted small">{k.keyId === who.keyId ? "your key" : "platform key"}</span>
                ) : (
                  <button
                    type="button"
                    class="btn btn-danger-outline btn-sm"
                    onClick={() => setRevoking(k)}
                    aria-label={`Revoke ${k.name}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          )}
        />
      </Card>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke key ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke key"
        danger
        busy={action.busy === "revoke"}
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          const k = revoking;
          if (!k) return;
          void action
            .run("revoke", () => api.revokeKey(k.keyId))
            .then(() => {
              setRevoking(null);
              list.reload();
            });
        }}
      >
        <p>Whoever uses it is refused from the next request on. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}

function NewKeyForm({ onCreated }: { onCreated: (k: KeyCreated) => void }) {
  const { api } = useSession();
  const [name, setName] = useState("");
  const [role, setRole] = useState<ApiKey["role"]>("viewer");
  const { errors, failure, busy, submit } = useFieldForm({
    names: ["name", "role"],
    prefix: "key-",
    coerce: () => {
      const errors: Record<string, string> = {};
      if (!name.trim()) errors.name = "Name the key (who or what uses it).";
      return { values: {}, errors };
    },
    send: async () => {
      onCreated(await api.createKey(name.trim(), role));
      setName("");
    },
  });
  return (
    <form class="form" onSubmit={submit} aria-label="New key">
      <Field id="key-name" label="Name" required hint="Who or what uses it, e.g. ci-deploy" error={errors.name}>
        <input
          id="key-name"
          type="text"
          required
          maxLength={100}
          autoComplete="off"
          value={name}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        />
      </Field>
      <Field id="key-role" label="Role" required error={errors.role}>
        <select
          id="key-role"
          value={role}
          onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as ApiKey["role"])}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </Field>
      <FormActions failure={failure} busy={busy} label="Create key" busyLabel="Creating…" />
    </form>
  );
}
